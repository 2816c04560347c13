package flexmatch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// object is a JSON object that remembers its key order, so validation reports the first
// problem in the order the author wrote it.
type object struct {
	keys []string
	vals map[string]any
}

// decodeTree reads one JSON document into *object, []any, string, json.Number, bool and
// nil values. Duplicate keys are an error (encoding/json would keep the last silently),
// and so is anything after the document.
func decodeTree(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(stripComments(body)))
	dec.UseNumber()
	v, err := decodeValue(dec, "")
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &Error{Path: "", Message: "unexpected content after the rule set's closing brace"}
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, path string) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxError(dec, err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			obj := &object{vals: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, syntaxError(dec, err)
				}
				key, ok := kt.(string)
				if !ok {
					return nil, syntaxError(dec, fmt.Errorf("object key is not a string"))
				}
				kp := joinPath(path, key)
				if _, dup := obj.vals[key]; dup {
					return nil, &Error{Path: kp, Message: "duplicate key"}
				}
				v, err := decodeValue(dec, kp)
				if err != nil {
					return nil, err
				}
				obj.keys = append(obj.keys, key)
				obj.vals[key] = v
			}
			if _, err := dec.Token(); err != nil {
				return nil, syntaxError(dec, err)
			}
			return obj, nil
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := decodeValue(dec, fmt.Sprintf("%s[%d]", path, len(arr)))
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, syntaxError(dec, err)
			}
			return arr, nil
		}
		return nil, syntaxError(dec, fmt.Errorf("unexpected %q", t))
	default:
		return t, nil
	}
}

func syntaxError(dec *json.Decoder, err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return &Error{Path: "", Message: fmt.Sprintf("invalid JSON near byte %d: %v", dec.InputOffset(), err)}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// stripComments blanks // and /* */ comments outside strings. GameLift's own examples
// carry them, so rule sets copied from there parse. Offsets are kept: comments become
// spaces, newlines stay.
func stripComments(b []byte) []byte {
	if !bytes.Contains(b, []byte("/")) {
		return b
	}
	out := bytes.Clone(b)
	inString, escaped := false, false
	for i := 0; i < len(out); i++ {
		c := out[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch {
		case c == '"':
			inString = true
		case c == '/' && i+1 < len(out) && out[i+1] == '/':
			for ; i < len(out) && out[i] != '\n'; i++ {
				out[i] = ' '
			}
		case c == '/' && i+1 < len(out) && out[i+1] == '*':
			j := bytes.Index(out[i+2:], []byte("*/"))
			end := len(out)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			for k := i; k < end; k++ {
				if out[k] != '\n' {
					out[k] = ' '
				}
			}
			i = end - 1
		}
	}
	return out
}
