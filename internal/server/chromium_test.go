package server_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// chromium is a headless Chromium driven over the DevTools protocol (CDP): one page, its
// commands sent and answered over the page's WebSocket. Only what the console's tests
// need: navigate, evaluate JavaScript, resize, take screenshots.
type chromium struct {
	cmd  *exec.Cmd
	conn *websocket.Conn
	ctx  context.Context
	next atomic.Int64

	mu      sync.Mutex
	pending map[int64]chan cdpReply
}

type cdpReply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// chromiumBinary finds a Chromium or Chrome to run, or skips the test.
func chromiumBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HOIST_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium binary found (install Debian's chromium package, or set HOIST_TEST_CHROMIUM): the console's browser tests are skipped")
	return ""
}

var devtoolsURL = regexp.MustCompile(`DevTools listening on (ws://\S+)`)

// startChromium starts a headless Chromium with a fresh profile and attaches to its page.
func startChromium(t *testing.T) *chromium {
	t.Helper()
	bin := chromiumBinary(t)
	// The profile is removed after every Chromium process is gone, which t.TempDir's own
	// cleanup (run before this one's end) cannot wait for.
	profile, err := os.MkdirTemp("", "hoist-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--no-default-browser-check", "--disable-extensions", "--remote-allow-origins=*",
		"--remote-debugging-port=0", "--user-data-dir="+profile, "--window-size=1280,900", "about:blank")
	// Its own process group: Chromium's helpers (zygote, renderers, crashpad) go with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	c := &chromium{cmd: cmd, ctx: ctx, pending: map[int64]chan cdpReply{}}
	t.Cleanup(func() {
		if c.conn != nil {
			c.conn.Close(websocket.StatusNormalClosure, "")
		}
		cancel()
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		for range 50 { // helpers that outlive the group's kill a moment still write
			if os.RemoveAll(profile) == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	found := make(chan string, 1)
	go func() { // read stderr to its end, so Chromium never blocks writing it
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := devtoolsURL.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	var browserURL string
	select {
	case browserURL = <-found:
	case <-time.After(30 * time.Second):
		t.Fatal("chromium did not say where its DevTools listen")
	}
	u, err := url.Parse(browserURL)
	if err != nil {
		t.Fatal(err)
	}
	var targets []struct{ Type, WebSocketDebuggerURL string }
	res, err := http.Get("http://" + u.Host + "/json/list")
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(res.Body).Decode(&targets)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	var pageURL string
	for _, tg := range targets {
		if tg.Type == "page" {
			pageURL = tg.WebSocketDebuggerURL
		}
	}
	if pageURL == "" {
		t.Fatalf("chromium has no page: %+v", targets)
	}
	conn, _, err := websocket.Dial(ctx, pageURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(64 << 20) // screenshots
	c.conn = conn
	go c.read()
	c.call(t, "Page.enable", nil, nil)
	c.call(t, "Runtime.enable", nil, nil)
	return c
}

// read dispatches answers to their calls; events are not used.
func (c *chromium) read() {
	for {
		_, data, err := c.conn.Read(c.ctx)
		if err != nil {
			return
		}
		var msg struct {
			ID int64 `json:"id"`
			cdpReply
		}
		if json.Unmarshal(data, &msg) != nil || msg.ID == 0 {
			continue
		}
		c.mu.Lock()
		ch := c.pending[msg.ID]
		delete(c.pending, msg.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- msg.cdpReply
		}
	}
}

// send runs one CDP command and decodes its result into out (when not nil).
func (c *chromium) send(method string, params, out any) error {
	id := c.next.Add(1)
	ch := make(chan cdpReply, 1)
	c.mu.Lock()
	c.pending[id] = ch
	c.mu.Unlock()
	msg, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, msg); err != nil {
		return err
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			return fmt.Errorf("%s: %s", method, r.Error.Message)
		}
		if out != nil {
			return json.Unmarshal(r.Result, out)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: no answer: %w", method, ctx.Err())
	}
}

func (c *chromium) call(t *testing.T, method string, params, out any) {
	t.Helper()
	if err := c.send(method, params, out); err != nil {
		t.Fatal(err)
	}
}

// eval runs a JavaScript expression in the page and decodes its value into out.
func (c *chromium) eval(expr string, out any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := c.send("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r); err != nil {
		return err
	}
	if r.ExceptionDetails != nil {
		return fmt.Errorf("%s: %s %s", expr, r.ExceptionDetails.Text, r.ExceptionDetails.Exception.Description)
	}
	if out != nil && len(r.Result.Value) > 0 {
		return json.Unmarshal(r.Result.Value, out)
	}
	return nil
}

// run evaluates expr, failing the test on an exception.
func (c *chromium) run(t *testing.T, expr string) {
	t.Helper()
	if err := c.eval(expr, nil); err != nil {
		t.Fatal(err)
	}
}

// text returns expr's value as a string.
func (c *chromium) text(t *testing.T, expr string) string {
	t.Helper()
	var s string
	if err := c.eval(expr, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// waitFor polls a JavaScript condition until it holds; an exception (the page is
// navigating, say) counts as not yet.
func (c *chromium) waitFor(t *testing.T, what, cond string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last error
	for {
		var ok bool
		if last = c.eval(cond, &ok); last == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			var page string
			c.eval("location.href + '\\n' + (document.body ? document.body.innerText : '')", &page)
			t.Fatalf("timed out waiting until %s (%s; last error %v); the page:\n%s", what, cond, last, page)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// navigate loads u (following redirects) and waits until the new page has loaded.
func (c *chromium) navigate(t *testing.T, u string) {
	t.Helper()
	c.run(t, "window.hoistOldPage = true")
	c.call(t, "Page.navigate", map[string]any{"url": u}, nil)
	c.waitFor(t, "the page loads", "!window.hoistOldPage && document.readyState === 'complete'")
}

// screenshot saves the page as a PNG into the test's artifacts directory.
func (c *chromium) screenshot(t *testing.T, name string) string {
	t.Helper()
	var shot struct{ Data string }
	c.call(t, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true}, &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(artifactsDir(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return path
}

// artifactsDir is where tests leave files for people to look at: HOIST_TEST_ARTIFACTS
// (CI keeps it), or a temporary directory.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("HOIST_TEST_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
