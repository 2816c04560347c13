package sdkhost

import (
	"encoding/json"
	"testing"
)

// FuzzFrame: any bytes a process sends either decode to an envelope or are refused with
// an error, never a panic; and the answer built for them is one JSON object carrying the
// same Action and RequestId, whatever they hold.
func FuzzFrame(f *testing.F) {
	for _, seed := range []string{
		`{"Action":"ActivateServerProcess","RequestId":"c175","SdkVersion":"5.6.0","SdkLanguage":"Go","Port":17777,"LogPaths":[]}`,
		`{"Action":"HeartbeatServerProcess","RequestId":"8986","HealthStatus":true}`,
		`{"Action":"AcceptPlayerSession","RequestId":"4302","GameSessionId":"arn:x/tok","PlayerSessionId":"psess-abc"}`,
		`{"RequestId":"x"}`, `{"Action":5}`, `[]`, `null`, `not json`, `{"Action":"\u0000","RequestId":"\ud800"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		env, err := decodeEnvelope(frame)
		if err != nil {
			env = Envelope{}
		}
		out, err := encodeFrame(env, 400, "refused", map[string]any{"Extra": string(frame)})
		if err != nil {
			t.Fatalf("encode answer to %q: %v", frame, err)
		}
		var back struct {
			Action, RequestId string
			StatusCode        int
		}
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("answer %q is not JSON: %v", out, err)
		}
		want, _ := json.Marshal(env)
		var w Envelope
		json.Unmarshal(want, &w)
		if back.Action != w.Action || back.RequestId != w.RequestID || back.StatusCode != 400 {
			t.Fatalf("answer %q lost the envelope %+v", out, w)
		}
	})
}
