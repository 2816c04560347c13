package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"
	"github.com/coder/websocket"

	"github.com/hoist-dev/hoist/internal/certs"
	"github.com/hoist-dev/hoist/internal/server"
	"github.com/hoist-dev/hoist/sdk/gameserver"
)

// startTLS runs a real server with a self-signed certificate in dataDir, and a GameLift
// client that trusts it.
func startTLS(t *testing.T, dataDir string, edit func(*server.Config)) (*server.Server, *gl.Client) {
	t.Helper()
	cfg := server.Config{
		Addr: "127.0.0.1:0", DataDir: dataDir, Credentials: testCreds, Logger: quietLogger(),
		NoLocalAgent: true, TLS: &server.TLSConfig{SelfSigned: true},
	}
	if edit != nil {
		edit(&cfg)
	}
	srv, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	return srv, tlsClient(t, srv)
}

// tlsClient is a GameLift client (AWS SDK for Go v2) that trusts srv's certificate only
// through its CA bundle file, as AWS_CA_BUNDLE would make it.
func tlsClient(t *testing.T, srv *server.Server) *gl.Client {
	t.Helper()
	hc := must(certs.HTTPClient(0, srv.CABundle))(t)
	return gl.New(gl.Options{
		Region: "us-west-2", BaseEndpoint: aws.String(srv.Endpoint), HTTPClient: hc, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(testCreds.AccessKeyID, testCreds.SecretAccessKey, ""),
	})
}

// registerAnywhere makes an Anywhere fleet with one compute and returns the fleet, the
// SDK endpoint RegisterCompute handed out, and an auth token.
func registerAnywhere(t *testing.T, api *gl.Client) (fleetID, endpoint, token string) {
	t.Helper()
	ctx := context.Background()
	fa := anywhereFleet(t, api, "custom-tls")
	reg := must(api.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: fa.FleetId, ComputeName: aws.String("host-1"),
		IpAddress: aws.String("127.0.0.1"), Location: aws.String("custom-tls")}))(t)
	tok := must(api.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: fa.FleetId, ComputeName: aws.String("host-1")}))(t)
	return aws.ToString(fa.FleetId), aws.ToString(reg.Compute.GameLiftServiceSdkEndpoint), aws.ToString(tok.AuthToken)
}

// Over TLS, everything is https:// and wss://: a game server on Hoist's Go SDK, trusting
// the self-signed certificate through AWS_CA_BUNDLE, connects to the endpoint
// RegisterCompute hands out, becomes ready, and hosts a game session created over https
// with the AWS SDK for Go v2, which goes ACTIVE.
func TestTLSGameSessionGoesActive(t *testing.T) {
	srv, api := startTLS(t, t.TempDir(), nil)
	if !strings.HasPrefix(srv.Endpoint, "https://") || !strings.HasPrefix(srv.SDKEndpoint, "wss://") || !strings.HasPrefix(srv.ConsoleURL, "https://") {
		t.Fatalf("endpoints %s, %s, %s: want https:// and wss://", srv.Endpoint, srv.SDKEndpoint, srv.ConsoleURL)
	}
	fleetID, endpoint, token := registerAnywhere(t, api)
	if endpoint != srv.SDKEndpoint {
		t.Fatalf("RegisterCompute's GameLiftServiceSdkEndpoint is %q, want %q", endpoint, srv.SDKEndpoint)
	}

	t.Setenv(gameserver.EnvCABundle, srv.CABundle)
	ctx := context.Background()
	gs, err := gameserver.Connect(ctx, gameserver.ServerParameters{WebSocketURL: endpoint, ProcessID: "p-tls", HostID: "host-1",
		FleetID: fleetID, AuthToken: token}, gameserver.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer gs.Destroy()
	started := make(chan gameserver.GameSession, 1)
	if err := gs.ProcessReady(ctx, gameserver.ProcessParameters{Port: 7777, OnStartGameSession: func(s gameserver.GameSession) {
		started <- s
		gs.ActivateGameSession(ctx)
	}}); err != nil {
		t.Fatal(err)
	}
	out := must(api.CreateGameSession(ctx, &gl.CreateGameSessionInput{FleetId: &fleetID, Location: aws.String("custom-tls"),
		MaximumPlayerSessionCount: aws.Int32(2)}))(t)
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the game server was not given the session")
	}
	eventually(t, "the session is ACTIVE", func() bool {
		d := must(api.DescribeGameSessions(ctx, &gl.DescribeGameSessionsInput{GameSessionId: out.GameSession.GameSessionId}))(t)
		return d.GameSessions[0].Status == types.GameSessionStatusActive
	})
}

// The TLS port speaks only TLS: a plain ws:// client and a plain HTTP client are refused,
// while a TLS WebSocket client that verifies nothing (as the official C++ SDK's does not)
// connects and is answered. A client that does verify and is not given the certificate
// is refused by its own TLS. Failed handshakes, which anyone can cause, are logged at
// debug only.
func TestTLSPortRefusesPlainClients(t *testing.T) {
	var logs logBuffer
	srv, api := startTLS(t, t.TempDir(), func(c *server.Config) { c.Logger = logs.logger() })
	fleetID, endpoint, token := registerAnywhere(t, api)
	q := url.Values{"pID": {"p-raw"}, "sdkVersion": {"5.6.0"}, "sdkLanguage": {"Cpp"}, "ComputeId": {"host-1"},
		"FleetId": {fleetID}, "IdempotencyToken": {"idem-1"}, "Authorization": {token}}
	hostPath := strings.TrimPrefix(endpoint, "wss://") + "/?" + q.Encode()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	if c, _, err := websocket.Dial(ctx, "ws://"+hostPath, nil); err == nil {
		c.CloseNow()
		t.Fatal("a plain ws:// client connected to the TLS port")
	}
	if resp, err := http.Get("http://" + strings.TrimPrefix(srv.Endpoint, "https://") + "/console/"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("plain HTTP to the TLS port: %s, want 400", resp.Status)
		}
	}
	if c, _, err := websocket.Dial(ctx, "wss://"+hostPath, nil); err == nil {
		c.CloseNow()
		t.Fatal("a client that does not trust the self-signed certificate connected")
	}

	eventually(t, "the failed handshake is logged at debug", func() bool {
		return strings.Contains(logs.String(), "level=DEBUG msg=\"http: TLS handshake error")
	})
	if strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("failed TLS handshakes were logged at warn:\n%s", logs.String())
	}

	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	c, _, err := websocket.Dial(ctx, "wss://"+hostPath, &websocket.DialOptions{HTTPClient: insecure})
	if err != nil {
		t.Fatalf("a TLS WebSocket client: %v", err)
	}
	defer c.CloseNow()
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"Action":"ActivateServerProcess","RequestId":"r1","SdkVersion":"5.6.0","SdkLanguage":"Cpp","Port":7777,"LogPaths":[]}`)); err != nil {
		t.Fatal(err)
	}
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var answer struct {
		RequestId  string
		StatusCode int
	}
	if err := json.Unmarshal(b, &answer); err != nil || answer.RequestId != "r1" || answer.StatusCode != 200 {
		t.Fatalf("ActivateServerProcess over TLS answered %s", b)
	}
}

// A TLS WebSocket client, which never speaks plain, cannot connect to a plain server: the
// official C++ SDK's "TLS handshake failed" against a server without --tls-*.
func TestTLSClientRefusesPlainServer(t *testing.T) {
	srv, api := start(t, t.TempDir())
	fleetID, endpoint, token := registerAnywhere(t, api)
	if !strings.HasPrefix(endpoint, "ws://") || !strings.HasPrefix(srv.Endpoint, "http://") {
		t.Fatalf("without TLS: endpoints %s and %s, want ws:// and http://", endpoint, srv.Endpoint)
	}
	q := url.Values{"pID": {"p-raw"}, "ComputeId": {"host-1"}, "FleetId": {fleetID}, "Authorization": {token}}
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if c, _, err := websocket.Dial(ctx, "wss://"+strings.TrimPrefix(endpoint, "ws://")+"/?"+q.Encode(), &websocket.DialOptions{HTTPClient: insecure}); err == nil {
		c.CloseNow()
		t.Fatal("a TLS client connected to the plain port")
	}
}

// The self-signed certificate is kept in the data directory and reused by the next start,
// so clients given it keep trusting the server; it names loopback and localhost.
func TestTLSSelfSignedCertificateIsReused(t *testing.T) {
	dir := t.TempDir()
	srv, _ := startTLS(t, dir, nil)
	first := must(os.ReadFile(srv.CABundle))(t)
	if want := filepath.Join(dir, server.TLSDir, certs.CertFile); !strings.HasSuffix(srv.CABundle, want) || !filepath.IsAbs(srv.CABundle) {
		t.Errorf("CABundle %s, want the absolute path of %s", srv.CABundle, want)
	}
	if err := srv.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	again, api := startTLS(t, dir, nil)
	if b := must(os.ReadFile(again.CABundle))(t); !bytes.Equal(b, first) {
		t.Fatal("a restart made a new self-signed certificate")
	}
	must(api.ListFleets(context.Background(), &gl.ListFleetsInput{}))(t)

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(first)
	localhost := strings.Replace(again.Endpoint, "127.0.0.1", "localhost", 1)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Get(localhost + "/console/")
	if err != nil {
		t.Fatalf("the first certificate, by localhost: %v", err)
	}
	resp.Body.Close()
}

// SDK connections over TLS count against --max-sdk-conns, as plain ones do: the
// connection caps see through TLS.
func TestTLSConnectionsAreCounted(t *testing.T) {
	_, api := startTLS(t, t.TempDir(), func(c *server.Config) { c.MaxSDKConns = 1 })
	fleetID, endpoint, token := registerAnywhere(t, api)
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dial := func(id string) (*websocket.Conn, *http.Response, error) {
		q := url.Values{"pID": {id}, "ComputeId": {"host-1"}, "FleetId": {fleetID}, "Authorization": {token}}
		return websocket.Dial(ctx, endpoint+"/?"+q.Encode(), &websocket.DialOptions{HTTPClient: insecure})
	}
	first, _, err := dial("p-1")
	if err != nil {
		t.Fatal(err)
	}
	if c, resp, err := dial("p-2"); err == nil {
		c.CloseNow()
		t.Fatal("a second process connected past --max-sdk-conns 1")
	} else if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a second process: %v, want HTTP 503", err)
	}
	first.CloseNow()
	eventually(t, "the first process's slot is free again", func() bool {
		c, _, err := dial("p-3")
		if err == nil {
			c.CloseNow()
		}
		return err == nil
	})
}

// A certificate given as files is served as it is; the server makes none of its own and
// names no CA bundle. Half a pair, or files and a self-signed certificate, are refused.
func TestTLSCertificateFiles(t *testing.T) {
	made := must(certs.LoadOrCreate(t.TempDir(), []string{"127.0.0.1"}, time.Now()))(t)
	keyFile := filepath.Join(filepath.Dir(made.CertFile), certs.KeyFile)
	dir := t.TempDir()
	srv, _ := startTLS(t, dir, func(c *server.Config) { c.TLS = &server.TLSConfig{CertFile: made.CertFile, KeyFile: keyFile} })
	if srv.CABundle != "" || !strings.HasPrefix(srv.Endpoint, "https://") {
		t.Errorf("CABundle %q, endpoint %s: want none and https://", srv.CABundle, srv.Endpoint)
	}
	if _, err := os.Stat(filepath.Join(dir, server.TLSDir)); err == nil {
		t.Error("a self-signed certificate was made beside the given one")
	}
	hc := must(certs.HTTPClient(0, made.CertFile))(t)
	resp, err := hc.Get(srv.Endpoint + "/console/")
	if err != nil {
		t.Fatalf("a client trusting the given certificate: %v", err)
	}
	resp.Body.Close()

	for _, bad := range []server.TLSConfig{{CertFile: made.CertFile}, {CertFile: made.CertFile, KeyFile: keyFile, SelfSigned: true}, {}} {
		if s, err := server.Start(context.Background(), server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Credentials: testCreds,
			Logger: quietLogger(), NoLocalAgent: true, TLS: &bad}); err == nil {
			s.Close(context.Background())
			t.Errorf("TLS %+v was accepted", bad)
		}
	}
}
