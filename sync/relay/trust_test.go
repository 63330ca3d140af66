package relay

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/client"
	"github.com/lango-pos/lango/sync/hub"
	hubsqlite "github.com/lango-pos/lango/sync/hub/sqlite"
	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
	"github.com/lango-pos/lango/terminal/sqlite/sqlitetest"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// centre is a central hub on a loopback port.
type centre struct {
	store *hubsqlite.Store
	hub   *hub.Hub
	srv   *httptest.Server
}

func newCentre(t *testing.T) *centre {
	t.Helper()
	st, err := hubsqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New(st, hub.Options{Logger: discard()})
	srv := httptest.NewServer(hub.NewServer(h))
	t.Cleanup(func() { srv.Close(); st.Close() })
	return &centre{store: st, hub: h, srv: srv}
}

// newRelay is a relay of site enrolled with c.
func newRelay(t *testing.T, c *centre, site, name string) *Relay {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	local, err := hubsqlite.Open(ctx, filepath.Join(dir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(ctx, local, filepath.Join(dir, "relay.db"), Options{Upstream: c.srv.URL, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); local.Close() })
	tok, err := c.hub.AddRelay(ctx, site, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Enroll(ctx, tok); err != nil {
		t.Fatal(err)
	}
	return r
}

// upload is what a lane of NNP enrolled with c signs for its events.
func signedUpload(t *testing.T, c *centre) (*sqlite.DB, wire.Signed, []byte, []wire.Event) {
	t.Helper()
	ctx := context.Background()
	db, admin := sqlitetest.NewTerminal(t, nil)
	tok, err := c.hub.AddTerminal(ctx, "NNP", "gate-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.EnrollWith(ctx, db, c.srv.URL, tok, client.Config{Logger: discard()}); err != nil {
		t.Fatal(err)
	}
	iss, err := db.PassIssuer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Sell(ctx, admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 2}},
		Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCash}}}, iss); err != nil {
		t.Fatal(err)
	}
	evs, err := db.Events(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	wevs := make([]wire.Event, len(evs))
	for i := range evs {
		wevs[i] = wire.Event(evs[i])
	}
	body := wire.Compress(wire.EncodeUpload(wevs))
	key, err := db.TerminalKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := db.Identity(ctx)
	var n [16]byte
	rand.Read(n[:])
	return db, wire.Sign(key, id.TerminalID, http.MethodPost, wire.PathEvents, body, time.Now(), hex.EncodeToString(n[:])), body, wevs
}

func relayed(sig wire.Signed) map[string]string {
	h := map[string]string{wire.HeaderRelayedEncoding: "gzip"}
	for k, v := range sig.Header() {
		h[wire.RelayedHeader(k)] = v
	}
	return h
}

func wireCode(err error) string {
	if we, ok := client.WireError(err); ok {
		return we.Code
	}
	return ""
}

// TestRelayCannotForge: the centre takes an upload a relay carries only
// as the terminal signed it. A relay that changes a byte of a relayed
// event, signs an upload with its own key in a terminal's name, forwards
// another site's terminal, or sends events as itself is refused, and the
// centre's rows are as they were; a terminal cannot pose as a relay.
func TestRelayCannotForge(t *testing.T) {
	ctx := context.Background()
	c := newCentre(t)
	r := newRelay(t, c, "NNP", "hq")
	other := newRelay(t, c, "AMB", "hq-amb")
	db, sig, body, wevs := signedUpload(t, c)
	before, _ := c.store.Counts(ctx)

	// Altered: the sale's payload with one amount changed, re-encoded,
	// under the terminal's signature of the original.
	altered := make([]wire.Event, len(wevs))
	copy(altered, wevs)
	for i := range altered {
		if altered[i].Type == terminal.EventSaleCreated {
			altered[i].Payload = bytes.Replace(altered[i].Payload, []byte(`"KES":`), []byte(`"KES":1`), 1)
			altered[i].Hash = altered[i].ComputeHash()
		}
	}
	alteredBody := wire.Compress(wire.EncodeUpload(altered))
	flipped := append([]byte(nil), body...)
	flipped[len(flipped)/2] ^= 1

	r.mu.Lock()
	rid := r.id
	r.mu.Unlock()
	forged := wire.Sign(rid.Key, sig.Terminal, http.MethodPost, wire.PathEvents, alteredBody, time.Now(), sig.Nonce)

	for _, tc := range []struct {
		name  string
		relay *Relay
		body  []byte
		sig   wire.Signed
		code  string
	}{
		{"altered event", r, alteredBody, sig, wire.CodeUnauthorized},
		{"a flipped byte", r, flipped, sig, wire.CodeUnauthorized},
		{"signed by the relay in the terminal's name", r, alteredBody, forged, wire.CodeUnauthorized},
		{"another site's relay", other, body, sig, wire.CodeForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.relay.mu.Lock()
			id := tc.relay.id
			tc.relay.mu.Unlock()
			err := tc.relay.do(ctx, http.MethodPost, wire.PathRelayEvents, tc.body, relayed(tc.sig), &id, nil)
			if wireCode(err) != tc.code {
				t.Fatalf("got %v; want %s", err, tc.code)
			}
			if after, _ := c.store.Counts(ctx); after["events"] != before["events"] {
				t.Errorf("the centre's events went from %d to %d", before["events"], after["events"])
			}
		})
	}
	t.Run("a relay's own events", func(t *testing.T) {
		var n [16]byte
		rand.Read(n[:])
		rs := wire.Sign(rid.Key, rid.RelayID, http.MethodPost, wire.PathEvents, body, time.Now(), hex.EncodeToString(n[:]))
		req, _ := http.NewRequest(http.MethodPost, c.srv.URL+wire.PathEvents, bytes.NewReader(body))
		for k, v := range rs.Header() {
			req.Header.Set(k, v)
		}
		req.Header.Set("Content-Encoding", "gzip")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("a relay uploading as itself: %d; want 403", resp.StatusCode)
		}
	})
	t.Run("a terminal posing as a relay", func(t *testing.T) {
		key, _ := db.TerminalKey(ctx)
		var n [16]byte
		rand.Read(n[:])
		ts := wire.Sign(key, sig.Terminal, http.MethodPost, wire.PathRelayEvents, body, time.Now(), hex.EncodeToString(n[:]))
		req, _ := http.NewRequest(http.MethodPost, c.srv.URL+wire.PathRelayEvents, bytes.NewReader(body))
		for k, v := range ts.Header() {
			req.Header.Set(k, v)
		}
		for k, v := range relayed(sig) {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("a terminal posting a relayed upload: %d; want 403", resp.StatusCode)
		}
	})
	if after, _ := c.store.Counts(ctx); after["events"] != before["events"] {
		t.Fatalf("after the refusals the centre's events went from %d to %d", before["events"], after["events"])
	}
	// The upload as the terminal signed it goes through, days later.
	var resp wire.UploadResponse
	if err := r.do(ctx, http.MethodPost, wire.PathRelayEvents, body, relayed(sig), &rid, &resp); err != nil {
		t.Fatalf("the upload as signed: %v", err)
	}
	if resp.Applied != len(wevs) {
		t.Errorf("applied %d; want %d", resp.Applied, len(wevs))
	}
	// Twice: skipped as duplicates.
	if err := r.do(ctx, http.MethodPost, wire.PathRelayEvents, body, relayed(sig), &rid, &resp); err != nil || resp.Duplicates != len(wevs) || resp.Applied != 0 {
		t.Errorf("the same upload again: %v, %+v; want all duplicates", err, resp)
	}
}
