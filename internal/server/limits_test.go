package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/coder/websocket"

	"github.com/hoist-dev/hoist/internal/server"
	"github.com/hoist-dev/hoist/sdk/gameserver"
)

// startWith runs a real server on a loopback port with cfg's limits.
func startWith(t *testing.T, cfg server.Config) (*server.Server, *gl.Client) {
	t.Helper()
	cfg.Addr, cfg.DataDir, cfg.Credentials, cfg.Logger = "127.0.0.1:0", t.TempDir(), testCreds, quietLogger()
	srv, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	return srv, client(srv.Endpoint, testCreds.SecretAccessKey)
}

// heapInUse is the heap the process holds after a collection: the server runs in-process.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// Requests whose headers pass every check a server can make without the body (a known
// access key ID is no secret) and whose bodies stall take no more memory together than
// the body budget, however many there are; those beyond it are throttled, in the
// protocol's encoding.
func TestRequestBodiesShareABudget(t *testing.T) {
	const (
		budget = 16 << 20
		bodies = 48
		size   = 4 << 20 // 48 x 4 MiB: 12 times the budget
	)
	srv, c := startWith(t, server.Config{BodyBudget: budget})
	host := strings.TrimPrefix(srv.Endpoint, "http://")
	now := time.Now().UTC()
	head := "POST / HTTP/1.1\r\nHost: " + host + "\r\n" +
		"Content-Type: application/x-amz-json-1.1\r\nX-Amz-Target: GameLift.ListFleets\r\n" +
		"X-Amz-Date: " + now.Format("20060102T150405Z") + "\r\n" +
		"Authorization: AWS4-HMAC-SHA256 Credential=" + testCreds.AccessKeyID + "/" + now.Format("20060102") + "/us-west-2/gamelift/aws4_request, " +
		"SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + strings.Repeat("0", 64) + "\r\n" +
		"Content-Length: " + strconv.Itoa(size) + "\r\n\r\n"
	body := make([]byte, size-1) // shared by every writer, read only: all but the last byte

	before := heapInUse()
	var (
		wg        sync.WaitGroup
		throttled atomic.Int32
		conns     []net.Conn
	)
	for range bodies {
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
		conn.SetDeadline(time.Now().Add(20 * time.Second))
		wg.Add(1)
		go func() {
			defer wg.Done()
			io.WriteString(conn, head)
			conn.Write(body) // fails once a throttled request's connection is closed
		}()
		go func() {
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				return // held, until the connection is closed
			}
			defer resp.Body.Close()
			var out map[string]string
			json.NewDecoder(resp.Body).Decode(&out)
			if resp.StatusCode == http.StatusServiceUnavailable && out["__type"] == "ThrottlingException" {
				throttled.Add(1)
			} else {
				t.Errorf("a stalled request got %s %v", resp.Status, out)
			}
		}()
	}
	eventually(t, "the requests beyond the budget are throttled", func() bool { return throttled.Load() == bodies-budget/size })
	wg.Wait()
	if grown := int64(heapInUse()) - int64(before); grown > 2*budget {
		t.Errorf("%d stalled bodies of %d MiB hold %d MiB of heap; the budget is %d MiB", bodies, size>>20, grown>>20, budget>>20)
	}
	for _, conn := range conns {
		conn.Close()
	}
	// The bodies of closed connections give their bytes back.
	eventually(t, "an API call gets through once the stalled requests are gone", func() bool {
		_, err := c.ListFleets(context.Background(), &gl.ListFleetsInput{})
		return err == nil
	})
}

// serverSockets counts the sockets this process holds on the server's side of port: the
// tests' own client sockets, in the same process, are not counted.
func serverSockets(t *testing.T, port int) int {
	t.Helper()
	mine := map[string]bool{}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, fd := range fds {
		link, _ := os.Readlink("/proc/self/fd/" + fd.Name())
		if inode, ok := strings.CutPrefix(link, "socket:["); ok {
			mine[strings.TrimSuffix(inode, "]")] = true
		}
	}
	n := 0
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, _ := os.ReadFile(table)
		for line := range strings.Lines(string(b)) {
			f := strings.Fields(line)
			if len(f) < 10 || f[3] == "0A" { // header, or the listening socket
				continue
			}
			_, p, _ := strings.Cut(f[1], ":")
			if lp, err := strconv.ParseUint(p, 16, 16); err == nil && int(lp) == port && mine[f[9]] {
				n++
			}
		}
	}
	return n
}

// Thousands of connections that send nothing, or a request's headers a byte at a time,
// hold no more descriptors than the caps, and neither an API call nor a game server
// process is shut out by them; game server processes count against a cap of their own.
func TestConnectionsAreCapped(t *testing.T) {
	const (
		maxConns, maxSDK = 64, 2
		idle, slow       = 3000, 16
	)
	ctx := context.Background()
	srv, c := startWith(t, server.Config{MaxConns: maxConns, MaxSDKConns: maxSDK})
	host := strings.TrimPrefix(srv.Endpoint, "http://")
	_, portStr, _ := net.SplitHostPort(host)
	port, _ := strconv.Atoi(portStr)

	// A fleet and a compute for game server processes, before the flood.
	fa := anywhereFleet(t, c, "custom-caps-1")
	must(c.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: fa.FleetId, ComputeName: aws.String("host-1"),
		IpAddress: aws.String("127.0.0.1"), Location: aws.String("custom-caps-1")}))(t)
	tok := aws.ToString(must(c.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: fa.FleetId, ComputeName: aws.String("host-1")}))(t).AuthToken)
	params := func(id string) gameserver.ServerParameters {
		return gameserver.ServerParameters{WebSocketURL: srv.SDKEndpoint, ProcessID: id, HostID: "host-1", FleetID: aws.ToString(fa.FleetId), AuthToken: tok}
	}

	var held []net.Conn
	t.Cleanup(func() {
		for _, conn := range held {
			conn.Close()
		}
	})
	for i := range slow + idle {
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		held = append(held, conn)
		if i < slow {
			io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\n") // and no more, for now
		}
	}
	// Slowloris: the slow ones keep sending header bytes while the checks run.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(500 * time.Millisecond):
			}
			for _, conn := range held[:slow] {
				io.WriteString(conn, "X-Slow: 1\r\n")
			}
		}
	}()

	if _, err := c.ListFleets(ctx, &gl.ListFleetsInput{}); err != nil {
		t.Errorf("an API call among %d held connections: %v", slow+idle, err)
	}
	var procs []*gameserver.Client
	for i := range maxSDK {
		p, err := gameserver.Connect(ctx, params(fmt.Sprint("p-", i)), gameserver.Options{Logger: quietLogger()})
		if err != nil {
			t.Fatalf("game server process %d among %d held connections: %v", i, slow+idle, err)
		}
		defer p.Destroy()
		procs = append(procs, p)
	}
	// The SDK's cap is its own: one process more is refused, and API calls still work.
	q := url.Values{"pID": {"p-extra"}, "ComputeId": {"host-1"}, "FleetId": {aws.ToString(fa.FleetId)}, "Authorization": {tok}}
	ws, resp, err := websocket.Dial(ctx, srv.SDKEndpoint+"/?"+q.Encode(), nil)
	if err == nil {
		ws.CloseNow()
		t.Errorf("a process beyond the SDK's cap of %d was let in", maxSDK)
	} else if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a process beyond the SDK's cap: %v %v", resp, err)
	}
	if _, err := c.ListFleets(ctx, &gl.ListFleetsInput{}); err != nil {
		t.Errorf("an API call with the SDK's pool full: %v", err)
	}
	for _, p := range procs {
		if err := p.ProcessReady(ctx, gameserver.ProcessParameters{Port: 7777}); err != nil {
			t.Errorf("a connected process: %v", err)
		}
	}

	// Slack: the API client's own keep-alive connection, closing ones not yet reaped.
	if n := serverSockets(t, port); n > maxConns+maxSDK+8 {
		t.Errorf("the server holds %d sockets; the caps are %d + %d", n, maxConns, maxSDK)
	}
}

// A host agent's log upload carries its compute's token in the query: it is checked before
// a byte of the archive is read.
func TestAgentLogUploadIsAuthenticatedBeforeItsBody(t *testing.T) {
	srv, _ := start(t, t.TempDir())
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.Endpoint, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second)) // a failsafe: the body never comes
	q := url.Values{"FleetId": {"fleet-1"}, "ComputeName": {"host-1"}, "AuthToken": {"forged"}, "ProcessId": {"p-1"}}
	fmt.Fprintf(conn, "PUT %s?%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/zip\r\nContent-Length: %d\r\n\r\n", server.AgentLogsPath, q.Encode(), 200<<20)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a forged log upload before its body: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusNotFound {
		t.Errorf("forged log upload: %s", resp.Status)
	}
}
