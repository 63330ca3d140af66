package hub_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
)

// TestBadRequests: every malformed, oversize, unsigned, forged, replayed,
// mistimed or misaddressed request gets a 4xx with a JSON reason and
// leaves the hub's store unchanged.
func TestBadRequests(t *testing.T) {
	ctx := context.Background()
	c := &clock{}
	h := newHub(t, c)
	te := newTerm(t, h, "gate-1", 0)
	other := newTerm(t, h, "gate-2", 0)
	te.mustSync()
	other.mustSync()
	te.sell("cash")
	evs := te.events()
	acked, _ := h.Store().Terminal(ctx, te.id)
	pending := evs[acked.LastSeq:]
	if len(pending) == 0 {
		t.Fatal("nothing pending")
	}
	key := te.key(t)
	upload := func(events []terminal.Event) []byte {
		b, err := wire.Marshal(wire.UploadRequest{Events: onWire(events)})
		if err != nil {
			t.Fatal(err)
		}
		return wire.Compress(b)
	}
	good := upload(pending)
	events := func(edit func([]terminal.Event)) []byte {
		cp := make([]terminal.Event, len(pending))
		copy(cp, pending)
		edit(cp)
		return upload(cp)
	}
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	zw.Write([]byte(`{"events":[`))
	zw.Write(bytes.Repeat([]byte(" "), wire.MaxBody+10))
	zw.Write([]byte(`]}`))
	zw.Close()
	big := make([]byte, wire.MaxBody+1)
	rand.Read(big)
	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	// A replayed request: sent once (accepted), then again byte for byte.
	replay := rawRequest{method: http.MethodPost, path: wire.PathFeed, body: wire.Compress([]byte(`{"cursors":{}}`)), gzip: true, key: key, terminal: te.id, nonce: strings.Repeat("ab", 16)}
	if code, body := replay.do(t, h); code != http.StatusOK {
		t.Fatalf("first feed request: %d %s", code, body)
	}
	otherSiteSale := func(es []terminal.Event) {
		for i := range es {
			if es[i].Type == terminal.EventSaleCreated {
				es[i].Payload = bytes.Replace(es[i].Payload, []byte(`"site":"NNP"`), []byte(`"site":"AMB"`), 1)
				es[i].Hash = es[i].ComputeHash()
				return
			}
		}
		t.Fatal("no sale in the pending events")
	}
	// Chain the edited event's successors so only the site is wrong.
	sign := func(r rawRequest) rawRequest { r.key, r.terminal = key, te.id; return r }
	post := func(body []byte) rawRequest {
		return sign(rawRequest{method: http.MethodPost, path: wire.PathEvents, body: body, gzip: true})
	}
	tests := []struct {
		name string
		req  rawRequest
		code int
		err  string
	}{
		{"malformed JSON", post(wire.Compress([]byte(`{"events":[{"seq":`))), 400, wire.CodeMalformed},
		{"JSON of the wrong shape", post(wire.Compress([]byte(`{"events":{"seq":1}}`))), 400, wire.CodeMalformed},
		{"not gzip", post([]byte(`{"events":[]}`)), 400, wire.CodeMalformed},
		{"unknown encoding", func() rawRequest {
			r := post(good)
			r.gzip, r.header = false, map[string]string{"Content-Encoding": "br"}
			return r
		}(), 415, wire.CodeEncoding},
		{"oversize body", post(big), 413, wire.CodeTooLarge},
		{"gzip bomb", post(bomb.Bytes()), 413, wire.CodeTooLarge},
		{"empty batch", post(wire.Compress([]byte(`{"events":[]}`))), 400, wire.CodeMalformed},
		{"missing signature", rawRequest{method: http.MethodPost, path: wire.PathEvents, body: good, gzip: true, noSign: true}, 401, wire.CodeUnauthorized},
		{"signature over another body", func() rawRequest { r := post(good); r.signBody = []byte("x"); return r }(), 401, wire.CodeUnauthorized},
		{"signature by another key", func() rawRequest { r := post(good); r.key = stranger; return r }(), 401, wire.CodeUnauthorized},
		{"signature for another path", func() rawRequest {
			r := post(good)
			r.signPath = wire.PathFeed
			return r
		}(), 401, wire.CodeUnauthorized},
		{"unknown terminal", func() rawRequest { r := post(good); r.terminal = "01234567-89ab-7def-8123-456789abcdef"; return r }(), 401, wire.CodeUnauthorized},
		{"time 10 minutes ahead", func() rawRequest { r := post(good); r.at = c.Now().Add(10 * time.Minute); return r }(), 401, wire.CodeClockSkew},
		{"time a day behind", func() rawRequest { r := post(good); r.at = c.Now().Add(-24 * time.Hour); return r }(), 401, wire.CodeClockSkew},
		{"replayed request", replay, 401, wire.CodeReplay},
		{"another site's sale", post(events(otherSiteSale)), 403, wire.CodeForbidden},
		{"another terminal's events", post(events(func(es []terminal.Event) {
			for i := range es {
				es[i].Terminal = other.id
			}
		})), 403, wire.CodeForbidden},
		{"events signed by another terminal", func() rawRequest {
			r := post(good)
			r.key, r.terminal = other.key(t), other.id
			return r
		}(), 403, wire.CodeForbidden},
		{"a gap", post(events(func(es []terminal.Event) {
			for i := range es {
				es[i].Seq += 5
			}
		})), 409, wire.CodeGap},
		{"seq beyond 2^40", post(events(func(es []terminal.Event) {
			for i := range es {
				es[i].Seq += wire.MaxSeq
			}
		})), 400, wire.CodeInvalid},
		{"seqs not consecutive", post(upload(append(append([]terminal.Event{}, evs[:1]...), pending...))), 400, wire.CodeInvalid},
		{"bad event id", post(events(func(es []terminal.Event) { es[0].ID = "not-a-uuid" })), 400, wire.CodeInvalid},
		{"bad hash", post(events(func(es []terminal.Event) { es[0].Hash = "zz" })), 400, wire.CodeInvalid},
		{"bad feed cursor", sign(rawRequest{method: http.MethodPost, path: wire.PathFeed, body: wire.Compress([]byte(`{"cursors":{"x":-1}}`)), gzip: true}), 400, wire.CodeInvalid},
		{"bad catalogue query", sign(rawRequest{method: http.MethodGet, path: wire.PathCatalogue + "?after=-1"}), 400, wire.CodeMalformed},
		{"enroll: garbage", rawRequest{method: http.MethodPost, path: wire.PathEnroll, body: []byte(`{{`), noSign: true}, 400, wire.CodeMalformed},
		{"enroll: unknown token", rawRequest{method: http.MethodPost, path: wire.PathEnroll, noSign: true, body: enrollBody(t, te, "abcdef")}, 403, wire.CodeTokenInvalid},
		{"enroll: bad proof", rawRequest{method: http.MethodPost, path: wire.PathEnroll, noSign: true, body: func() []byte {
			var r wire.EnrollRequest
			json.Unmarshal(enrollBody(t, te, "abcdef"), &r)
			r.Proof[0] ^= 1
			b, _ := json.Marshal(r)
			return b
		}()}, 401, wire.CodeUnauthorized},
		{"wrong method", sign(rawRequest{method: http.MethodGet, path: wire.PathEvents}), 405, wire.CodeMethod},
		{"unknown path", sign(rawRequest{method: http.MethodGet, path: "/v2/events"}), 404, wire.CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, err := h.Store().Counts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			code, body := tt.req.do(t, h)
			if code != tt.code {
				t.Fatalf("status %d (%s); want %d", code, body, tt.code)
			}
			if tt.err != "" {
				var we wire.Error
				if err := json.Unmarshal(body, &we); err != nil || we.Code != tt.err || we.Message == "" {
					t.Errorf("answer %s; want error %q with a message", body, tt.err)
				}
			}
			after, err := h.Store().Counts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(before, after) {
				t.Errorf("store changed: %v → %v", before, after)
			}
		})
	}
	// After all that, the real upload goes through.
	if code, r, we := postEvents(t, h, te, pending, nil); code != 200 || r.Applied != len(pending) {
		t.Fatalf("good upload: %d %+v %+v", code, r, we)
	}
	syncAll(t, te, other)
	checkExactlyOnce(t, h, te, other)
}

func enrollBody(t testing.TB, te *termEnv, token string) []byte {
	t.Helper()
	key := te.key(t)
	pub := key.Public().(ed25519.PublicKey)
	b, err := json.Marshal(wire.EnrollRequest{Token: token, TerminalID: te.id, Site: "NNP", Name: te.name, PublicKey: pub,
		Proof: ed25519.Sign(key, wire.EnrollMessage(token, te.id, pub))})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
