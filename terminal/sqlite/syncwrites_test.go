package sqlite_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/lango-pos/lango/internal/sqlitefile"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
)

// commits watches a store's file from a connection of its own: PRAGMA
// data_version changes when another connection commits a change.
type commits struct {
	t    *testing.T
	conn *sql.Conn
	last int64
}

func watchCommits(t *testing.T, path string) *commits {
	t.Helper()
	rdb, err := sql.Open("sqlite", sqlitefile.DSN(path, true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	conn, err := rdb.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &commits{t: t, conn: conn}
	c.last = c.version()
	return c
}

func (c *commits) version() int64 {
	c.t.Helper()
	var v int64
	if err := c.conn.QueryRowContext(context.Background(), `PRAGMA data_version`).Scan(&v); err != nil {
		c.t.Fatal(err)
	}
	return v
}

// changed reports whether the store committed a change since the last call.
func (c *commits) changed() bool {
	c.t.Helper()
	v := c.version()
	defer func() { c.last = v }()
	return v != c.last
}

// The feed path writes only what changed: every feed answer lists every
// peer of the site with its cursor (143 at a site of the national
// backlog), repeats the hub's compact-pass promise, and most carry no
// certificate; the store used to rewrite all of it, in transactions of
// their own, at every exchange.
func TestFeedWritesOnlyWhatChanged(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	id, _ := f.db.Identity(ctx)
	w := watchCommits(t, f.path)
	const peerA, peerB = "0190a000-0000-7000-8000-0000000000aa", "0190a000-0000-7000-8000-0000000000bb"
	peers := []terminal.FeedPeer{{TerminalID: peerA, Name: "exit-1", Seq: 12}, {TerminalID: peerB, Name: "exit-2", Seq: 3}, {TerminalID: id.TerminalID, Name: "gate-1", Seq: 40}}

	steps := []struct {
		what   string
		do     func() error
		change bool
	}{
		{"new peers", func() error { _, err := f.db.ApplyFeed(ctx, nil, peers); return err }, true},
		{"the same peers again", func() error { _, err := f.db.ApplyFeed(ctx, nil, peers); return err }, false},
		{"a cursor behind the one held", func() error {
			_, err := f.db.ApplyFeed(ctx, nil, []terminal.FeedPeer{{TerminalID: peerA, Name: "exit-1", Seq: 4}})
			return err
		}, false},
		{"an event already read", func() error {
			_, err := f.db.ApplyFeed(ctx, []terminal.FeedEvent{feedEvent(t, peerA, "exit-1", 5, terminal.EventPassUsed, map[string]any{"pass_id": "0190b000-0000-7000-8000-00000000000b"})}, peers)
			return err
		}, false},
		{"a cursor that moves", func() error {
			_, err := f.db.ApplyFeed(ctx, nil, []terminal.FeedPeer{{TerminalID: peerB, Name: "exit-2", Seq: 4}})
			return err
		}, true},
		{"a peer renamed", func() error {
			_, err := f.db.ApplyFeed(ctx, nil, []terminal.FeedPeer{{TerminalID: peerB, Name: "exit-2b", Seq: 4}})
			return err
		}, true},
		{"a new event", func() error {
			_, err := f.db.ApplyFeed(ctx, []terminal.FeedEvent{feedEvent(t, peerA, "exit-1", 13, terminal.EventPassUsed, map[string]any{"pass_id": "0190b000-0000-7000-8000-00000000000b"})}, nil)
			return err
		}, true},
		{"a promise", func() error { return f.db.SetCompactKeys(ctx, []string{"0000000b", "0000000a"}) }, true},
		{"the same promise in another order", func() error { return f.db.SetCompactKeys(ctx, []string{"0000000a", "0000000b"}) }, false},
		{"a promise withdrawn", func() error { return f.db.SetCompactKeys(ctx, []string{"0000000a"}) }, true},
		{"no certificates", func() error {
			n, err := f.db.AddPeerCertificates(ctx, peers)
			if n != 0 {
				t.Errorf("refused %d of no certificates", n)
			}
			return err
		}, false},
		{"this terminal's own certificate", func() error {
			_, err := f.db.AddPeerCertificates(ctx, []terminal.FeedPeer{{TerminalID: id.TerminalID, Name: "gate-1", Certificate: "-----BEGIN LANGO TERMINAL CERTIFICATE-----"}})
			return err
		}, false},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.what, err)
		}
		if got := w.changed(); got != s.change {
			t.Errorf("%s: committed a change %v; want %v", s.what, got, s.change)
		}
	}
	got, err := f.db.FeedPeers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]terminal.FeedPeer{peerA: {TerminalID: peerA, Name: "exit-1", Seq: 12}, peerB: {TerminalID: peerB, Name: "exit-2b", Seq: 4}}
	if len(got) != len(want) {
		t.Fatalf("peers = %+v; want %+v", got, want)
	}
	for _, p := range got {
		if p != want[p.TerminalID] {
			t.Errorf("peer %+v; want %+v", p, want[p.TerminalID])
		}
	}
	if holds, _ := f.db.PeerCertificateHolds(ctx); len(holds) != 0 {
		t.Errorf("holds = %v; want none", holds)
	}
}

// Certificates are checked before the store's transaction now: a peer's
// is kept only when it is of this site and signed by an authority the
// terminal trusts, and a page whose certificates are all refused writes
// nothing.
func TestPeerCertificatesCheckedBeforeKept(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	id, _ := f.db.Identity(ctx)
	var priv []byte
	if err := f.db.SQL().QueryRowContext(ctx, `SELECT private FROM keys WHERE kind = 'authority'`).Scan(&priv); err != nil {
		t.Fatal(err)
	}
	key, err := pass.ParsePrivateKeyPEM(priv)
	if err != nil {
		t.Fatal(err)
	}
	trusted, err := pass.AuthorityFromKey(key)
	if err != nil {
		t.Fatal(err)
	}
	other, err := pass.NewAuthority(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := func(a *pass.Authority, site, name string) (string, string) {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		c, err := a.Certify(site, name, pub, outageDay.Add(-time.Hour), outageDay.Add(365*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		b, err := c.MarshalPEM()
		if err != nil {
			t.Fatal(err)
		}
		return string(b), c.KeyID().String()
	}
	good, goodID := certPEM(trusted, id.Site, "exit-1")
	otherSite, _ := certPEM(trusted, "AMB", "gate-9")
	forged, _ := certPEM(other, id.Site, "exit-2")
	const p1, p2, p3, p4 = "0190a000-0000-7000-8000-0000000000a1", "0190a000-0000-7000-8000-0000000000a2", "0190a000-0000-7000-8000-0000000000a3", "0190a000-0000-7000-8000-0000000000a4"
	w := watchCommits(t, f.path)
	bad := []terminal.FeedPeer{{TerminalID: p2, Certificate: otherSite}, {TerminalID: p3, Certificate: forged}, {TerminalID: p4, Certificate: "not a certificate"}}
	if n, err := f.db.AddPeerCertificates(ctx, bad); err != nil || n != 3 {
		t.Errorf("bad certificates: refused %d, %v; want 3", n, err)
	}
	if w.changed() {
		t.Error("refused certificates committed a change")
	}
	if n, err := f.db.AddPeerCertificates(ctx, append(bad, terminal.FeedPeer{TerminalID: p1, Name: "exit-1", Certificate: good})); err != nil || n != 3 {
		t.Errorf("with a good one: refused %d, %v; want 3", n, err)
	}
	if holds, _ := f.db.PeerCertificateHolds(ctx); len(holds) != 1 || holds[0] != goodID {
		t.Errorf("holds = %v; want [%s]", holds, goodID)
	}
}

// The benchmarks' queue is stored as the store keeps a shift's sales:
// compressed against a dictionary, read back as the bytes hashed. (It
// was stored raw, so the drain benchmarks never paid the decoding a
// terminal in the field pays to upload.)
func TestAppendEventsForBenchmarkStoresAsTheStoreDoes(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	before, _ := f.db.SyncState(ctx)
	payload := func(i int) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"id":"0190c000-0000-7000-8000-%012d","site":"NNP","lines":[{"code":"ADULT-EAC","name":"Adult, East African citizen","qty":2,"price":{"KES":43000}},{"code":"CHILD-EAC","name":"Child, East African citizen","qty":2,"price":{"KES":21500}}],"vehicle":"KCB %03dA"}`, i, i%1000))
	}
	const n = 1200
	if err := f.db.AppendEventsForBenchmark(ctx, n, terminal.EventSaleCreated, payload); err != nil {
		t.Fatal(err)
	}
	var raw, stored int
	if err := f.db.SQL().QueryRowContext(ctx, `SELECT count(*), sum(length(payload)) FROM events WHERE seq > ?`, before.LastSeq).Scan(&raw, &stored); err != nil {
		t.Fatal(err)
	}
	if want := len(payload(0)); stored > n*want/3 {
		t.Errorf("%d payloads of %d bytes stored in %d bytes; want them compressed", raw, want, stored)
	}
	evs, err := f.db.Events(ctx, before.LastSeq, n+1)
	if err != nil || len(evs) != n {
		t.Fatalf("events = %d, %v; want %d", len(evs), err, n)
	}
	chain := &terminal.ChainVerifier{LastSeq: before.LastSeq, LastHash: evs[0].PrevHash}
	for i, e := range evs {
		if err := chain.Next(&e); err != nil {
			t.Fatalf("chain at %d: %v", e.Seq, err)
		}
		if string(e.Payload) != string(payload(i)) || e.ComputeHash() != e.Hash {
			t.Fatalf("event %d reads back as %s (hash ok %v); want %s", e.Seq, e.Payload, e.ComputeHash() == e.Hash, payload(i))
		}
	}
}

// Events read in a batch give each event the previous hash a read of that
// event alone gives (the row before's, taken from the same scan now), also
// across a row removed behind the store's back.
func TestEventsBatchAgreesWithSingleReads(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	iss := issuer(t, f)
	for range 5 {
		if _, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Vehicle: "KCB 123A", Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCash}}}, iss); err != nil {
			t.Fatal(err)
		}
	}
	check := func(what string) {
		t.Helper()
		st, _ := f.db.SyncState(ctx)
		for after := int64(0); after < st.LastSeq; after += 3 {
			batch, err := f.db.Events(ctx, after, 1000)
			if err != nil {
				t.Fatalf("%s: events after %d: %v", what, after, err)
			}
			for _, e := range batch {
				one, err := f.db.Events(ctx, e.Seq-1, 1)
				if err != nil || len(one) != 1 {
					t.Fatalf("%s: event %d alone: %v", what, e.Seq, err)
				}
				if e.PrevHash != one[0].PrevHash || e.Hash != one[0].Hash || string(e.Payload) != string(one[0].Payload) {
					t.Errorf("%s: event %d after %d: previous hash %q, read alone %q", what, e.Seq, after, e.PrevHash, one[0].PrevHash)
				}
			}
		}
	}
	check("whole")
	if _, err := f.db.SQL().Exec(`DROP TRIGGER events_no_delete`); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.SQL().Exec(`PRAGMA foreign_keys = OFF; DELETE FROM events WHERE seq = 7; PRAGMA foreign_keys = ON`); err != nil {
		t.Fatal(err)
	}
	check("seq 7 removed")
	evs, _ := f.db.Events(ctx, 0, 1000)
	chain := &terminal.ChainVerifier{}
	var broken error
	for i := range evs {
		if broken = chain.Next(&evs[i]); broken != nil {
			break
		}
	}
	if broken == nil {
		t.Error("a chain with a row removed verifies")
	}
}
