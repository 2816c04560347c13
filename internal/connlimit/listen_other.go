//go:build !linux

package connlimit

import "time"

// setDeferAccept does nothing where TCP_DEFER_ACCEPT is not available: the grace alone
// tells a client on its way from one that sends nothing.
func setDeferAccept(uintptr, time.Duration) error { return nil }
