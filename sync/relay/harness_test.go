package relay

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/client"
	"github.com/lango-pos/lango/sync/hub"
	hubsqlite "github.com/lango-pos/lango/sync/hub/sqlite"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
	"github.com/lango-pos/lango/terminal/sqlite/sqlitetest"
)

// front is a loopback listener in front of a handler that can be
// partitioned (every request's connection cut) or have nothing behind it.
type front struct {
	mu   sync.Mutex
	down bool
	h    http.Handler
	srv  *httptest.Server
}

func newFront(t testing.TB, h http.Handler) *front {
	f := &front{h: h}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *front) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	down, h := f.down, f.h
	f.mu.Unlock()
	if down || h == nil {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	h.ServeHTTP(w, r)
}

func (f *front) set(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
	if down {
		f.srv.CloseClientConnections()
	}
}

func (f *front) handle(h http.Handler) {
	f.mu.Lock()
	f.h = h
	f.mu.Unlock()
}

func (f *front) URL() string { return f.srv.URL }

// site is a central hub, a relay of NNP and its lanes, each link a front
// that can be cut: relay ↔ centre (wan), lanes ↔ centre (laneWAN), lanes
// ↔ relay (lan).
type site struct {
	t       testing.TB
	centre  *hubsqlite.Store
	hub     *hub.Hub
	wan     *front
	laneWAN *front
	lan     *front

	dir      string
	local    *hubsqlite.Store
	relay    *Relay
	interval time.Duration
	lanes    []*lane
}

func newSite(t testing.TB, interval time.Duration) *site {
	t.Helper()
	ctx := context.Background()
	st, err := hubsqlite.Open(ctx, filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New(st, hub.Options{Logger: discard()})
	srv := hub.NewServer(h)
	s := &site{t: t, centre: st, hub: h, wan: newFront(t, srv), laneWAN: newFront(t, srv), lan: newFront(t, nil), dir: t.TempDir(), interval: interval}
	t.Cleanup(func() { s.stopRelay(); s.centre.Close() })
	tok, err := h.AddRelay(ctx, "NNP", "hq")
	if err != nil {
		t.Fatal(err)
	}
	s.startRelay()
	if err := s.relay.Enroll(ctx, tok); err != nil {
		t.Fatal(err)
	}
	s.relay.Start(ctx)
	return s
}

// startRelay opens the relay's stores and serves it (not started if it
// is not enrolled yet).
func (s *site) startRelay() {
	s.t.Helper()
	ctx := context.Background()
	local, err := hubsqlite.Open(ctx, filepath.Join(s.dir, "hub.db"))
	if err != nil {
		s.t.Fatal(err)
	}
	r, err := Open(ctx, local, filepath.Join(s.dir, "relay.db"), Options{Upstream: s.wan.URL(), Interval: s.interval, Logger: discard(),
		HTTPClient: &http.Client{Timeout: 5 * time.Second}})
	if err != nil {
		s.t.Fatal(err)
	}
	s.local, s.relay = local, r
	if r.Enrolled() {
		r.Start(ctx)
	}
	s.lan.handle(r)
}

// stopRelay ends the relay abruptly: connections in flight are cut, the
// stores closed.
func (s *site) stopRelay() {
	if s.relay == nil {
		return
	}
	s.lan.handle(nil)
	s.lan.srv.CloseClientConnections()
	s.relay.Close()
	s.local.Close()
	s.relay, s.local = nil, nil
}

// lane is a terminal of NNP enrolled through the relay, with hubs
// "relay centre".
type lane struct {
	t      testing.TB
	name   string
	id     string
	db     *sqlite.DB
	admin  *terminal.Operator
	syncer *client.Syncer
}

func (s *site) addLane(name string, cfg client.Config) *lane {
	s.t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(s.t.TempDir(), "lango.db"))
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { db.Close() })
	id, err := db.Init(ctx, terminal.InitRequest{Site: "NNP", Name: name, Catalogue: sqlitetest.Catalogue(s.t), AdminPIN: sqlitetest.AdminPIN})
	if err != nil {
		s.t.Fatal(err)
	}
	admin, err := db.Authenticate(ctx, "admin", sqlitetest.AdminPIN)
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := db.OpenShift(ctx, admin, terminal.Totals{"KES": 0}); err != nil {
		s.t.Fatal(err)
	}
	tok, err := s.hub.AddTerminal(ctx, "NNP", name)
	if err != nil {
		s.t.Fatal(err)
	}
	if cfg.Logger == nil {
		cfg.Logger = discard()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if _, err := client.EnrollWith(ctx, db, s.lan.URL(), tok, cfg); err != nil {
		s.t.Fatalf("%s enrolls through the relay: %v", name, err)
	}
	if _, err := db.SetSetting(ctx, "admin", "hub", s.lan.URL()+" "+s.laneWAN.URL()); err != nil {
		s.t.Fatal(err)
	}
	l := &lane{t: s.t, name: name, id: id.TerminalID, db: db, admin: admin, syncer: client.New(db, cfg)}
	s.lanes = append(s.lanes, l)
	return l
}

func (l *lane) sell(tender string) *terminal.Sale {
	l.t.Helper()
	ctx := context.Background()
	tr, err := terminal.ParseTender(tender)
	if err != nil {
		l.t.Fatal(err)
	}
	iss, err := l.db.PassIssuer(ctx)
	if err != nil {
		l.t.Fatal(err)
	}
	res, err := l.db.Sell(ctx, l.admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 2}, {Code: "CAR", Qty: 1}},
		Vehicle: "KDA 123A", Tenders: []terminal.TenderRequest{tr}}, iss)
	if err != nil {
		l.t.Fatalf("%s sells %s: %v", l.name, tender, err)
	}
	return res.Sale
}

func (l *lane) sync() error { return l.syncer.Once(context.Background()) }

func (l *lane) mustSync() {
	l.t.Helper()
	if err := l.sync(); err != nil {
		l.t.Fatalf("%s sync: %v", l.name, err)
	}
}

func (l *lane) events() []terminal.Event {
	l.t.Helper()
	evs, err := l.db.Events(context.Background(), 0, 1<<30)
	if err != nil {
		l.t.Fatal(err)
	}
	return evs
}

// waitCentre waits until the centre holds every event of every lane.
func (s *site) waitCentre(d time.Duration) {
	s.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(d)
	for {
		behind := ""
		for _, l := range s.lanes {
			ls, err := l.db.SyncState(ctx)
			if err != nil {
				s.t.Fatal(err)
			}
			ct, err := s.centre.Terminal(ctx, l.id)
			if err != nil {
				s.t.Fatal(err)
			}
			if ct.LastSeq < ls.LastSeq {
				behind += fmt.Sprintf(" %s %d/%d", l.name, ct.LastSeq, ls.LastSeq)
			}
		}
		if behind == "" {
			return
		}
		if time.Now().After(deadline) {
			st, _ := s.relayStatus()
			s.t.Fatalf("the centre is behind:%s (relay %+v)", behind, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *site) relayStatus() (Status, error) {
	if s.relay == nil {
		return Status{}, nil
	}
	return s.relay.Status(context.Background())
}

// checkExactlyOnce: the centre holds each lane's events once, in order,
// byte for byte, and no other.
func (s *site) checkExactlyOnce() {
	s.t.Helper()
	ctx := context.Background()
	total := 0
	for _, l := range s.lanes {
		want := l.events()
		got, err := s.centre.TerminalEvents(ctx, l.id, 0, 1<<30)
		if err != nil {
			s.t.Fatal(err)
		}
		if len(got) != len(want) {
			s.t.Fatalf("the centre holds %d events of %s; want %d", len(got), l.name, len(want))
		}
		for i := range want {
			if got[i].ID != want[i].ID || got[i].Hash != want[i].Hash || !bytes.Equal(got[i].Payload, want[i].Payload) {
				s.t.Fatalf("%s event %d differs at the centre", l.name, want[i].Seq)
			}
		}
		total += len(want)
	}
	c, err := s.centre.Counts(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	if c["events"] != total {
		s.t.Errorf("the centre's events table has %d rows; want %d", c["events"], total)
	}
}
