package flexmatch

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bodies to the parser: it never panics, every failure is an
// *Error, and every rule set it accepts can be matched against.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(withRules(`{"name": "a", "type": "compound", "statement": "xor(not(b), b)"}, {"name": "b", "type": "comparison", "measurements": "teams[*].players.attributes[mode]", "operation": "!="}`)))
	f.Add([]byte(`{"ruleLanguageVersion": "1.0" /* open`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rs, err := Parse(body)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%T %v", err, err)
			}
			return
		}
		ts := []Ticket{solo("a", 0, skill(1), map[string]int{"r": 10}), solo("b", 0, skill(2), map[string]int{"r": 20})}
		Match(rs, ts, t0)
	})
}
