package awsproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/fxamacker/cbor/v2"

	"github.com/hoist-dev/hoist/internal/gamelift"
)

// codec is one of the two wire protocols.
type codec interface {
	decode(body []byte, v any) error
	encode(w http.ResponseWriter, status int, v any)
	encodeError(w http.ResponseWriter, e *gamelift.Error)
}

// awsJSON is AWS JSON 1.1: POST / with X-Amz-Target: GameLift.<Operation>.
type awsJSON struct{}

func (awsJSON) decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return gamelift.Serialization("could not read the request body as JSON for this operation: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return gamelift.Serialization("unexpected data after the JSON request body")
	}
	return nil
}

func (awsJSON) encode(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"__type":"InternalFailure","message":"could not encode the response"}`)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	w.Write(b)
}

func (c awsJSON) encodeError(w http.ResponseWriter, e *gamelift.Error) {
	w.Header().Set("X-Amzn-Errortype", e.Code)
	c.encode(w, e.Status, wireError{Type: e.Code, Message: e.Message})
}

type wireError struct {
	Type    string `json:"__type" cbor:"__type"`
	Message string `json:"message" cbor:"message"`
}

// rpcV2CBOR is Smithy RPC v2 CBOR: POST /service/GameLift/operation/<Operation>.
type rpcV2CBOR struct{}

var (
	cborDecoder = mustDecMode(cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		FieldNameMatching: cbor.FieldNameMatchingCaseSensitive,
		MaxNestedLevels:   32,
		MaxArrayElements:  65536,
		MaxMapPairs:       65536,
		UTF8:              cbor.UTF8RejectInvalid,
	})
	cborEncoder = mustEncMode(cbor.EncOptions{})
)

func mustDecMode(o cbor.DecOptions) cbor.DecMode {
	m, err := o.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}

func mustEncMode(o cbor.EncOptions) cbor.EncMode {
	m, err := o.EncMode()
	if err != nil {
		panic(err)
	}
	return m
}

func (rpcV2CBOR) decode(body []byte, v any) error {
	if len(body) == 0 {
		return nil
	}
	rest, err := cborDecoder.UnmarshalFirst(body, v)
	if err != nil {
		return gamelift.Serialization("could not read the request body as CBOR for this operation: %v", err)
	}
	if len(rest) > 0 {
		return gamelift.Serialization("unexpected data after the CBOR request body")
	}
	return nil
}

func (rpcV2CBOR) encode(w http.ResponseWriter, status int, v any) {
	b, err := cborEncoder.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = cborEncoder.Marshal(wireError{Type: "InternalFailure", Message: "could not encode the response"})
	}
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.WriteHeader(status)
	w.Write(b)
}

// cborError carries the message twice: the protocol's generic "message", and the model's
// exception member "Message", which the AWS SDK's typed exceptions read.
type cborError struct {
	Type         string `cbor:"__type"`
	Message      string `cbor:"message"`
	ModelMessage string `cbor:"Message"`
}

func (c rpcV2CBOR) encodeError(w http.ResponseWriter, e *gamelift.Error) {
	c.encode(w, e.Status, cborError{Type: e.Code, Message: e.Message, ModelMessage: e.Message})
}
