package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/platform"
)

// lineWriter hands over the first line written.
type lineWriter struct {
	mu   sync.Mutex
	buf  strings.Builder
	line chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	before := strings.Contains(w.buf.String(), "\n")
	w.buf.Write(p)
	if s := w.buf.String(); !before && strings.Contains(s, "\n") {
		w.line <- strings.SplitN(s, "\n", 2)[0]
	}
	return len(p), nil
}

// TestServes: lango-platform takes the agency and secret from its
// environment, answers a bill signed with them and refuses a bad secret;
// bad flags are a usage error.
func TestServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &lineWriter{line: make(chan string, 1)}
	env := map[string]string{"LANGO_PLATFORM_AGENCY": "KWS", "LANGO_PLATFORM_SECRET": "shh"}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0"}, func(k string) string { return env[k] }, out, io.Discard)
	}()
	var url string
	select {
	case line := <-out.line:
		url = strings.Fields(strings.TrimPrefix(line, "lango-platform listening on "))[0]
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	bill := platform.Bill{BillRef: "NNP-1", ServiceCode: "KWS-NNP-ENTRY", Amount: "10.00", Currency: "KES",
		PaidOffline: platform.PaidOffline{Tender: "cash", PaidAt: time.Now().Format(time.RFC3339)}}
	for _, c := range []struct {
		secret string
		ok     bool
	}{{"shh", true}, {"guess", false}} {
		cl, err := platform.NewClient(platform.Config{BaseURL: url, Agency: "KWS", Secret: c.secret, HTTP: &http.Client{Timeout: 5 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cl.PostBill(ctx, bill); (err == nil) != c.ok {
			t.Errorf("secret %q: %v; want ok %v", c.secret, err, c.ok)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("after cancel: %v", err)
	}
	err := run(context.Background(), []string{"--fail-rate", "2"}, func(string) string { return "" }, io.Discard, io.Discard)
	if _, ok := err.(usageError); !ok {
		t.Errorf("--fail-rate 2: %v; want a usage error", err)
	}
}
