package connlimit

import (
	"syscall"
	"time"
)

// setDeferAccept sets TCP_DEFER_ACCEPT on the listening socket fd.
func setDeferAccept(fd uintptr, d time.Duration) error {
	return syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_DEFER_ACCEPT, int(d.Seconds()))
}
