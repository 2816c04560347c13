package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gl "github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/coder/websocket"

	"github.com/hoist-dev/hoist/internal/server"
)

// Game server processes connecting all at once, as they do when their host or the server
// restarts, each get in on their first handshake: connections the server has not read yet
// are not idle, and are not closed to make room for the ones behind them, even when they
// are many times the HTTP cap.
func TestReconnectStormLosesNoProcess(t *testing.T) {
	const procs, maxConns = 1500, 32
	ctx := context.Background()
	srv, c := startWith(t, server.Config{MaxConns: maxConns, MaxSDKConns: procs + 16})
	fa := anywhereFleet(t, c, "custom-storm-1")
	must(c.RegisterCompute(ctx, &gl.RegisterComputeInput{FleetId: fa.FleetId, ComputeName: aws.String("host-1"),
		IpAddress: aws.String("127.0.0.1"), Location: aws.String("custom-storm-1")}))(t)
	tok := aws.ToString(must(c.GetComputeAuthToken(ctx, &gl.GetComputeAuthTokenInput{FleetId: fa.FleetId, ComputeName: aws.String("host-1")}))(t).AuthToken)

	// One dial each, no retries: a handshake the server drops is a process lost.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: -1}}
	go_ := make(chan struct{})
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed []string
		conns  []*websocket.Conn
	)
	for i := range procs {
		wg.Go(func() {
			q := url.Values{"pID": {fmt.Sprint("storm-", i)}, "ComputeId": {"host-1"}, "FleetId": {aws.ToString(fa.FleetId)}, "Authorization": {tok}}
			<-go_
			dctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			ws, _, err := websocket.Dial(dctx, srv.SDKEndpoint+"/?"+q.Encode(), &websocket.DialOptions{HTTPClient: client})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed = append(failed, err.Error())
				return
			}
			conns = append(conns, ws)
		})
	}
	close(go_)
	wg.Wait()
	t.Cleanup(func() {
		for _, ws := range conns {
			ws.CloseNow()
		}
	})
	if len(failed) > 0 {
		t.Errorf("%d of %d processes connecting at once were dropped (HTTP cap %d); first: %s", len(failed), procs, maxConns, failed[0])
	}
}
