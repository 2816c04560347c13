package gamelift

import (
	"strings"

	"github.com/google/uuid"
)

// NewID makes a resource ID as GameLift's look: the prefix, a dash and a UUID.
func NewID(prefix string) string { return prefix + "-" + uuid.NewString() }

// IDOf turns an ID or an ARN (arn:...:fleet/fleet-1) into the ID.
func IDOf(idOrARN *string) string {
	v := Value(idOrARN)
	if strings.HasPrefix(v, "arn:") {
		return v[strings.LastIndex(v, "/")+1:]
	}
	return v
}
