package connlimit

import (
	"context"
	"fmt"
	"net"
	"syscall"
	"time"
)

// deferAccept is how long the kernel keeps a new TCP connection from Accept while the
// client has sent nothing (Linux; elsewhere connections are accepted at once).
const deferAccept = 5 * time.Second

// Listen opens a TCP listener on addr for a Listener: where the system allows it, a
// connection reaches Accept once its first bytes have arrived, or after deferAccept. A
// client's request is then there when the server first reads it, and connections that
// send nothing take no descriptor, nor a slot of the cap, until then.
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) { serr = setDeferAccept(fd, deferAccept) }); err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("defer accept: %w", serr)
		}
		return nil
	}}
	return lc.Listen(ctx, "tcp", addr)
}
