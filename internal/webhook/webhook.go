// Package webhook delivers events (GameLift's queue placement events) to HTTP endpoints:
// POSTed as JSON, retried with back-off, never redirected, never blocking the code that
// publishes them, each endpoint with its own bound on deliveries in flight.
package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Target is an endpoint and which queue's events it takes.
type Target struct {
	// Queue is a queue name or ARN; "" takes every queue's events.
	Queue string
	URL   string
}

// ParseTarget reads [QUEUE=]URL: an http or https URL, optionally for one queue.
func ParseTarget(s string) (Target, error) {
	var t Target
	t.URL = s
	if q, u, ok := strings.Cut(s, "="); ok && !strings.Contains(q, "://") {
		t.Queue, t.URL = q, u
	}
	u, err := url.Parse(t.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Target{}, fmt.Errorf("%q: want [QUEUE=]URL with an http:// or https:// URL", s)
	}
	return t, nil
}

func (t Target) takes(queueArn string) bool {
	return t.Queue == "" || t.Queue == queueArn || strings.HasSuffix(queueArn, ":gamesessionqueue/"+t.Queue)
}

// Options tune a Sender; zero values take the defaults.
type Options struct {
	// Attempts is how many times a delivery is tried (6).
	Attempts int
	// Backoff is the wait before the second try, doubling after each (1 s).
	Backoff time.Duration
	// Timeout bounds one try (10 s).
	Timeout time.Duration
	// MaxInFlight bounds the deliveries under way or waiting to retry to one endpoint (one
	// URL); past it that endpoint's new events are dropped, with a warning (1000). Each
	// endpoint has its own, so a slow one delays no other.
	MaxInFlight int
	Logger      *slog.Logger
}

// Sender delivers events to its targets.
type Sender struct {
	targets []Target
	opt     Options
	client  *http.Client
	slots   map[string]chan struct{} // URL -> its deliveries in flight
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// New returns a Sender for targets; Close stops it.
func New(targets []Target, o Options) *Sender {
	if o.Attempts <= 0 {
		o.Attempts = 6
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 1000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	slots := map[string]chan struct{}{}
	for _, t := range targets {
		if slots[t.URL] == nil {
			slots[t.URL] = make(chan struct{}, o.MaxInFlight)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	client := &http.Client{Timeout: o.Timeout, CheckRedirect: refuseRedirect}
	return &Sender{targets: targets, opt: o, client: client, slots: slots, ctx: ctx, cancel: cancel}
}

// refuseRedirect keeps a delivery at the address the operator gave: a redirect (a 307
// would post the event again) is the endpoint's answer, and a failed delivery.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// errRedirected is an endpoint answering with a redirect, which trying again will not change.
var errRedirected = errors.New("the endpoint answered with a redirect, which is not followed")

// Publish sends event to every target that takes queueArn's events, in the background.
func (s *Sender) Publish(queueArn string, event []byte) {
	for _, t := range s.targets {
		if !t.takes(queueArn) {
			continue
		}
		slots := s.slots[t.URL]
		select {
		case slots <- struct{}{}:
		default:
			s.opt.Logger.Warn("webhook: too many events waiting to be delivered; dropping one", "url", t.URL, "queue", queueArn)
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-slots }()
			s.deliver(t.URL, event)
		}()
	}
}

// deliver posts event to url until it is taken, the attempts are spent, or the endpoint
// redirects.
func (s *Sender) deliver(url string, event []byte) {
	wait := s.opt.Backoff
	var err error
	attempt := 1
	for ; ; attempt++ {
		if err = s.post(url, event); err == nil {
			return
		}
		if attempt == s.opt.Attempts || errors.Is(err, errRedirected) {
			break
		}
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(wait):
		}
		wait *= 2
	}
	s.opt.Logger.Warn("webhook: event not delivered", "url", url, "attempts", attempt, "error", err)
}

func (s *Sender) post(url string, event []byte) error {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, url, bytes.NewReader(event))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode <= 399:
		return fmt.Errorf("HTTP %d to %q: %w", resp.StatusCode, resp.Header.Get("Location"), errRedirected)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// Close stops retrying and waits for deliveries under way to end.
func (s *Sender) Close() {
	s.cancel()
	s.wg.Wait()
}
