package server_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
)

// With no player gateway, each player gets the ACTIVE game session's own endpoint and no
// token; a session not ACTIVE yet is refused.
func TestGetPlayerConnectionDetails(t *testing.T) {
	ctx := context.Background()
	w := newSDKWorld(t)
	_, gs := activeSession(t, w, "proc-a", 7600, "conn-1", 4)

	out := must(w.api.GetPlayerConnectionDetails(ctx, &gl.GetPlayerConnectionDetailsInput{GameSessionId: gs.GameSessionId, PlayerIds: []string{"p1", "p2"}}))(t)
	if aws.ToString(out.GameSessionId) != aws.ToString(gs.GameSessionId) || len(out.PlayerConnectionDetails) != 2 {
		t.Fatalf("GetPlayerConnectionDetails = %+v", out)
	}
	for i, d := range out.PlayerConnectionDetails {
		if want := []string{"p1", "p2"}[i]; aws.ToString(d.PlayerId) != want {
			t.Errorf("detail %d is for %s, want %s", i, aws.ToString(d.PlayerId), want)
		}
		if len(d.Endpoints) != 1 || aws.ToString(d.Endpoints[0].IpAddress) != "127.0.0.1" || aws.ToInt32(d.Endpoints[0].Port) != 7600 {
			t.Errorf("endpoints = %+v", d.Endpoints)
		}
		if d.PlayerGatewayToken != nil || d.Expiration != nil {
			t.Errorf("a gateway token without a gateway: %v, %v", d.PlayerGatewayToken, d.Expiration)
		}
	}

	startProcess(t, w, "proc-b", 7601, false) // never activates its session
	activating := must(w.createSession(ctx, "conn-2", 4))(t)
	_, err := w.api.GetPlayerConnectionDetails(ctx, &gl.GetPlayerConnectionDetailsInput{GameSessionId: activating.GameSessionId, PlayerIds: []string{"p1"}})
	apiError(t, err, "InvalidGameSessionStatusException")

	_, err = w.api.GetPlayerConnectionDetails(ctx, &gl.GetPlayerConnectionDetailsInput{GameSessionId: aws.String(aws.ToString(gs.GameSessionId) + "x"), PlayerIds: []string{"p1"}})
	apiError(t, err, "NotFoundException")
	players := make([]string, 26)
	for i := range players {
		players[i] = "player-" + string(rune('a'+i))
	}
	// The model allows 25 players a call; more fails its validation, as every list does.
	_, err = w.api.GetPlayerConnectionDetails(ctx, &gl.GetPlayerConnectionDetailsInput{GameSessionId: gs.GameSessionId, PlayerIds: players}, withoutClientValidation)
	apiError(t, err, "InvalidRequestException")
	_, err = w.api.GetPlayerConnectionDetails(ctx, &gl.GetPlayerConnectionDetailsInput{GameSessionId: gs.GameSessionId, PlayerIds: []string{}}, withoutClientValidation)
	apiError(t, err, "InvalidRequestException")
}
