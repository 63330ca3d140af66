package hub_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
)

// rawRequest describes a hand-made request to the hub.
type rawRequest struct {
	method, path string
	body         []byte // as sent
	gzip         bool   // Content-Encoding: gzip
	key          ed25519.PrivateKey
	terminal     string
	at           time.Time
	nonce        string
	noSign       bool
	signBody     []byte // sign these bytes instead of body
	signPath     string // sign this path instead of path
	header       map[string]string
}

var nonceSeq int

func (r rawRequest) do(t testing.TB, h *hubEnv) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(r.method, h.URL()+r.path, bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if !r.noSign {
		if r.nonce == "" {
			nonceSeq++
			r.nonce = hex.EncodeToString([]byte{byte(nonceSeq >> 8), byte(nonceSeq), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14})
		}
		if r.at.IsZero() {
			r.at = h.clock.Now()
		}
		sb := r.body
		if r.signBody != nil {
			sb = r.signBody
		}
		sp := r.path
		if r.signPath != "" {
			sp = r.signPath
		}
		for k, v := range wire.Sign(r.key, r.terminal, r.method, sp, sb, r.at, r.nonce).Header() {
			req.Header.Set(k, v)
		}
	}
	if r.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (te *termEnv) key(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	k, err := te.db.TerminalKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// postEvents uploads a batch signed by te, as the terminal would.
func postEvents(t testing.TB, h *hubEnv, te *termEnv, events []terminal.Event, edit func(*rawRequest)) (int, *wire.UploadResponse, *wire.Error) {
	t.Helper()
	b, err := wire.Marshal(wire.UploadRequest{Events: onWire(events)})
	if err != nil {
		t.Fatal(err)
	}
	r := rawRequest{method: http.MethodPost, path: wire.PathEvents, body: wire.Compress(b), gzip: true, key: te.key(t), terminal: te.id}
	if edit != nil {
		edit(&r)
	}
	code, body := r.do(t, h)
	if code == http.StatusOK {
		var ur wire.UploadResponse
		if err := json.Unmarshal(body, &ur); err != nil {
			t.Fatalf("answer %s: %v", body, err)
		}
		return code, &ur, nil
	}
	var we wire.Error
	if err := json.Unmarshal(body, &we); err != nil {
		t.Fatalf("error answer %d %q: %v", code, body, err)
	}
	return code, nil, &we
}

// onWire is events as the protocol carries them.
func onWire(events []terminal.Event) []wire.Event {
	out := make([]wire.Event, len(events))
	for i := range events {
		out[i] = wire.Event(events[i])
	}
	return out
}
