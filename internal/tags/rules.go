package tags

import (
	"slices"
	"strings"

	"github.com/hoist-dev/hoist/internal/gamelift"
)

// GameLift's tag rules beyond the model's (key 1-128 and value 0-256 characters, at most
// 200 tags in one request), which gamelift.Validate has already enforced.
//
// Which exception: GameLift's model documents TaggingFailedException as "invalid tag format
// or the maximum tag limit may have been exceeded" and lists it for TagResource,
// UntagResource and every Create that takes Tags, so both the reserved prefix and the
// 50-tag limit answer TaggingFailedException, at creation as in TagResource.
// InvalidRequestException stays for what the model constrains and for a malformed ARN.
const (
	maxTagsPerResource = 50
	reservedTagPrefix  = "aws:"
)

// checkTagKey refuses the prefix AWS reserves for its own tags, in any case: such tags can
// be neither set nor removed.
func checkTagKey(key string) error {
	if len(key) >= len(reservedTagPrefix) && strings.EqualFold(key[:len(reservedTagPrefix)], reservedTagPrefix) {
		return gamelift.TaggingFailed("Tag key %q: the prefix %q is reserved for AWS", key, reservedTagPrefix)
	}
	return nil
}

// withTags returns have with add applied: a key already there takes the new value in
// place, a new key is appended. Within one request the last value given for a key wins.
// The result may hold at most 50 tags. have is not changed.
func withTags(have, add []gamelift.Tag) ([]gamelift.Tag, error) {
	out := slices.Clone(have)
	for _, t := range add {
		key := gamelift.Value(t.Key)
		if err := checkTagKey(key); err != nil {
			return nil, err
		}
		tag := gamelift.Tag{Key: gamelift.String(key), Value: gamelift.String(gamelift.Value(t.Value))}
		if i := slices.IndexFunc(out, func(o gamelift.Tag) bool { return gamelift.Value(o.Key) == key }); i >= 0 {
			out[i] = tag
		} else {
			out = append(out, tag)
		}
	}
	if len(out) > maxTagsPerResource {
		return nil, gamelift.TaggingFailed("A resource can have at most %d tags; this request would leave it with %d", maxTagsPerResource, len(out))
	}
	return out, nil
}

// Create checks the Tags of a Create call, as TagResource does, and returns them as the
// new record keeps them.
func Create(tags []gamelift.Tag) ([]gamelift.Tag, error) {
	if len(tags) == 0 {
		return nil, nil
	}
	return withTags(nil, tags)
}
