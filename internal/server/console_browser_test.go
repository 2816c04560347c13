package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
)

// Markup in names, descriptions and properties, which GameLift allows there.
const (
	scriptText = `<script>alert(1)</script>`
	imgText    = `<img src=x onerror=alert(2)>`
	propText   = `<b onmouseover=alert(3)>x</b>`
)

// The console in a real browser: unauthenticated it asks to sign in, a wrong secret is
// refused, and signed in, a fleet and then a game session made through the AWS SDK appear
// on the open pages without a reload; markup in names and properties is shown as text.
func TestConsoleInChromium(t *testing.T) {
	ctx := context.Background()
	browser := startChromium(t)
	binary := gameServerBinary(t)
	srv, gc := start(t, t.TempDir())

	// Unauthenticated, every page goes to the sign-in form.
	browser.navigate(t, srv.ConsoleURL+"fleets")
	browser.waitFor(t, "the sign-in page", "location.pathname === '/console/signin' && !!document.getElementById('signin')")
	if n := browser.text(t, "String(document.querySelectorAll('header').length)"); n != "0" {
		t.Error("the sign-in page shows the console's navigation")
	}

	signInWith := func(secret string) {
		t.Helper()
		browser.run(t, fmt.Sprintf(`window.hoistOldPage = true;
			document.getElementById('access_key_id').value = %s;
			document.getElementById('secret_access_key').value = %s;
			document.getElementById('signin').requestSubmit();`, jsString(testCreds.AccessKeyID), jsString(secret)))
		browser.waitFor(t, "the answer to the sign-in", "!window.hoistOldPage && document.readyState === 'complete'")
	}
	signInWith("not-the-secret")
	browser.waitFor(t, "the refusal", "location.pathname === '/console/signin' && document.querySelector('.error') !== null")
	if msg := browser.text(t, "document.querySelector('.error').textContent"); !strings.Contains(msg, "wrong") {
		t.Errorf("refusal = %q", msg)
	}
	if cookies := browser.text(t, "document.cookie"); cookies != "" {
		t.Errorf("cookies after a refused sign-in, or readable by scripts: %q", cookies)
	}

	signInWith(testCreds.SecretAccessKey)
	browser.waitFor(t, "the fleets page", "location.pathname === '/console/fleets' && document.querySelector('.empty') !== null")
	if cookies := browser.text(t, "document.cookie"); cookies != "" {
		t.Errorf("the session cookie is readable by scripts: %q", cookies)
	}

	// A fleet made now appears on the open page: no reload (the marker stays).
	browser.run(t, "window.hoistMarker = 'same page'")
	fa := must(gc.CreateFleet(ctx, &gl.CreateFleetInput{
		Name: aws.String("lobby " + imgText), Description: aws.String(scriptText),
		RuntimeConfiguration: runtimeOf(binary, 1),
	}))(t).FleetAttributes
	fleetID := aws.ToString(fa.FleetId)
	browser.waitFor(t, "the fleet appears live", fmt.Sprintf(
		"window.hoistMarker === 'same page' && !!document.querySelector('tr[data-fleet-id=%s]')", jsString(fleetID)))
	browser.waitFor(t, "the fleet goes ACTIVE live", fmt.Sprintf(
		"window.hoistMarker === 'same page' && document.querySelector('tr[data-fleet-id=%s] .status').textContent === 'ACTIVE'", jsString(fleetID)))
	// Markup is text: the DOM holds the characters, and no element was made of them.
	if got := browser.text(t, "document.querySelector('.fleet-description').textContent"); got != scriptText {
		t.Errorf("fleet description in the DOM = %q, want %q", got, scriptText)
	}
	if got := browser.text(t, "document.querySelector('.fleet-name').textContent"); got != "lobby "+imgText {
		t.Errorf("fleet name in the DOM = %q", got)
	}
	if n := browser.text(t, "String(document.querySelectorAll('#live script, #live img, img').length)"); n != "0" {
		t.Errorf("%s elements were made from names", n)
	}
	browser.screenshot(t, "console-fleets.png")

	// The fleet's page: events, the runtime configuration, the host and its process.
	browser.navigate(t, srv.ConsoleURL+"fleets/"+fleetID)
	browser.waitFor(t, "the fleet page", "document.getElementById('fleet-description') !== null && document.getElementById('processes') !== null")
	if got := browser.text(t, "document.getElementById('fleet-description').textContent"); got != scriptText {
		t.Errorf("fleet page description = %q", got)
	}
	page := browser.text(t, "document.getElementById('live').innerText")
	for _, want := range []string{"FLEET_CREATED", "FLEET_STATE_ACTIVE", binary, "hoist-local", "READY"} {
		if !strings.Contains(page, want) {
			t.Errorf("the fleet page lacks %q:\n%s", want, page)
		}
	}

	// A game session made through the SDK appears on the open sessions page, and goes
	// ACTIVE there.
	browser.navigate(t, srv.ConsoleURL+"sessions?fleet="+fleetID)
	browser.waitFor(t, "the sessions page", "document.querySelector('#live .empty') !== null")
	browser.run(t, "window.hoistMarker = 'sessions page'")
	gs := must(gc.CreateGameSession(ctx, &gl.CreateGameSessionInput{
		FleetId: fa.FleetId, MaximumPlayerSessionCount: aws.Int32(4), Name: aws.String(imgText),
		GameProperties: []types.GameProperty{{Key: aws.String("mode"), Value: aws.String(propText)}},
	}))(t).GameSession
	gsID := aws.ToString(gs.GameSessionId)
	row := fmt.Sprintf("document.querySelector('tr[data-game-session-id=%s]')", jsString(gsID))
	browser.waitFor(t, "the game session appears live", "window.hoistMarker === 'sessions page' && "+row+" !== null")
	browser.waitFor(t, "the game session goes ACTIVE live", "window.hoistMarker === 'sessions page' && "+row+".querySelector('.status').textContent === 'ACTIVE'")
	if got := browser.text(t, row+".querySelector('.session-name').textContent"); got != imgText {
		t.Errorf("session name in the DOM = %q, want %q", got, imgText)
	}
	must(gc.CreatePlayerSession(ctx, &gl.CreatePlayerSessionInput{GameSessionId: gs.GameSessionId, PlayerId: aws.String("alice")}))(t)
	browser.screenshot(t, "console-sessions.png")

	// Its page: properties as text, the player.
	browser.run(t, "window.hoistOldPage = true; "+row+".querySelector('.session-name').click()")
	browser.waitFor(t, "the session page", "!window.hoistOldPage && document.getElementById('properties') !== null && document.getElementById('players') !== null")
	if got := browser.text(t, "document.querySelector('#properties dd').textContent"); got != propText {
		t.Errorf("property in the DOM = %q, want %q", got, propText)
	}
	if got := browser.text(t, "document.getElementById('session-name').firstChild.textContent.trim()"); got != imgText {
		t.Errorf("session page name = %q", got)
	}
	if n := browser.text(t, "String(document.querySelectorAll('img, b, #live script').length)"); n != "0" {
		t.Errorf("%s elements were made from a name or property", n)
	}
	if !strings.Contains(browser.text(t, "document.getElementById('players').innerText"), "alice") {
		t.Error("the player session is not shown")
	}

	// On a phone's width the page fits: wide tables scroll in their own box.
	browser.call(t, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": true}, nil)
	browser.navigate(t, srv.ConsoleURL+"sessions?fleet="+fleetID)
	browser.waitFor(t, "the sessions page", row+" !== null")
	if fits := browser.text(t, "String(document.documentElement.scrollWidth <= 390)"); fits != "true" {
		t.Errorf("on a 390 px wide screen the page is %s px wide", browser.text(t, "String(document.documentElement.scrollWidth)"))
	}
	browser.screenshot(t, "console-sessions-phone.png")

	// Sign out: back to the sign-in page, and the console is closed again.
	browser.run(t, "window.hoistOldPage = true; document.getElementById('signout').click()")
	browser.waitFor(t, "signed out", "!window.hoistOldPage && location.pathname === '/console/signin' && document.readyState === 'complete'")
	browser.navigate(t, srv.ConsoleURL+"fleets")
	browser.waitFor(t, "the sign-in page again", "location.pathname === '/console/signin'")
}
