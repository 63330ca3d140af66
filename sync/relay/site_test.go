package relay

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/client"
	"github.com/lango-pos/lango/sync/hub"
	hubsqlite "github.com/lango-pos/lango/sync/hub/sqlite"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
	"github.com/lango-pos/lango/terminal/sqlite/sqlitetest"
)

// TestHubSettingTakesSeveralURLs: the hub setting is URLs in order of
// preference; a wrong one among them is refused and nothing stored.
func TestHubSettingTakesSeveralURLs(t *testing.T) {
	s := newSite(t, 50*time.Millisecond)
	l := s.addLane("gate-1", client.Config{})
	ctx := context.Background()
	want := s.lan.URL() + " " + s.laneWAN.URL()
	if got, _ := l.db.Setting(ctx, "hub"); got != want {
		t.Fatalf("hub = %q; want %q", got, want)
	}
	if _, err := l.db.SetSetting(ctx, "admin", "hub", s.lan.URL()+"  ftp://centre"); terminal.ErrorKind(err) != terminal.EINVALID {
		t.Fatalf("a list with a bad URL: %v; want EINVALID", err)
	}
	if got, _ := l.db.Setting(ctx, "hub"); got != want {
		t.Errorf("after the refusal hub = %q; want %q", got, want)
	}
	if _, err := client.Enroll(ctx, l.db, want, "sometoken"); terminal.ErrorKind(err) != terminal.EINVALID {
		t.Errorf("enrolling with two hubs at once: %v; want EINVALID", err)
	}
	if got, _ := l.db.Setting(ctx, "hub"); got != want {
		t.Errorf("after the refused enrollment hub = %q; want %q", got, want)
	}
}

// TestFallbackAndReturn: a lane whose relay is down syncs with the centre;
// when the relay returns the lane goes back to it; every event reaches the
// centre once whichever way it went, and the relay holds the lane's whole
// history again (its feed serves the others).
func TestFallbackAndReturn(t *testing.T) {
	ctx := context.Background()
	s := newSite(t, 50*time.Millisecond)
	a := s.addLane("gate-1", client.Config{BatchSize: 7})
	b := s.addLane("exit-1", client.Config{BatchSize: 7})
	for range 10 {
		a.sell("cash")
	}
	a.mustSync()
	b.mustSync()
	s.waitCentre(10 * time.Second)

	s.lan.set(true) // the relay's machine is off
	deferred := a.sell("defer")
	for range 10 {
		a.sell("cash")
	}
	a.mustSync()
	if ct, _ := s.centre.Terminal(ctx, a.id); ct.LastSeq != int64(len(a.events())) {
		t.Fatalf("with the relay down the centre holds %d of a's %d events; want all (a fell back)", ct.LastSeq, len(a.events()))
	}
	// b, also without the relay, learns of the deferred sale's pass from
	// the centre, and settles it.
	if _, err := b.db.Settle(ctx, b.admin, deferred.Pass, []terminal.TenderRequest{{Kind: terminal.TenderCash}}); err != nil {
		t.Fatal(err)
	}
	b.mustSync()

	s.lan.set(false) // back
	for range 5 {
		a.sell("cash")
	}
	a.mustSync()
	lt, err := s.local.Terminal(ctx, a.id)
	if err != nil {
		t.Fatal(err)
	}
	if lt.LastSeq != int64(len(a.events())) {
		t.Errorf("after the relay returned it holds %d of a's %d events; want all (a came back to it)", lt.LastSeq, len(a.events()))
	}
	s.waitCentre(10 * time.Second)
	s.checkExactlyOnce()
	// b's settlement went to the centre only; the relay brings it down,
	// so a refuses the pass through the relay with the WAN down.
	if err := s.relay.Once(ctx); err != nil {
		t.Fatal(err)
	}
	s.wan.set(true)
	s.laneWAN.set(true)
	a.mustSync()
	if _, err := a.db.Settle(ctx, a.admin, deferred.Pass, []terminal.TenderRequest{{Kind: terminal.TenderCash}}); pass.ReasonOf(err) != pass.AlreadyUsed {
		t.Errorf("a settling a pass b settled at the centre, through the relay: %v; want already_used", err)
	}
}

// TestRevocationThroughRelay: a terminal revoked at the centre is refused
// at the relay, and its passes not received before the revocation are
// refused at every lane through the relay while the WAN is down.
func TestRevocationThroughRelay(t *testing.T) {
	ctx := context.Background()
	s := newSite(t, 50*time.Millisecond)
	thief := s.addLane("gate-9", client.Config{})
	exit := s.addLane("exit-1", client.Config{})
	thief.sell("cash")
	thief.mustSync()
	exit.mustSync()
	s.waitCentre(10 * time.Second)
	if err := s.hub.RevokeTerminal(ctx, "NNP", "gate-9"); err != nil {
		t.Fatal(err)
	}
	stolen := thief.sell("defer") // sold after the theft
	if err := s.relay.Once(ctx); err != nil {
		t.Fatal(err)
	}
	s.wan.set(true)
	s.laneWAN.set(true)
	exit.mustSync()
	pc, err := exit.db.CheckPass(ctx, stolen.Pass)
	if err != nil || pc.Refusal == nil || pc.Refusal.Reason != pass.Revoked {
		t.Fatalf("exit checks a pass of the revoked terminal through the relay: %v, %+v; want revoked", err, pc)
	}
	if err := thief.sync(); terminal.ErrorKind(err) != terminal.EUNAUTHORIZED {
		t.Errorf("the revoked terminal syncs with the relay: %v; want refused", err)
	}
}

// TestConflictWhileCutOffReportedOnce: two exit lanes that could reach
// neither the relay nor the centre settle the same deferred pass; once
// they reach the relay again the centre's report lists the double
// settlement once, with where each happened.
func TestConflictWhileCutOffReportedOnce(t *testing.T) {
	ctx := context.Background()
	s := newSite(t, 50*time.Millisecond)
	entry := s.addLane("entry-1", client.Config{})
	x1 := s.addLane("exit-1", client.Config{})
	x2 := s.addLane("exit-2", client.Config{})
	van := entry.sell("defer")
	entry.mustSync()
	s.lan.set(true)
	s.laneWAN.set(true)
	for _, x := range []*lane{x1, x2} {
		if _, err := x.db.Settle(ctx, x.admin, van.Pass, []terminal.TenderRequest{{Kind: terminal.TenderCash}}); err != nil {
			t.Fatalf("%s settles offline: %v", x.name, err)
		}
	}
	s.lan.set(false)
	s.laneWAN.set(false)
	for range 2 {
		for _, l := range s.lanes {
			l.mustSync()
		}
	}
	s.waitCentre(10 * time.Second)
	s.checkExactlyOnce()
	r, err := s.hub.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var twice []hub.Conflict
	for _, c := range r.Conflicts {
		if c.Kind == "pass_settled_twice" {
			twice = append(twice, c)
		}
	}
	if len(twice) != 1 || len(twice[0].Uses) != 2 || twice[0].PassID != van.ID {
		t.Fatalf("the report's double settlements: %+v; want one, of the van's pass, with two uses", twice)
	}
	where := map[string]bool{}
	for _, u := range twice[0].Uses {
		where[u.Terminal] = true
	}
	if !where["exit-1"] || !where["exit-2"] {
		t.Errorf("the conflict's uses are at %v; want exit-1 and exit-2", where)
	}
}

// TestRevokedRelayStepsAside: a relay revoked at the centre (stolen, or
// replaced) answers its lanes 503, so they sync with the centre and their
// events do not stay at a relay the centre refuses.
func TestRevokedRelayStepsAside(t *testing.T) {
	ctx := context.Background()
	s := newSite(t, 20*time.Millisecond)
	l := s.addLane("gate-1", client.Config{})
	l.mustSync()
	if err := s.hub.RevokeTerminal(ctx, "NNP", "hq"); err != nil {
		t.Fatal(err)
	}
	if err := s.relay.Once(ctx); err == nil {
		t.Fatal("a revoked relay's exchange with the centre succeeded")
	}
	l.sell("cash")
	l.mustSync()
	if ct, _ := s.centre.Terminal(ctx, l.id); ct.LastSeq != int64(len(l.events())) {
		t.Errorf("with its relay revoked the centre holds %d of the lane's %d events; want all", ct.LastSeq, len(l.events()))
	}
	if lt, _ := s.local.Terminal(ctx, l.id); lt.LastSeq == int64(len(l.events())) {
		t.Errorf("the revoked relay took the lane's last sale")
	}
}

// TestOperatorsThroughRelay: an operator added at one lane with the WAN
// down can sign in at the next through the relay.
func TestOperatorsThroughRelay(t *testing.T) {
	ctx := context.Background()
	s := newSite(t, 50*time.Millisecond)
	a := s.addLane("gate-1", client.Config{})
	b := s.addLane("gate-2", client.Config{})
	a.mustSync()
	b.mustSync()
	s.wan.set(true)
	s.laneWAN.set(true)
	if _, err := a.db.AddOperator(ctx, a.admin, "wanjiru", "attendant", "4321"); err != nil {
		t.Fatal(err)
	}
	a.mustSync()
	b.mustSync()
	if _, err := b.db.Authenticate(ctx, "wanjiru", "4321"); err != nil {
		t.Errorf("an operator added at gate-1 signs in at gate-2 through the relay: %v", err)
	}
}

// TestCatalogueThroughRelay: a catalogue published at the centre reaches
// a lane through the relay, signed as the centre signed it, with the WAN
// down by the time the lane syncs.
func TestCatalogueThroughRelay(t *testing.T) {
	ctx := context.Background()
	s := newSite(t, 50*time.Millisecond)
	l := s.addLane("gate-1", client.Config{})
	l.mustSync()
	newCat := bytes.Replace(sqlitetest.Catalogue(t), []byte(`"version": "KWS-2024.1"`), []byte(`"version": "KWS-2024.2"`), 1)
	if _, err := s.hub.PublishCatalogue(ctx, "NNP", newCat); err != nil {
		t.Fatal(err)
	}
	if err := s.relay.Once(ctx); err != nil {
		t.Fatal(err)
	}
	s.wan.set(true)
	s.laneWAN.set(true)
	l.mustSync()
	cat, err := l.db.Catalogue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cat.Version != "KWS-2024.2" {
		t.Errorf("the lane sells on catalogue %s; want KWS-2024.2 from the centre through the relay", cat.Version)
	}
}

// TestCentreRestoredBehindRelay: the centre is restored from a backup
// older than what the relay has forwarded (and dropped): the relay lowers
// its state for the lane to the centre's, the lane sends the rest again
// through the relay, and the centre holds every event once.
func TestCentreRestoredBehindRelay(t *testing.T) {
	ctx := context.Background()
	s := newSite(t, 20*time.Millisecond)
	l := s.addLane("gate-1", client.Config{BatchSize: 5})
	for range 5 {
		l.sell("cash")
	}
	l.mustSync()
	s.waitCentre(10 * time.Second)
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := s.centre.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		l.sell("cash")
	}
	l.mustSync()
	s.waitCentre(10 * time.Second)
	// The centre holds them once it committed; the relay drops them once
	// its answer is back: poll for that, a little later.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st, _ := s.relay.Status(ctx)
		if st.Counts["uploads"] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the relay keeps %d uploads the centre holds; want them dropped", st.Counts["uploads"])
		}
	}
	// Restore the centre's file from the backup.
	path := s.centre.Path()
	s.wan.handle(nil)
	s.laneWAN.handle(nil)
	if err := s.centre.Close(); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
	b, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := hubsqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s.centre, s.hub = st, hub.New(st, hub.Options{Logger: discard()})
	srv := hub.NewServer(s.hub)
	s.wan.handle(srv)
	s.laneWAN.handle(srv)
	if err := s.relay.Once(ctx); err != nil {
		t.Fatal(err)
	}
	s.laneWAN.set(true) // the lane can reach only the relay
	l.mustSync()
	s.waitCentre(10 * time.Second)
	s.checkExactlyOnce()
}

// TestMpesaCodeThroughRelay: with the WAN down, an M-PESA code taken at one
// lane is refused at the next once both have synced with the relay.
func TestMpesaCodeThroughRelay(t *testing.T) {
	ctx := context.Background()
	s := newSite(t, 50*time.Millisecond)
	gate := s.addLane("gate-1", client.Config{})
	exit := s.addLane("exit-1", client.Config{})
	gate.mustSync()
	exit.mustSync()
	s.wan.set(true)
	s.laneWAN.set(true)
	code, _ := terminal.ParseTender("mpesa:SRLAY12345")
	sale := terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 1}}, Tenders: []terminal.TenderRequest{code}}
	if _, err := gate.db.Sell(ctx, gate.admin, sale, nil); err != nil {
		t.Fatal(err)
	}
	gate.mustSync()
	exit.mustSync()
	if _, err := exit.db.Sell(ctx, exit.admin, sale, nil); terminal.ErrorKind(err) != terminal.ECONFLICT {
		t.Fatalf("the code taken at gate-1, offered at exit-1 with the WAN down: %v; want ECONFLICT", err)
	}
}
