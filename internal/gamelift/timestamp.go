package gamelift

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// Timestamp is a point in time as GameLift sends it: epoch seconds with milliseconds,
// a JSON number in AWS JSON 1.1 and a CBOR tag 1 (epoch) value in RPC v2 CBOR.
type Timestamp struct{ time.Time }

// At wraps t, cut to the millisecond GameLift keeps.
func At(t time.Time) *Timestamp { return &Timestamp{t.Truncate(time.Millisecond)} }

func (t Timestamp) seconds() float64 { return float64(t.UnixMilli()) / 1000 }

// MarshalJSON writes epoch seconds, e.g. 1469498468.057.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, t.seconds(), 'f', -1, 64), nil
}

// UnmarshalJSON reads epoch seconds (a number) as AWS JSON 1.1 sends them.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("timestamp must be a number of epoch seconds: %w", err)
	}
	return t.setSeconds(f)
}

// MarshalCBOR writes tag 1 with epoch seconds as a float64, as Smithy RPC v2 CBOR does.
func (t Timestamp) MarshalCBOR() ([]byte, error) {
	return cbor.Marshal(cbor.Tag{Number: 1, Content: t.seconds()})
}

// UnmarshalCBOR reads tag 1 holding an integer or a float of epoch seconds.
func (t *Timestamp) UnmarshalCBOR(b []byte) error {
	var tag cbor.Tag
	if err := cbor.Unmarshal(b, &tag); err != nil {
		return fmt.Errorf("timestamp must be a CBOR tag 1: %w", err)
	}
	if tag.Number != 1 {
		return fmt.Errorf("timestamp must be a CBOR tag 1, not tag %d", tag.Number)
	}
	switch v := tag.Content.(type) {
	case uint64:
		if v > math.MaxInt64/1000 {
			return fmt.Errorf("timestamp %d out of range", v)
		}
		return t.setSeconds(float64(v))
	case int64:
		return t.setSeconds(float64(v))
	case float64:
		return t.setSeconds(v)
	case float32:
		return t.setSeconds(float64(v))
	}
	return fmt.Errorf("timestamp tag holds %T, not a number", tag.Content)
}

func (t *Timestamp) setSeconds(f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e13 {
		return fmt.Errorf("timestamp %v out of range", f)
	}
	t.Time = time.UnixMilli(int64(math.Round(f * 1000))).UTC()
	return nil
}
