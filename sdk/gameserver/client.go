package gameserver

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
)

// What this SDK tells the service about itself, and the timing it shares with the
// official SDK: 20 s to answer a call, connect retried 7 times about 2 s apart, a
// heartbeat every 60 s with up to 10 s of jitter. A connection lost is retried until
// Destroy, at growing intervals from about 1 s to about 10 s, each drawn at random so that
// many processes losing the service at once (it restarted) come back spread out.
const (
	SDKVersion  = "5.6.0"
	SDKLanguage = "Go"
	SDKToolName = "Hoist"

	defaultCallTimeout    = 20 * time.Second
	connectTries          = 7
	connectRetryInterval  = 2 * time.Second
	dialTimeout           = 30 * time.Second // one try, handshake included
	defaultHealthInterval = 60 * time.Second
	defaultHealthJitter   = 10 * time.Second
	healthCheckTimeout    = 50 * time.Second
)

// The intervals between tries to connect again after a connection was lost (variables
// for tests).
var (
	reconnectFirst = time.Second
	reconnectMax   = 10 * time.Second
)

// Environment variables the official SDK reads, read the same way here.
const (
	EnvWebSocketURL = "GAMELIFT_SDK_WEBSOCKET_URL"
	EnvProcessID    = "GAMELIFT_SDK_PROCESS_ID"
	EnvHostID       = "GAMELIFT_SDK_HOST_ID"
	EnvFleetID      = "GAMELIFT_SDK_FLEET_ID"
	EnvAuthToken    = "GAMELIFT_SDK_AUTH_TOKEN"
	// Optional tuning, as durations ("20s"): SERVICE_CALL_TIMEOUT, HEALTHCHECK_INTERVAL,
	// HEALTHCHECK_MAX_JITTER.
	envCallTimeout    = "SERVICE_CALL_TIMEOUT"
	envHealthInterval = "HEALTHCHECK_INTERVAL"
	envHealthJitter   = "HEALTHCHECK_MAX_JITTER"
)

// Client is one game server process's connection to the service.
type Client struct {
	params         ServerParameters
	log            *slog.Logger
	callTimeout    time.Duration
	healthInterval time.Duration
	healthJitter   time.Duration
	idempotency    string
	http           *http.Client

	mu              sync.Mutex
	conn            *websocket.Conn
	attached        chan struct{} // closed, and made anew, when a new connection becomes conn
	pending         map[string]chan answer
	process         *ProcessParameters
	gameSessionID   string
	terminationTime time.Time
	closed          bool

	stop chan struct{}
	wg   sync.WaitGroup
}

type answer struct {
	status int
	msg    string
	frame  []byte
}

// Options tune a Client; the zero value takes the official SDK's defaults, or the
// environment's where set.
type Options struct {
	Logger         *slog.Logger
	CallTimeout    time.Duration
	HealthInterval time.Duration
	HealthJitter   time.Duration
	// TLSConfig is used for a wss:// WebSocketURL. When nil, the client trusts the
	// system's certificates and those in the PEM file $AWS_CA_BUNDLE names (a server's
	// self-signed certificate, say).
	TLSConfig *tls.Config
}

// EnvCABundle names a PEM file of certificates to trust besides the system's, as for
// the AWS CLI and SDKs.
const EnvCABundle = "AWS_CA_BUNDLE"

// httpClient is the client the WebSocket connects with, trusting what o says.
func httpClient(o Options) (*http.Client, error) {
	conf := o.TLSConfig
	if conf == nil {
		if file := os.Getenv(EnvCABundle); file != "" {
			pem, err := os.ReadFile(file)
			if err != nil {
				return nil, errorf("%s: %v", EnvCABundle, err)
			}
			pool, err := x509.SystemCertPool()
			if err != nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, errorf("%s: no PEM certificate in %s", EnvCABundle, file)
			}
			conf = &tls.Config{RootCAs: pool}
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = conf
	return &http.Client{Transport: tr}, nil
}

func envDuration(key string) time.Duration {
	d, _ := time.ParseDuration(os.Getenv(key))
	return d
}

// Connect opens the process's connection to the service (the official SDK's InitSDK).
func Connect(ctx context.Context, p ServerParameters, o Options) (*Client, error) {
	switch {
	case p.WebSocketURL == "":
		return nil, errorf("WebSocketURL is required")
	case p.ProcessID == "":
		return nil, errorf("ProcessID is required")
	case p.HostID == "" || p.FleetID == "":
		return nil, errorf("HostID and FleetID are required")
	case p.AuthToken == "":
		return nil, errorf("AuthToken is required")
	}
	c := &Client{
		params:         p,
		log:            cmp.Or(o.Logger, slog.Default()),
		callTimeout:    cmp.Or(o.CallTimeout, envDuration(envCallTimeout), defaultCallTimeout),
		healthInterval: cmp.Or(o.HealthInterval, envDuration(envHealthInterval), defaultHealthInterval),
		healthJitter:   cmp.Or(o.HealthJitter, envDuration(envHealthJitter), defaultHealthJitter),
		idempotency:    uuid.NewString(),
		pending:        map[string]chan answer{},
		attached:       make(chan struct{}),
		stop:           make(chan struct{}),
	}
	var err error
	if c.http, err = httpClient(o); err != nil {
		return nil, err
	}
	conn, err := c.dial(ctx, p.WebSocketURL, p.AuthToken)
	if err != nil {
		return nil, err
	}
	c.attach(conn)
	return c, nil
}

// ConnectFromEnvironment connects with the parameters in the GAMELIFT_SDK_* variables
// (the official SDK's InitSDK without parameters).
// A variable that is not set is named in the error, as a person sets it.
func ConnectFromEnvironment(ctx context.Context, o Options) (*Client, error) {
	var unset []string
	for _, k := range []string{EnvWebSocketURL, EnvProcessID, EnvHostID, EnvFleetID, EnvAuthToken} {
		if os.Getenv(k) == "" {
			unset = append(unset, k)
		}
	}
	switch len(unset) {
	case 0:
	case 1:
		return nil, errorf("%s is not set", unset[0])
	default:
		return nil, errorf("%s are not set", strings.Join(unset, ", "))
	}
	return Connect(ctx, ServerParameters{
		WebSocketURL: os.Getenv(EnvWebSocketURL), ProcessID: os.Getenv(EnvProcessID), HostID: os.Getenv(EnvHostID),
		FleetID: os.Getenv(EnvFleetID), AuthToken: os.Getenv(EnvAuthToken),
	}, o)
}

// dial connects to endpoint with token, retrying as the official SDK does; a refusal
// (401/403: a bad token) is final at once.
func (c *Client) dial(ctx context.Context, endpoint, token string) (*websocket.Conn, error) {
	return c.dialRetrying(ctx, endpoint, token, func(try int) (time.Duration, bool) {
		if try == 0 {
			return 0, true
		}
		return jitter(connectRetryInterval), try < connectTries
	})
}

// redial connects again after the connection was lost, until it succeeds, ctx ends or the
// token is refused; the first try comes after up to reconnectFirst, so that the processes
// of a host do not all dial at the same instant.
func (c *Client) redial(ctx context.Context, endpoint, token string) (*websocket.Conn, error) {
	return c.dialRetrying(ctx, endpoint, token, func(try int) (time.Duration, bool) {
		if try == 0 {
			return rand.N(reconnectFirst), true
		}
		return jitter(min(reconnectFirst<<min(try-1, 8), reconnectMax)), true
	})
}

// redactToken is err's message without token, which a dial error quotes in the URL.
func redactToken(err error, token string) string {
	if token == "" {
		return err.Error()
	}
	return strings.ReplaceAll(err.Error(), token, "REDACTED")
}

// jitter is d, give or take half of it.
func jitter(d time.Duration) time.Duration { return d/2 + rand.N(d) }

// dialRetrying connects to endpoint with token; before each try, wait tells how long to
// wait and whether to try at all. A refusal (401/403: a bad token) is final at once.
func (c *Client) dialRetrying(ctx context.Context, endpoint, token string, wait func(try int) (time.Duration, bool)) (*websocket.Conn, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, errorf("WebSocketURL %q: %v", endpoint, err)
	}
	q := url.Values{}
	q.Set("pID", c.params.ProcessID)
	q.Set("sdkVersion", SDKVersion)
	q.Set("sdkLanguage", SDKLanguage)
	q.Set("ComputeId", c.params.HostID)
	q.Set("FleetId", c.params.FleetID)
	q.Set("IdempotencyToken", c.idempotency)
	q.Set("Authorization", token)
	u.RawQuery = q.Encode()

	var lastErr error
	for try := 0; ; try++ {
		d, ok := wait(try)
		if !ok {
			return nil, errorf("connect to %s: %v", endpoint, lastErr)
		}
		if d > 0 {
			select {
			case <-ctx.Done():
				return nil, errorf("connect: %v (last error: %v)", ctx.Err(), lastErr)
			case <-time.After(d):
			}
		}
		dctx, cancel := context.WithTimeout(ctx, dialTimeout)
		conn, resp, err := websocket.Dial(dctx, u.String(), &websocket.DialOptions{
			HTTPHeader: http.Header{"User-Agent": {"hoist-gameserver-sdk/" + SDKVersion}}, HTTPClient: c.http,
		})
		cancel()
		if err == nil {
			conn.SetReadLimit(4 << 20)
			return conn, nil
		}
		lastErr = err
		c.log.Debug("gameserver: connect failed", "try", try+1, "error", redactToken(err, token))
		if resp != nil && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) {
			return nil, &Error{StatusCode: resp.StatusCode, Message: "the service refused the connection: check the auth token"}
		}
		if ctx.Err() != nil {
			return nil, errorf("connect: %v (last error: %v)", ctx.Err(), lastErr)
		}
	}
}

// attach makes conn the live connection and starts reading it.
func (c *Client) attach(conn *websocket.Conn) {
	c.mu.Lock()
	old := c.conn
	c.conn = conn
	close(c.attached)
	c.attached = make(chan struct{})
	c.mu.Unlock()
	if old != nil {
		old.Close(websocket.StatusNormalClosure, "reconnected")
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.read(conn)
	}()
}

// read delivers answers to waiting calls and runs pushes, until conn fails.
func (c *Client) read(conn *websocket.Conn) {
	for {
		_, frame, err := conn.Read(context.Background())
		if err != nil {
			c.lost(conn, err)
			return
		}
		var h struct {
			Action       string
			RequestId    string
			StatusCode   int
			ErrorMessage string
		}
		if json.Unmarshal(frame, &h) != nil {
			c.log.Warn("gameserver: frame is not JSON; ignored")
			continue
		}
		c.mu.Lock()
		ch, waiting := c.pending[h.RequestId]
		delete(c.pending, h.RequestId)
		c.mu.Unlock()
		if waiting {
			ch <- answer{status: h.StatusCode, msg: h.ErrorMessage, frame: frame}
			continue
		}
		if h.StatusCode != http.StatusOK && h.RequestId != "" {
			continue // an answer nobody waits for any more, or a failed push: dropped, as the official SDK does
		}
		c.push(h.Action, frame)
	}
}

// lost handles a broken connection: calls in flight fail, and the client reconnects
// unless it was closed.
func (c *Client) lost(conn *websocket.Conn, err error) {
	c.mu.Lock()
	current := c.conn == conn
	closed := c.closed
	if current {
		for id, ch := range c.pending {
			ch <- answer{msg: "connection lost"}
			delete(c.pending, id)
		}
	}
	c.mu.Unlock()
	if !current || closed {
		return
	}
	c.log.Warn("gameserver: connection lost; reconnecting", "error", err)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-c.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		c.mu.Lock()
		token := c.params.AuthToken
		endpoint := c.params.WebSocketURL
		c.mu.Unlock()
		conn, err := c.redial(ctx, endpoint, token)
		if err != nil {
			c.log.Error("gameserver: could not reconnect", "error", err)
			return
		}
		c.attach(conn)
		c.log.Info("gameserver: reconnected", "endpoint", endpoint)
	}()
}

// push runs one service-initiated frame.
func (c *Client) push(action string, frame []byte) {
	c.mu.Lock()
	pp := c.process
	c.mu.Unlock()
	switch action {
	case "CreateGameSession":
		var gs GameSession
		if err := json.Unmarshal(frame, &gs); err != nil {
			c.log.Error("gameserver: bad CreateGameSession", "error", err)
			return
		}
		gs.FleetID = c.params.FleetID
		c.mu.Lock()
		c.gameSessionID = gs.GameSessionID
		c.mu.Unlock()
		if pp != nil && pp.OnStartGameSession != nil {
			go pp.OnStartGameSession(gs)
		}
	case "UpdateGameSession":
		var u UpdateGameSession
		if err := json.Unmarshal(frame, &u); err != nil {
			c.log.Error("gameserver: bad UpdateGameSession", "error", err)
			return
		}
		if pp != nil && pp.OnUpdateGameSession != nil {
			go pp.OnUpdateGameSession(u)
		}
	case "TerminateProcess":
		var t struct{ TerminationTime int64 }
		json.Unmarshal(frame, &t)
		c.mu.Lock()
		c.terminationTime = terminationTime(t.TerminationTime)
		c.mu.Unlock()
		if pp != nil && pp.OnProcessTerminate != nil {
			go pp.OnProcessTerminate()
		}
	case "RefreshConnection":
		var r struct{ RefreshConnectionEndpoint, AuthToken string }
		if err := json.Unmarshal(frame, &r); err != nil || r.AuthToken == "" {
			c.log.Error("gameserver: bad RefreshConnection")
			return
		}
		c.mu.Lock()
		c.params.AuthToken = r.AuthToken
		if r.RefreshConnectionEndpoint != "" {
			c.params.WebSocketURL = r.RefreshConnectionEndpoint
		}
		endpoint := c.params.WebSocketURL
		c.mu.Unlock()
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			conn, err := c.dial(context.Background(), endpoint, r.AuthToken)
			if err != nil {
				c.log.Error("gameserver: refresh connection", "error", err)
				return
			}
			c.attach(conn)
		}()
	default:
		c.log.Debug("gameserver: unknown push ignored", "action", action)
	}
}

// resentOnReconnect are the calls sent again on the next connection when theirs is lost
// before the answer: repeating them is harmless, and failing them would end a game server
// the service never refused (one calling ProcessReady as the service restarts).
var resentOnReconnect = map[string]bool{"ActivateServerProcess": true}

// call sends one request and waits for its answer, decoding it into out when not nil.
func (c *Client) call(ctx context.Context, action string, req map[string]any, out any) error {
	if req == nil {
		req = map[string]any{}
	}
	for {
		next, err := c.callOnce(ctx, action, req, out)
		if next == nil || !resentOnReconnect[action] {
			return err
		}
		c.log.Debug("gameserver: connection lost during a call; sending it again once reconnected", "action", action)
		select {
		case <-next:
		case <-ctx.Done():
			return err
		case <-c.stop:
			return err
		case <-time.After(c.callTimeout):
			return err
		}
	}
}

// callOnce sends req on the current connection and waits for its answer. When that
// connection is lost first, it also returns a channel closed once the next one is up.
func (c *Client) callOnce(ctx context.Context, action string, req map[string]any, out any) (<-chan struct{}, error) {
	id := uuid.NewString()
	req["Action"], req["RequestId"] = action, id
	b, err := json.Marshal(req)
	if err != nil {
		return nil, errorf("encode %s: %v", action, err)
	}
	ch := make(chan answer, 1)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errorf("the SDK was destroyed")
	}
	conn, next := c.conn, c.attached
	c.pending[id] = ch
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}

	ctx, cancel := context.WithTimeout(ctx, c.callTimeout)
	defer cancel()
	if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
		forget()
		if ctx.Err() != nil {
			return nil, errorf("send %s: %v", action, err)
		}
		return next, errorf("send %s: %v", action, err)
	}
	select {
	case a := <-ch:
		if a.status == 0 {
			return next, errorf("%s: %s", action, a.msg)
		}
		if a.status != http.StatusOK {
			return nil, &Error{StatusCode: a.status, Message: a.msg}
		}
		if out != nil {
			if err := json.Unmarshal(a.frame, out); err != nil {
				return nil, errorf("decode %s answer: %v", action, err)
			}
		}
		return nil, nil
	case <-ctx.Done():
		forget()
		return nil, errorf("%s: no answer: %v", action, ctx.Err())
	}
}

// ProcessReady tells the service the process can host a game session, on p.Port, and
// starts heartbeats.
func (c *Client) ProcessReady(ctx context.Context, p ProcessParameters) error {
	if p.Port < 1 || p.Port > 60000 {
		return errorf("Port %d is outside 1-60000", p.Port)
	}
	logPaths := p.LogParameters.LogPaths
	if logPaths == nil {
		logPaths = []string{}
	}
	c.mu.Lock()
	c.process = &p
	c.mu.Unlock()
	err := c.call(ctx, "ActivateServerProcess", map[string]any{
		"SdkVersion": SDKVersion, "SdkLanguage": SDKLanguage, "SdkToolName": SDKToolName, "SdkToolVersion": SDKVersion,
		"Port": p.Port, "LogPaths": logPaths,
	}, nil)
	if err != nil {
		return err
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.heartbeats()
	}()
	return nil
}

// heartbeats reports health right away, then every interval with jitter, until Destroy.
func (c *Client) heartbeats() {
	for {
		c.heartbeat()
		wait := c.healthInterval
		if c.healthJitter > 0 {
			wait += time.Duration(rand.Int64N(int64(c.healthJitter))) - c.healthJitter/2
		}
		select {
		case <-c.stop:
			return
		case <-time.After(wait):
		}
	}
}

func (c *Client) heartbeat() {
	c.mu.Lock()
	pp := c.process
	c.mu.Unlock()
	healthy := true
	if pp != nil && pp.OnHealthCheck != nil {
		result := make(chan bool, 1)
		go func() { result <- pp.OnHealthCheck() }()
		select {
		case healthy = <-result:
		case <-time.After(healthCheckTimeout):
			healthy = false
		case <-c.stop:
			return
		}
	}
	if err := c.call(context.Background(), "HeartbeatServerProcess", map[string]any{"HealthStatus": healthy}, nil); err != nil {
		c.log.Warn("gameserver: heartbeat failed", "error", err)
	}
}

// ActivateGameSession tells the service the process has started the session it was given
// in OnStartGameSession and takes players.
func (c *Client) ActivateGameSession(ctx context.Context) error {
	id, err := c.GetGameSessionID()
	if err != nil {
		return err
	}
	return c.call(ctx, "ActivateGameSession", map[string]any{"GameSessionId": id}, nil)
}

// AcceptPlayerSession validates a player who connected with a player session ID.
func (c *Client) AcceptPlayerSession(ctx context.Context, playerSessionID string) error {
	return c.playerSessionCall(ctx, "AcceptPlayerSession", playerSessionID)
}

// RemovePlayerSession tells the service a player left, freeing the slot.
func (c *Client) RemovePlayerSession(ctx context.Context, playerSessionID string) error {
	return c.playerSessionCall(ctx, "RemovePlayerSession", playerSessionID)
}

func (c *Client) playerSessionCall(ctx context.Context, action, playerSessionID string) error {
	if playerSessionID == "" {
		return errorf("%s: player session ID is required", action)
	}
	id, err := c.GetGameSessionID()
	if err != nil {
		return err
	}
	return c.call(ctx, action, map[string]any{"GameSessionId": id, "PlayerSessionId": playerSessionID}, nil)
}

// DescribePlayerSessions lists player sessions by game session, player or ID.
func (c *Client) DescribePlayerSessions(ctx context.Context, req DescribePlayerSessionsRequest) (DescribePlayerSessionsResult, error) {
	var out DescribePlayerSessionsResult
	if req.GameSessionID == "" && req.PlayerID == "" && req.PlayerSessionID == "" {
		return out, errorf("DescribePlayerSessions: set a GameSessionID, PlayerID or PlayerSessionID")
	}
	b, _ := json.Marshal(req)
	var m map[string]any
	json.Unmarshal(b, &m)
	err := c.call(ctx, "DescribePlayerSessions", m, &out)
	return out, err
}

// UpdatePlayerSessionCreationPolicy opens or closes the hosted session to new players.
func (c *Client) UpdatePlayerSessionCreationPolicy(ctx context.Context, policy PlayerSessionCreationPolicy) error {
	if policy != AcceptAll && policy != DenyAll {
		return errorf("policy must be ACCEPT_ALL or DENY_ALL, not %q", policy)
	}
	id, err := c.GetGameSessionID()
	if err != nil {
		return err
	}
	return c.call(ctx, "UpdatePlayerSessionCreationPolicy", map[string]any{"GameSessionId": id, "PlayerSessionPolicy": string(policy)}, nil)
}

// ProcessEnding tells the service the process is shutting down; its game session ends.
func (c *Client) ProcessEnding(ctx context.Context) error {
	return c.call(ctx, "TerminateServerProcess", nil, nil)
}

// GetGameSessionID returns the ID of the session the process hosts.
func (c *Client) GetGameSessionID() (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gameSessionID == "" {
		return "", errorf("no game session: the process hosts none yet")
	}
	return c.gameSessionID, nil
}

// GetTerminationTime returns when the service will stop the process, once it said so.
func (c *Client) GetTerminationTime() (time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.terminationTime.IsZero() {
		return time.Time{}, errorf("no termination time: the service has not asked the process to end")
	}
	return c.terminationTime, nil
}

// Destroy stops heartbeats and closes the connection.
func (c *Client) Destroy() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	conn := c.conn
	close(c.stop)
	c.mu.Unlock()
	// A connection already broken has nothing left to close; that is not a failure.
	_ = conn.Close(websocket.StatusNormalClosure, "process ending")
	c.wg.Wait()
	return nil
}

// BackfillPlayer is a player of the hosted session, as StartMatchBackfill sends it: its
// team and the attributes the rule set reads (string, number, string list or string to
// number map values).
type BackfillPlayer struct {
	PlayerID   string
	Team       string
	Attributes map[string]any
	LatencyMs  map[string]int
}

// StartMatchBackfill asks FlexMatch for players to fill the hosted game session's open
// slots; players lists everyone in the session now, with their teams. It returns the
// backfill ticket's ID; the session's new MatchmakerData arrives with OnUpdateGameSession.
func (c *Client) StartMatchBackfill(ctx context.Context, configurationArn string, players []BackfillPlayer) (string, error) {
	id, err := c.GetGameSessionID()
	if err != nil {
		return "", err
	}
	wire := make([]map[string]any, len(players))
	for i, p := range players {
		attrs := map[string]map[string]any{}
		for name, v := range p.Attributes {
			switch v := v.(type) {
			case string:
				attrs[name] = map[string]any{"AttrType": "STRING", "S": v}
			case float64:
				attrs[name] = map[string]any{"AttrType": "DOUBLE", "N": v}
			case int:
				attrs[name] = map[string]any{"AttrType": "DOUBLE", "N": float64(v)}
			case []string:
				attrs[name] = map[string]any{"AttrType": "STRING_LIST", "SL": v}
			case map[string]float64:
				attrs[name] = map[string]any{"AttrType": "STRING_DOUBLE_MAP", "SDM": v}
			default:
				return "", errorf("StartMatchBackfill: attribute %s of player %s has an unsupported type %T", name, p.PlayerID, v)
			}
		}
		wire[i] = map[string]any{"PlayerId": p.PlayerID, "Team": p.Team, "PlayerAttributes": attrs, "LatencyInMs": p.LatencyMs}
	}
	var out struct{ TicketId string }
	err = c.call(ctx, "StartMatchBackfill", map[string]any{"GameSessionArn": id, "MatchmakingConfigurationArn": configurationArn, "Players": wire}, &out)
	return out.TicketId, err
}

// StopMatchBackfill cancels a backfill ticket of the hosted game session.
func (c *Client) StopMatchBackfill(ctx context.Context, configurationArn, ticketID string) error {
	id, err := c.GetGameSessionID()
	if err != nil {
		return err
	}
	return c.call(ctx, "StopMatchBackfill", map[string]any{"GameSessionArn": id, "MatchmakingConfigurationArn": configurationArn, "TicketId": ticketID}, nil)
}
