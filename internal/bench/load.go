package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// jsonContentType is AWS JSON 1.1's, which the bench's calls and the no-op's answers carry.
const jsonContentType = "application/x-amz-json-1.1"

// loadResult is what one run of the clients measured.
type loadResult struct {
	elapsed time.Duration   // from the first call's start to the last call's end
	startAt []int64         // per call, its start on the wall clock (Unix nanoseconds)
	latency []time.Duration // per call
	ok      []bool          // per call: answered 200
	errors  errorCounts
}

// errorCounts counts failures by kind, keeping an example message of each.
type errorCounts struct {
	mu      sync.Mutex
	count   map[string]int
	example map[string]string
}

func (e *errorCounts) add(kind, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.count == nil {
		e.count, e.example = map[string]int{}, map[string]string{}
	}
	e.count[kind]++
	if _, ok := e.example[kind]; !ok {
		e.example[kind] = msg
	}
}

func (e *errorCounts) total() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, c := range e.count {
		n += c
	}
	return n
}

// signedClients sends AWS JSON 1.1 calls signed with SigV4, as boto3 and the AWS CLI do.
type signedClients struct {
	creds  aws.Credentials
	region string
	signer *v4.Signer
}

// drive sends every body as a CreateGameSession call to endpoint from clients
// concurrent clients, each on its own kept-alive connection, each taking the next body
// as soon as its previous call is answered.
func (s signedClients) drive(ctx context.Context, endpoint string, bodies [][]byte, clients int) *loadResult {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients, IdleConnTimeout: time.Minute,
		DisableCompression: true, ResponseHeaderTimeout: time.Minute,
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	res := &loadResult{startAt: make([]int64, len(bodies)), latency: make([]time.Duration, len(bodies)), ok: make([]bool, len(bodies))}
	var next atomic.Int64
	var wg sync.WaitGroup
	begin := time.Now()
	endpoints := strings.Split(endpoint, ",")
	for c := range clients {
		endpoint := endpoints[c%len(endpoints)] // with several (replicas), the clients take turns
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(bodies) {
					return
				}
				start := time.Now()
				res.startAt[i] = start.UnixNano()
				kind, msg := s.call(ctx, hc, endpoint, bodies[i])
				res.latency[i] = time.Since(start)
				if kind == "" {
					res.ok[i] = true
				} else {
					res.errors.add(kind, msg)
				}
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(begin)
	return res
}

// call sends one CreateGameSession call; it returns "" when answered 200, else the kind of
// failure (the exception's name, or "transport: ...") and its message.
func (s signedClients) call(ctx context.Context, hc *http.Client, endpoint string, body []byte) (kind, msg string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return "request: " + err.Error(), err.Error()
	}
	req.Header.Set("Content-Type", jsonContentType)
	req.Header.Set("X-Amz-Target", "GameLift.CreateGameSession")
	sum := sha256.Sum256(body)
	if err := s.signer.SignHTTP(ctx, s.creds, req, hex.EncodeToString(sum[:]), "gamelift", s.region, time.Now()); err != nil {
		return "sign: " + err.Error(), err.Error()
	}
	resp, err := hc.Do(req)
	if err != nil {
		return transportKind(err), err.Error()
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return transportKind(err), err.Error()
	}
	if resp.StatusCode == http.StatusOK {
		return "", ""
	}
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &e) != nil || e.Type == "" {
		return fmt.Sprintf("HTTP %d", resp.StatusCode), fmt.Sprintf("%.200s", raw)
	}
	if _, name, ok := strings.Cut(e.Type, "#"); ok { // com.amazonaws.gamelift#NotFoundException
		e.Type = name
	}
	return e.Type, e.Message
}

// transportKind names a failure to get an answer at all.
func transportKind(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded), os.IsTimeout(err):
		return "transport: timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "transport: connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "transport: connection reset"
	case errors.Is(err, syscall.EMFILE):
		return "transport: too many open files"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "transport: connection closed"
	case errors.Is(err, context.Canceled):
		return "transport: canceled"
	}
	return "transport: other"
}

// noopServer is the comparison: a loopback HTTP server that reads each request's body and
// answers {} as AWS JSON 1.1, doing none of Hoist's work.
func noopServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", jsonContentType)
		w.Write([]byte("{}"))
	}))
}
