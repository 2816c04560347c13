package gamelift_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hoist-dev/hoist/internal/gamelift"
)

func validSession() *gamelift.CreateGameSessionInput {
	return &gamelift.CreateGameSessionInput{
		FleetId: gamelift.String("fleet-123"), MaximumPlayerSessionCount: gamelift.Int32(8),
		IdempotencyToken: gamelift.String("match-42"),
		GameProperties:   []gamelift.GameProperty{{Key: gamelift.String("map"), Value: gamelift.String("harbor")}},
	}
}

func TestValidateAgainstTheModel(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*gamelift.CreateGameSessionInput)
		wants []string // "" means valid
	}{
		{"valid", func(*gamelift.CreateGameSessionInput) {}, nil},
		{"fleet ARN", func(in *gamelift.CreateGameSessionInput) {
			in.FleetId = gamelift.String("arn:aws:gamelift:us-west-2:123456789012:fleet/fleet-123")
		}, nil},
		{"missing max players", func(in *gamelift.CreateGameSessionInput) { in.MaximumPlayerSessionCount = nil },
			[]string{"Value null at 'maximumPlayerSessionCount'", "must not be null"}},
		{"negative max players", func(in *gamelift.CreateGameSessionInput) { in.MaximumPlayerSessionCount = gamelift.Int32(-1) },
			[]string{"maximumPlayerSessionCount", "greater than or equal to 0"}},
		{"49-char token", func(in *gamelift.CreateGameSessionInput) {
			in.IdempotencyToken = gamelift.String(strings.Repeat("a", 49))
		},
			[]string{"idempotencyToken", "length less than or equal to 48"}},
		{"token with a space", func(in *gamelift.CreateGameSessionInput) { in.IdempotencyToken = gamelift.String("bad token") },
			[]string{"idempotencyToken", "regular expression pattern: [a-zA-Z0-9-]+"}},
		{"not a fleet", func(in *gamelift.CreateGameSessionInput) { in.FleetId = gamelift.String("notafleet") },
			[]string{"fleetId", "regular expression"}},
		{"17 game properties", func(in *gamelift.CreateGameSessionInput) {
			in.GameProperties = make([]gamelift.GameProperty, 17)
			for i := range in.GameProperties {
				in.GameProperties[i] = gamelift.GameProperty{Key: gamelift.String("k"), Value: gamelift.String("v")}
			}
		}, []string{"gameProperties", "length less than or equal to 16"}},
		{"33-char property key", func(in *gamelift.CreateGameSessionInput) {
			in.GameProperties[0].Key = gamelift.String(strings.Repeat("k", 33))
		},
			[]string{"gameProperties.1.member.key", "less than or equal to 32"}},
		{"game session data at the limit", func(in *gamelift.CreateGameSessionInput) {
			in.GameSessionData = gamelift.String(strings.Repeat("é", 262144))
		}, nil},
		{"game session data over the limit", func(in *gamelift.CreateGameSessionInput) {
			in.GameSessionData = gamelift.String(strings.Repeat("d", 262145))
		}, []string{"gameSessionData", "less than or equal to 262144"}},
		{"two problems", func(in *gamelift.CreateGameSessionInput) {
			in.MaximumPlayerSessionCount, in.Name = nil, gamelift.String("")
		}, []string{"2 validation errors detected", "maximumPlayerSessionCount", "'name'"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := validSession()
			tc.edit(in)
			err := gamelift.Validate(in)
			if tc.wants == nil {
				if err != nil {
					t.Fatalf("valid input refused: %v", err)
				}
				return
			}
			var e *gamelift.Error
			if !errors.As(err, &e) || e.Code != "InvalidRequestException" || e.Status != 400 {
				t.Fatalf("got %v, want InvalidRequestException", err)
			}
			for _, w := range tc.wants {
				if !strings.Contains(e.Message, w) {
					t.Errorf("message %q does not contain %q", e.Message, w)
				}
			}
		})
	}
}

func TestValidateNestedAndEnums(t *testing.T) {
	fleet := &gamelift.CreateFleetInput{
		Name: gamelift.String("f"), ComputeType: gamelift.String("BOGUS"),
		RuntimeConfiguration: &gamelift.RuntimeConfiguration{ServerProcesses: []gamelift.ServerProcess{
			{LaunchPath: gamelift.String("/x"), ConcurrentExecutions: gamelift.Int32(0)},
		}},
	}
	err := gamelift.Validate(fleet)
	for _, w := range []string{"enum value set: [EC2, ANYWHERE]", "runtimeConfiguration.serverProcesses.1.member.concurrentExecutions"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("CreateFleet error %v does not contain %q", err, w)
		}
	}
	players := &gamelift.CreatePlayerSessionsInput{
		GameSessionId: gamelift.String("arn:aws:gamelift:us-west-2::gamesession/fleet-1/x"), PlayerIds: []string{"p1"},
		PlayerDataMap: map[string]string{"p1": strings.Repeat("x", 2049)},
	}
	if err := gamelift.Validate(players); err == nil || !strings.Contains(err.Error(), "playerDataMap.p1.value") {
		t.Errorf("PlayerDataMap value of 2049 chars: %v", err)
	}
}
