package bench

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/hoist-dev/hoist/sdk/gameserver"
)

// HoldReady runs plan's processes on Hoist's Go SDK: each connects and calls ProcessReady,
// at most plan.Dials at a time; one EventReady tells when all have tried. They then stay
// connected, reconnecting by themselves when the connection drops, until ctx ends. They
// host no game sessions.
func HoldReady(ctx context.Context, plan Plan, emit func(Event), log *slog.Logger) error {
	if len(plan.Computes) == 0 || plan.Procs <= 0 {
		return errors.New("hold ready: the plan has no processes or no computes")
	}
	// The SDK logs each connection lost and won back; only its failures are wanted here.
	sdkLog := slog.New(errorsOnly{log.Handler()})
	var (
		mu      sync.Mutex
		clients []*gameserver.Client
		failed  atomic.Int64
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(plan.Dials, 1))
	for i := range plan.Procs {
		g.Go(func() error {
			c, err := readyProcess(gctx, plan, i, sdkLog)
			if err != nil {
				if failed.Add(1) <= 3 {
					log.Warn("bench: a process could not become ready", "process", i, "error", err)
				}
				return nil
			}
			mu.Lock()
			clients = append(clients, c)
			mu.Unlock()
			return nil
		})
	}
	g.Wait()
	limit, _ := fileLimit()
	emit(Event{Kind: EventReady, Ready: len(clients), Failed: int(failed.Load()), FileLimit: limit})
	<-ctx.Done()
	return nil
}

// readyProcess connects process i on the SDK and calls ProcessReady.
func readyProcess(ctx context.Context, plan Plan, i int, log *slog.Logger) (*gameserver.Client, error) {
	cp := plan.Computes[i%len(plan.Computes)]
	c, err := gameserver.Connect(ctx, gameserver.ServerParameters{
		WebSocketURL: cp.Endpoint, ProcessID: "bench-proc-" + strconv.Itoa(i), HostID: cp.ComputeName,
		FleetID: cp.FleetID, AuthToken: cp.AuthToken,
	}, gameserver.Options{Logger: log})
	if err != nil {
		return nil, redacted{err, cp.AuthToken}
	}
	if err := c.ProcessReady(ctx, gameserver.ProcessParameters{Port: 1024 + i%60000}); err != nil {
		c.Destroy()
		return nil, err
	}
	return c, nil
}

// errorsOnly is a slog handler passing on errors only.
type errorsOnly struct{ slog.Handler }

func (h errorsOnly) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }

func (h errorsOnly) WithAttrs(a []slog.Attr) slog.Handler { return errorsOnly{h.Handler.WithAttrs(a)} }

func (h errorsOnly) WithGroup(n string) slog.Handler { return errorsOnly{h.Handler.WithGroup(n)} }
