package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Changes calls fn with the kind and key of every record another Store (another server)
// changes, until ctx ends. It listens on a connection of its own, opened again (1 s, then
// up to 10 s apart) whenever it breaks; fn("", "") then says that changes may have been
// missed, as it does once at the start.
func (s *Store) Changes(ctx context.Context, fn func(kind, key string)) error {
	wait := time.Second
	for ctx.Err() == nil {
		if err := s.listen(ctx, fn); err != nil && ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
			wait = min(2*wait, 10*time.Second)
			continue
		}
		wait = time.Second
	}
	return ctx.Err()
}

func (s *Store) listen(ctx context.Context, fn func(kind, key string)) error {
	conn, err := pgx.ConnectConfig(ctx, s.listenConfig)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN hoist_changes"); err != nil {
		return err
	}
	fn("", "")
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		origin, rest, _ := strings.Cut(n.Payload, " ")
		kind, key, ok := strings.Cut(rest, " ")
		if !ok || origin == s.origin {
			continue
		}
		fn(kind, key)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
