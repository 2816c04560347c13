package tags

import (
	"slices"
	"strconv"
	"testing"

	"github.com/hoist-dev/hoist/internal/gamelift"
)

func tagList(kv ...string) []gamelift.Tag {
	var tags []gamelift.Tag
	for i := 0; i < len(kv); i += 2 {
		tags = append(tags, gamelift.Tag{Key: gamelift.String(kv[i]), Value: gamelift.String(kv[i+1])})
	}
	return tags
}

func TestWithTags(t *testing.T) {
	fifty := make([]string, 0, 100)
	for i := range 50 {
		fifty = append(fifty, "k"+strconv.Itoa(i), "")
	}
	for _, tc := range []struct {
		name      string
		have, add []gamelift.Tag
		want      []gamelift.Tag
		code      string
	}{
		{name: "new keys follow", have: tagList("a", "1"), add: tagList("b", "2"), want: tagList("a", "1", "b", "2")},
		{name: "a key there takes the new value in place", have: tagList("a", "1", "b", "2"), add: tagList("a", "3"), want: tagList("a", "3", "b", "2")},
		{name: "the last value in a request wins", add: tagList("a", "1", "a", "2"), want: tagList("a", "2")},
		{name: "keys are case-sensitive", have: tagList("a", "1"), add: tagList("A", "2"), want: tagList("a", "1", "A", "2")},
		{name: "50 is the limit", have: tagList(fifty[:98]...), add: tagList("x", ""), want: append(tagList(fifty[:98]...), tagList("x", "")...)},
		{name: "51 is over", have: tagList(fifty...), add: tagList("x", ""), code: "TaggingFailedException"},
		{name: "replacing at 50", have: tagList(fifty...), add: tagList("k0", "v"), want: append(tagList("k0", "v"), tagList(fifty[2:]...)...)},
		{name: "aws: is reserved", add: tagList("aws:x", ""), code: "TaggingFailedException"},
		{name: "in any case", add: tagList("aWs:x", ""), code: "TaggingFailedException"},
		{name: "aws alone is a key", add: tagList("aws", ""), want: tagList("aws", "")},
	} {
		before := slices.Clone(tc.have)
		got, err := withTags(tc.have, tc.add)
		switch {
		case tc.code != "":
			if !gamelift.IsCode(err, tc.code) {
				t.Errorf("%s: err = %v, want %s", tc.name, err, tc.code)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case !slices.EqualFunc(got, tc.want, func(a, b gamelift.Tag) bool { return *a.Key == *b.Key && *a.Value == *b.Value }):
			t.Errorf("%s: got %d tags, want %d", tc.name, len(got), len(tc.want))
		}
		if !slices.Equal(tc.have, before) {
			t.Errorf("%s: have was changed", tc.name)
		}
	}
}
