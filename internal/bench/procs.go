package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"
)

// Plan tells the simulated processes where to connect and as whom. Process i runs on
// Computes[i%len(Computes)].
type Plan struct {
	Procs    int           `json:"procs"`
	Computes []ComputePlan `json:"computes"`
	// Dials bounds the connections being set up at once.
	Dials int `json:"dials"`
	// Heartbeat is the time between a process's heartbeats (the first comes at a random
	// point within it, to spread them).
	Heartbeat time.Duration `json:"heartbeat"`
	// SDK runs the processes on Hoist's Go SDK, which reconnects by itself, instead of the
	// bench's lean client (HoldReady rather than Simulate).
	SDK bool `json:"sdk,omitempty"`
}

// ComputePlan is one registered compute: its SDK endpoint and its auth token.
type ComputePlan struct {
	Endpoint    string `json:"endpoint"` // RegisterCompute's GameLiftServiceSdkEndpoint
	FleetID     string `json:"fleetId"`
	ComputeName string `json:"computeName"`
	AuthToken   string `json:"authToken"`
}

// Event is what the simulated processes tell the bench.
type Event struct {
	Kind string `json:"k"` // EventReady, EventSession or EventError

	// EventReady: the connect phase is over.
	Ready      int    `json:"ready,omitempty"`      // processes connected and ActivateServerProcess answered 200
	Failed     int    `json:"failed,omitempty"`     // processes that could not be made ready
	StopReason string `json:"stopReason,omitempty"` // why dialing stopped early, "" when every process was tried
	FileLimit  uint64 `json:"fileLimit,omitempty"`  // the simulator's open-file limit

	// EventSession: a CreateGameSession push arrived and ActivateGameSession was answered.
	Name     string `json:"name,omitempty"`    // GameSessionName, which the bench sets to tell its calls apart
	PushAt   int64  `json:"push,omitempty"`    // wall clock, Unix nanoseconds
	ActiveAt int64  `json:"active,omitempty"`  // when the answer (200) to ActivateGameSession arrived
	Type     string `json:"type,omitempty"`    // EventError: what went wrong, as a short kind
	Message  string `json:"message,omitempty"` // EventError: an example message
}

// Event kinds.
const (
	EventReady   = "ready"
	EventSession = "session"
	EventError   = "error"
)

// portsPerSource is how many connections go from one loopback source address before the
// next (127.0.0.2, ...) is used: the ephemeral port range holds about 28,000.
const portsPerSource = 25000

// Simulate connects plan's processes, at most plan.Dials at a time, and makes each one
// ready; it emits one EventReady when the connect phase ends, then an EventSession for each
// game session a process is given, which it activates at once, until ctx ends. Dialing
// stops early, with a StopReason, when the open-file limit or the ephemeral ports run out.
// emit is called from many goroutines.
func Simulate(ctx context.Context, plan Plan, emit func(Event), log *slog.Logger) error {
	if len(plan.Computes) == 0 || plan.Procs <= 0 {
		return errors.New("simulate: the plan has no processes or no computes")
	}
	dials := max(plan.Dials, 1)
	if plan.Heartbeat < time.Second {
		plan.Heartbeat = time.Minute
	}
	clients, err := dialClients(plan)
	if err != nil {
		return err
	}

	var (
		ready, failed atomic.Int64
		stopOnce      sync.Once
		stopReason    string
		stopped       atomic.Bool
		conns         sync.WaitGroup
	)
	stop := func(reason string) {
		stopOnce.Do(func() { stopReason = reason; stopped.Store(true) })
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(dials)
	for i := 0; i < plan.Procs && !stopped.Load() && gctx.Err() == nil; i++ {
		g.Go(func() error {
			if stopped.Load() {
				return nil
			}
			p, err := connect(gctx, plan, i, clients[i/portsPerSource], emit)
			if err != nil {
				failed.Add(1)
				if reason := exhausted(err); reason != "" {
					stop(reason)
				} else if failed.Load() <= 3 {
					log.Warn("bench: a simulated process could not become ready", "process", i, "error", err)
				}
				return nil
			}
			ready.Add(1)
			conns.Add(1)
			go func() {
				defer conns.Done()
				p.serve(ctx, plan.Heartbeat)
			}()
			return nil
		})
	}
	g.Wait()
	limit, _ := fileLimit()
	emit(Event{Kind: EventReady, Ready: int(ready.Load()), Failed: int(failed.Load()), StopReason: stopReason, FileLimit: limit})
	<-ctx.Done()
	conns.Wait()
	return nil
}

// dialClients returns one HTTP client per loopback source address the plan needs: one
// when the processes fit in one address's ephemeral ports or the endpoint is not on
// loopback.
func dialClients(plan Plan) ([]*http.Client, error) {
	n := (plan.Procs + portsPerSource - 1) / portsPerSource
	u, err := url.Parse(plan.Computes[0].Endpoint)
	if err != nil {
		return nil, fmt.Errorf("simulate: SDK endpoint %q: %w", plan.Computes[0].Endpoint, err)
	}
	loopback := false
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.To4() != nil && ip.IsLoopback() {
		loopback = true
	}
	clients := make([]*http.Client, n)
	for i := range clients {
		d := &net.Dialer{Timeout: 30 * time.Second}
		if loopback && n > 1 {
			d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i))}
		}
		clients[i] = &http.Client{Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4}}
	}
	return clients, nil
}

// exhausted tells, for a dial error that means no more connections can be made, why.
func exhausted(err error) string {
	switch {
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE), strings.Contains(err.Error(), "too many open files"):
		limit, _ := fileLimit()
		return fmt.Sprintf("the simulator ran out of file descriptors (open-file limit %d): %v", limit, err)
	case errors.Is(err, syscall.EADDRNOTAVAIL), strings.Contains(err.Error(), "cannot assign requested address"):
		return fmt.Sprintf("the ephemeral ports ran out: %v", err)
	case strings.Contains(err.Error(), "503"):
		return fmt.Sprintf("the server refused more processes: %v", err)
	}
	return ""
}

// fileLimit is this process's soft limit on open files.
func fileLimit() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Errorf("get open file limit: %w", err)
	}
	return l.Cur, nil
}

// frame is the part of an SDK frame a simulated process reads.
type frame struct {
	Action          string `json:"Action"`
	RequestID       string `json:"RequestId"`
	StatusCode      int    `json:"StatusCode"`
	ErrorMessage    string `json:"ErrorMessage"`
	GameSessionID   string `json:"GameSessionId"`
	GameSessionName string `json:"GameSessionName"`
}

// simProc is one simulated game server process.
type simProc struct {
	id   string
	ws   *websocket.Conn
	emit func(Event)
	// pending holds, per ActivateGameSession request ID, the session's push.
	mu      sync.Mutex
	pending map[string]pushed
	sent    int
}

type pushed struct {
	name string
	at   int64
}

// connect opens process i's WebSocket and sends ActivateServerProcess, returning once the
// answer is 200.
func connect(ctx context.Context, plan Plan, i int, client *http.Client, emit func(Event)) (*simProc, error) {
	c := plan.Computes[i%len(plan.Computes)]
	id := "bench-proc-" + strconv.Itoa(i)
	q := url.Values{"pID": {id}, "sdkVersion": {"5.6.0"}, "sdkLanguage": {"Go"}, "ComputeId": {c.ComputeName},
		"FleetId": {c.FleetID}, "IdempotencyToken": {id}, "Authorization": {c.AuthToken}}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(dctx, strings.TrimSuffix(c.Endpoint, "/")+"/?"+q.Encode(), &websocket.DialOptions{HTTPClient: client})
	if err != nil {
		err = redacted{err, c.AuthToken} // the dial error quotes the URL, token and all
		if resp != nil {
			return nil, fmt.Errorf("connect %s: HTTP %d: %w", id, resp.StatusCode, err)
		}
		return nil, fmt.Errorf("connect %s: %w", id, err)
	}
	ws.SetReadLimit(1 << 20)
	p := &simProc{id: id, ws: ws, emit: emit, pending: map[string]pushed{}}
	port := 1024 + i%60000
	req := fmt.Sprintf(`{"Action":"ActivateServerProcess","RequestId":"ready-%d","SdkVersion":"5.6.0","SdkLanguage":"Go","Port":%d,"LogPaths":[]}`, i, port)
	if err := ws.Write(dctx, websocket.MessageText, []byte(req)); err != nil {
		ws.CloseNow()
		return nil, fmt.Errorf("%s: send ActivateServerProcess: %w", id, err)
	}
	// The answer is the first frame: nothing is pushed to a process before it is ready.
	_, b, err := ws.Read(dctx)
	if err != nil {
		ws.CloseNow()
		return nil, fmt.Errorf("%s: read ActivateServerProcess answer: %w", id, err)
	}
	var f frame
	if err := json.Unmarshal(b, &f); err != nil || f.Action != "ActivateServerProcess" || f.StatusCode != http.StatusOK {
		ws.CloseNow()
		return nil, fmt.Errorf("%s: ActivateServerProcess answered %.200s", id, b)
	}
	return p, nil
}

// serve reads p's frames until ctx ends or the connection closes: it activates each game
// session pushed, at once, and heartbeats every interval.
func (p *simProc) serve(ctx context.Context, interval time.Duration) {
	defer p.ws.CloseNow()
	var beats atomic.Int64
	var hb *time.Timer
	hb = time.AfterFunc(time.Hour, func() {
		n := beats.Add(1)
		msg := fmt.Sprintf(`{"Action":"HeartbeatServerProcess","RequestId":"hb-%d","HealthStatus":true}`, n)
		if p.write(ctx, msg) == nil {
			hb.Reset(interval - interval/10 + rand.N(interval/5)) // 60 s ± 10%
		}
	})
	// As the official SDKs do, the first beat goes as soon as the process is ready (Hoist
	// pushes it no session before then, or a second later); hb is set before it can read it.
	hb.Reset(0)
	defer hb.Stop()
	for {
		_, b, err := p.ws.Read(ctx)
		if err != nil {
			if ctx.Err() == nil {
				p.emit(Event{Kind: EventError, Type: "process: connection closed", Message: err.Error()})
			}
			return
		}
		now := time.Now().UnixNano()
		var f frame
		if err := json.Unmarshal(b, &f); err != nil {
			p.emit(Event{Kind: EventError, Type: "process: frame not JSON", Message: string(b)})
			continue
		}
		switch f.Action {
		case "CreateGameSession":
			p.mu.Lock()
			p.sent++
			rid := "act-" + strconv.Itoa(p.sent)
			p.pending[rid] = pushed{f.GameSessionName, now}
			p.mu.Unlock()
			id, _ := json.Marshal(f.GameSessionID)
			if err := p.write(ctx, fmt.Sprintf(`{"Action":"ActivateGameSession","RequestId":%q,"GameSessionId":%s}`, rid, id)); err != nil {
				p.emit(Event{Kind: EventError, Type: "process: send ActivateGameSession", Message: err.Error()})
			}
		case "ActivateGameSession":
			p.mu.Lock()
			got := p.pending[f.RequestID]
			delete(p.pending, f.RequestID)
			p.mu.Unlock()
			if f.StatusCode != http.StatusOK {
				p.emit(Event{Kind: EventError, Type: fmt.Sprintf("ActivateGameSession: %d", f.StatusCode), Message: f.ErrorMessage})
				continue
			}
			p.emit(Event{Kind: EventSession, Name: got.name, PushAt: got.at, ActiveAt: now})
		case "HeartbeatServerProcess":
			if f.StatusCode != http.StatusOK {
				p.emit(Event{Kind: EventError, Type: fmt.Sprintf("HeartbeatServerProcess: %d", f.StatusCode), Message: f.ErrorMessage})
			}
		}
	}
}

func (p *simProc) write(ctx context.Context, msg string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return p.ws.Write(ctx, websocket.MessageText, []byte(msg))
}

// ServeProcs is the simulator's side of a child process: it reads a Plan (one JSON line)
// from in, runs Simulate, and writes its Events to out as JSON lines, until in closes or
// ctx ends.
func ServeProcs(ctx context.Context, in io.Reader, out io.Writer, log *slog.Logger) error {
	r := bufio.NewReader(in)
	line, err := r.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("bench-procs: read the plan: %w", err)
	}
	var plan Plan
	if err := json.Unmarshal(line, &plan); err != nil {
		return fmt.Errorf("bench-procs: decode the plan: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // the bench closes our stdin (or dies) when it is done
		io.Copy(io.Discard, r)
		cancel()
	}()
	var mu sync.Mutex
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	emit := func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		enc.Encode(e)
		w.Flush()
	}
	if plan.SDK {
		return HoldReady(ctx, plan, emit, log)
	}
	return Simulate(ctx, plan, emit, log)
}

// redacted is an error whose message hides a secret it may quote.
type redacted struct {
	err    error
	secret string
}

func (r redacted) Error() string {
	if r.secret == "" {
		return r.err.Error()
	}
	return strings.ReplaceAll(r.err.Error(), r.secret, "REDACTED")
}

func (r redacted) Unwrap() error { return r.err }
