package gamelift

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// noBound marks a min or max the model leaves open.
const noBound = math.MinInt64

// Validator collects constraint violations in GameLift's wording:
// "Value 'x' at 'fleetId' failed to satisfy constraint: Member must ...".
type Validator struct {
	problems []string
}

// Input is a request shape that can check itself against the model.
type Input interface {
	validate(v *Validator, path string)
}

// Validate checks a request against every constraint of the model. It returns an
// InvalidRequestException naming each offending member, or nil.
func Validate(in Input) error {
	var v Validator
	restore := skipEmpty(in)
	in.validate(&v, "")
	restore()
	return v.Err()
}

// Err returns the collected problems as one InvalidRequestException, or nil.
func (v *Validator) Err() error {
	switch n := len(v.problems); n {
	case 0:
		return nil
	case 1:
		return InvalidRequest("1 validation error detected: %s", v.problems[0])
	default:
		return InvalidRequest("%d validation errors detected: %s", n, strings.Join(v.problems, "; "))
	}
}

func (v *Validator) fail(value, path, rule string) {
	v.problems = append(v.problems, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: Member must %s", value, path, rule))
}

// Required records a missing required member.
func (v *Validator) Required(path string, present bool) {
	if !present {
		v.fail("null", path, "not be null")
	}
}

// Length checks the size of a list or map.
func (v *Validator) Length(path string, n int, min, max int64) {
	if min != noBound && int64(n) < min {
		v.fail(fmt.Sprintf("with %d elements", n), path, "have length greater than or equal to "+strconv.FormatInt(min, 10))
	}
	if max != noBound && int64(n) > max {
		v.fail(fmt.Sprintf("with %d elements", n), path, "have length less than or equal to "+strconv.FormatInt(max, 10))
	}
}

// String checks a string member: presence, length in characters, pattern (whole value) and enum.
func (v *Validator) String(path string, s *string, required bool, min, max int64, pattern *regexp.Regexp, enum []string) {
	if s == nil {
		v.Required(path, !required)
		return
	}
	n := int64(utf8.RuneCountInString(*s))
	if min != noBound && n < min {
		v.fail(quote(*s), path, "have length greater than or equal to "+strconv.FormatInt(min, 10))
	}
	if max != noBound && n > max {
		v.fail(quote(*s), path, "have length less than or equal to "+strconv.FormatInt(max, 10))
	}
	if pattern != nil && !pattern.MatchString(*s) {
		v.fail(quote(*s), path, "satisfy regular expression pattern: "+strings.TrimSuffix(strings.TrimPrefix(pattern.String(), "^(?:"), ")$"))
	}
	if enum != nil && !slices.Contains(enum, *s) {
		v.fail(quote(*s), path, "satisfy enum value set: ["+strings.Join(enum, ", ")+"]")
	}
}

// Int32 checks an integer member's presence and range.
func (v *Validator) Int32(path string, n *int32, required bool, min, max int64) {
	if n == nil {
		v.Required(path, !required)
		return
	}
	v.intRange(path, int64(*n), min, max)
}

// Int64 checks a long member's presence and range.
func (v *Validator) Int64(path string, n *int64, required bool, min, max int64) {
	if n == nil {
		v.Required(path, !required)
		return
	}
	v.intRange(path, *n, min, max)
}

func (v *Validator) intRange(path string, n, min, max int64) {
	if min != noBound && n < min {
		v.fail(quote(strconv.FormatInt(n, 10)), path, "have value greater than or equal to "+strconv.FormatInt(min, 10))
	}
	if max != noBound && n > max {
		v.fail(quote(strconv.FormatInt(n, 10)), path, "have value less than or equal to "+strconv.FormatInt(max, 10))
	}
}

// quote shows a value in a message, cut short so a 256 KiB field does not fill the answer.
func quote(s string) string {
	const show = 128
	if utf8.RuneCountInString(s) > show {
		r := []rune(s)
		return "'" + string(r[:show]) + "...'"
	}
	return "'" + s + "'"
}

func listPath(path string, i int) string { return path + "." + strconv.Itoa(i+1) + ".member" }

func mapPath(path, key string) string { return path + "." + key + ".value" }
