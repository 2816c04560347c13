package webhook

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func TestParseTarget(t *testing.T) {
	for in, want := range map[string]Target{
		"http://127.0.0.1:8080/events":            {URL: "http://127.0.0.1:8080/events"},
		"lobby=https://hooks.example.com/x?a=b=c": {Queue: "lobby", URL: "https://hooks.example.com/x?a=b=c"},
		"https://h.example/x?q=1":                 {URL: "https://h.example/x?q=1"},
	} {
		if got, err := ParseTarget(in); err != nil || got != want {
			t.Errorf("ParseTarget(%q) = %+v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "ftp://x", "lobby=", "lobby=/path", "not a url"} {
		if _, err := ParseTarget(bad); err == nil {
			t.Errorf("ParseTarget(%q) accepted", bad)
		}
	}
}

// An event reaches the targets that take its queue, and is retried until the receiver
// answers 2xx.
func TestDeliveryWithRetry(t *testing.T) {
	var mu sync.Mutex
	var got []string
	tries := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		tries++
		if tries < 3 {
			http.Error(w, "not yet", http.StatusServiceUnavailable)
			return
		}
		got = append(got, r.URL.Path+" "+r.Header.Get("Content-Type")+" "+string(b))
	}))
	defer srv.Close()
	s := New([]Target{{URL: srv.URL + "/all"}, {Queue: "lobby", URL: srv.URL + "/lobby"}, {Queue: "other", URL: srv.URL + "/other"}},
		Options{Backoff: time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	s.Publish("arn:aws:gamelift:us-west-2:123456789012:gamesessionqueue/lobby", []byte(`{"a":1}`))
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || tries != 4 {
		t.Fatalf("delivered %q after %d tries; want /all and /lobby once each after 2 failures", got, tries)
	}
	for _, g := range got {
		if g != "/all application/json {\"a\":1}" && g != "/lobby application/json {\"a\":1}" {
			t.Errorf("delivery = %q", g)
		}
	}
}

// Publish never blocks: past an endpoint's MaxInFlight its events are dropped.
func TestPublishNeverBlocks(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	s := New([]Target{{URL: srv.URL}}, Options{MaxInFlight: 2, Logger: slog.New(slog.DiscardHandler), Attempts: 1})
	done := make(chan struct{})
	go func() {
		for range 100 {
			s.Publish("q", []byte("{}"))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Publish blocked")
	}
	if n := len(s.slots[srv.URL]); n != 2 {
		t.Errorf("%d deliveries in flight, want the cap of 2", n)
	}
}

// A slow endpoint holds only its own slots: with every one of them taken, another
// endpoint still gets each of its events.
func TestSlowEndpointDelaysNoOther(t *testing.T) {
	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer slow.Close()
	defer close(block)
	var mu sync.Mutex
	healthy := 0
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		healthy++
		mu.Unlock()
	}))
	defer fast.Close()
	s := New([]Target{{Queue: "slow", URL: slow.URL}, {Queue: "fast", URL: fast.URL}},
		Options{MaxInFlight: 10, Attempts: 1, Logger: slog.New(slog.DiscardHandler)})
	for range 30 {
		s.Publish("slow", []byte("{}"))
	}
	for range 10 {
		s.Publish("fast", []byte("{}"))
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := healthy
		mu.Unlock()
		if n == 10 || time.Now().After(deadline) {
			if n != 10 {
				t.Errorf("the healthy endpoint got %d of 10 events while the slow one held its slots", n)
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A redirect is not followed: the event goes only to the address given, and a 307 is
// a failed delivery, not tried again.
func TestRedirectsAreNotFollowed(t *testing.T) {
	var mu sync.Mutex
	elsewhere, tries := 0, 0
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		elsewhere++
		mu.Unlock()
	}))
	defer other.Close()
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		tries++
		mu.Unlock()
		http.Redirect(w, r, other.URL+"/stolen", http.StatusTemporaryRedirect)
	}))
	defer redirecting.Close()
	s := New([]Target{{URL: redirecting.URL}}, Options{Attempts: 3, Backoff: time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	s.Publish("q", []byte(`{"secret":1}`))
	time.Sleep(200 * time.Millisecond) // three tries would be over in a few milliseconds
	s.Close()
	mu.Lock()
	defer mu.Unlock()
	if elsewhere != 0 || tries != 1 {
		t.Errorf("the redirect's target got %d posts and the endpoint %d tries; want 0 and 1", elsewhere, tries)
	}
}
