package awsproto

import (
	"errors"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/hoist-dev/hoist/internal/gamelift"
)

// decodeAndValidate is what the transport does with a body: decode into the operation's
// input, then validate. The property both fuzz targets check: no panic, and every refusal
// is a SerializationException (decode) or an InvalidRequestException (validation).
func decodeAndValidate(t *testing.T, c codec, body []byte) {
	inputs := []gamelift.Input{&gamelift.CreateGameSessionInput{}, &gamelift.CreateFleetInput{}, &gamelift.CreatePlayerSessionsInput{}}
	for _, in := range inputs {
		err := c.decode(body, in)
		want := "SerializationException"
		if err == nil {
			err, want = gamelift.Validate(in), "InvalidRequestException"
		}
		if err == nil {
			continue
		}
		var e *gamelift.Error
		if !errors.As(err, &e) || e.Code != want {
			t.Fatalf("body %q into %T: error %v, want a %s", body, in, err, want)
		}
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"FleetId":"fleet-1","MaximumPlayerSessionCount":4,"GameProperties":[{"Key":"map","Value":"harbor"}]}`,
		`{"Name":"f","ComputeType":"ANYWHERE","Locations":[{"Location":"custom-a"}],"RuntimeConfiguration":{"ServerProcesses":[{"LaunchPath":"/x","ConcurrentExecutions":1}]}}`,
		`{"GameSessionId":"x","PlayerIds":["a"],"PlayerDataMap":{"a":"b"}}`,
		`{"MaximumPlayerSessionCount":-1}`, `{"MaximumPlayerSessionCount":1e10}`, `[]`, `null`, `{`, `"x"`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) { decodeAndValidate(t, awsJSON{}, body) })
}

func FuzzDecodeCBOR(f *testing.F) {
	seeds := []any{
		map[string]any{"FleetId": "fleet-1", "MaximumPlayerSessionCount": 4, "GameProperties": []any{map[string]any{"Key": "k", "Value": "v"}}},
		map[string]any{"Name": "f", "ComputeType": "EC2", "RuntimeConfiguration": map[string]any{"ServerProcesses": []any{map[string]any{"LaunchPath": "/x", "ConcurrentExecutions": 2}}}},
		map[string]any{"GameSessionId": "x", "PlayerIds": []any{"a"}, "PlayerDataMap": map[string]any{"a": "b"}},
		map[string]any{"MaximumPlayerSessionCount": -1}, []any{1, 2}, "x", nil,
		map[string]any{"MaximumPlayerSessionCount": cbor.Tag{Number: 1, Content: 1.5}},
	}
	for _, s := range seeds {
		b, err := cbor.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0xbf, 0x61, 0x61, 0xff}) // indefinite-length map with a dangling key
	f.Add([]byte{0xa1, 0x78})             // truncated
	f.Fuzz(func(t *testing.T, body []byte) { decodeAndValidate(t, rpcV2CBOR{}, body) })
}
