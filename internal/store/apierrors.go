package store

import (
	"errors"
	"fmt"

	"github.com/hoist-dev/hoist/internal/gamelift"
)

// NotFoundAs maps a store miss to GameLift's NotFoundException with the message given;
// other errors pass wrapped in it.
func NotFoundAs(err error, format string, args ...any) error {
	if errors.Is(err, ErrNotFound) {
		return gamelift.NotFound(format, args...)
	}
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
}

// PageError maps a page token the store did not issue to InvalidRequestException.
func PageError(err error) error {
	if errors.Is(err, ErrBadToken) {
		return gamelift.InvalidRequest("Invalid NextToken")
	}
	return err
}
