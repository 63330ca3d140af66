package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/client"
	"github.com/lango-pos/lango/sync/hub"
	hubsqlite "github.com/lango-pos/lango/sync/hub/sqlite"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
	"github.com/lango-pos/lango/terminal/sqlite"
	"github.com/lango-pos/lango/terminal/sqlite/sqlitetest"
)

// proc is `lango-hub serve` (central or relay) as a child process.
type proc struct {
	t      *testing.T
	args   []string
	listen string
	cmd    *exec.Cmd
	stderr *bytes.Buffer
}

func (p *proc) start() {
	p.t.Helper()
	cmd := exec.Command(os.Args[0], append(append([]string{}, p.args...), "--listen", p.listen, "--log-level", "error")...)
	cmd.Env = append(os.Environ(), "LANGO_TEST_MAIN=1")
	p.stderr = &bytes.Buffer{}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.cmd = cmd
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + p.listen + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) || cmd.ProcessState != nil {
			p.t.Fatalf("lango-hub %v did not answer /healthz: %v\n%s", p.args, err, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *proc) kill() {
	p.t.Helper()
	if p.cmd == nil || p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
}

func (p *proc) url() string { return "http://" + p.listen }

// link is a loopback TCP proxy that can be cut: the WAN between the site
// and the centre.
type link struct {
	t      *testing.T
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]bool
}

func newLink(t *testing.T, target string) *link {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &link{t: t, ln: ln, target: target, conns: map[net.Conn]bool{}}
	go l.accept()
	t.Cleanup(func() { ln.Close(); l.cut() })
	return l
}

func (l *link) url() string { return "http://" + l.ln.Addr().String() }

func (l *link) accept() {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		l.mu.Lock()
		down := l.down
		l.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		u, err := net.Dial("tcp", l.target)
		if err != nil {
			c.Close()
			continue
		}
		l.mu.Lock()
		l.conns[c], l.conns[u] = true, true
		l.mu.Unlock()
		go func() { io.Copy(u, c); u.Close(); c.Close() }()
		go func() { io.Copy(c, u); u.Close(); c.Close() }()
	}
}

// cut drops every connection and refuses new ones.
func (l *link) cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.down = true
	for c := range l.conns {
		c.Close()
	}
	l.conns = map[net.Conn]bool{}
}

func (l *link) heal() {
	l.mu.Lock()
	l.down = false
	l.mu.Unlock()
}

// lane is a terminal store of NNP, enrolled through the relay, with hubs
// "relay centre".
type lane struct {
	t      *testing.T
	name   string
	id     string
	db     *sqlite.DB
	admin  *terminal.Operator
	syncer *client.Syncer
	sales  int
}

func newLane(t *testing.T, ctx context.Context, name, centreData, relayURL, centreURL string) *lane {
	t.Helper()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "lango.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	id, err := db.Init(ctx, terminal.InitRequest{Site: "NNP", Name: name, Catalogue: sqlitetest.Catalogue(t), AdminPIN: sqlitetest.AdminPIN})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := db.Authenticate(ctx, "admin", sqlitetest.AdminPIN)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.OpenShift(ctx, admin, terminal.Totals{"KES": 0}); err != nil {
		t.Fatal(err)
	}
	code, token, stderr := run(t, "terminal", "add", "--data", centreData, "--site", "NNP", "--name", name)
	if code != 0 {
		t.Fatalf("terminal add %s: %s", name, stderr)
	}
	cfg := client.Config{HTTPClient: &http.Client{Timeout: 5 * time.Second}, BatchSize: 25, Logger: quiet()}
	if _, err := client.EnrollWith(ctx, db, relayURL, strings.TrimSpace(token), cfg); err != nil {
		t.Fatalf("%s enrolls through the relay: %v", name, err)
	}
	if _, err := db.SetSetting(ctx, "admin", "hub", relayURL+" "+centreURL); err != nil {
		t.Fatal(err)
	}
	return &lane{t: t, name: name, id: id.TerminalID, db: db, admin: admin, syncer: client.New(db, cfg)}
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
	l.sales++
	return res.Sale
}

// sync runs one exchange, as the sync worker does once per interval.
func (l *lane) sync() error { return l.syncer.Once(context.Background()) }

func (l *lane) mustSync() {
	l.t.Helper()
	if err := l.sync(); err != nil {
		l.t.Fatalf("%s sync: %v", l.name, err)
	}
}

// syncUntil retries the exchange (a relay that is starting, a WAN that is
// returning) until it succeeds.
func (l *lane) syncUntil(d time.Duration) {
	l.t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := l.sync()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("%s sync: %v", l.name, err)
		}
		time.Sleep(50 * time.Millisecond)
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

func quiet() *slog.Logger { return discardLogger() }

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// waitCentre waits until the centre holds every lane's every event.
func waitCentre(t *testing.T, centreData string, d time.Duration, lanes ...*lane) {
	t.Helper()
	ctx := context.Background()
	st, err := hubsqlite.Open(ctx, filepath.Join(centreData, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	deadline := time.Now().Add(d)
	for {
		behind := ""
		for _, l := range lanes {
			evs := l.events()
			ct, err := st.Terminal(ctx, l.id)
			if err != nil {
				t.Fatal(err)
			}
			if ct.LastSeq < evs[len(evs)-1].Seq {
				behind += fmt.Sprintf(" %s %d/%d", l.name, ct.LastSeq, evs[len(evs)-1].Seq)
			}
		}
		if behind == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the centre is behind:%s", behind)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkCentre: the centre holds every event of every lane exactly once,
// in order, byte for byte; its events table has no other rows; the report
// counts them and lists no conflict.
func checkCentre(t *testing.T, centreData string, lanes ...*lane) {
	t.Helper()
	ctx := context.Background()
	st, err := hubsqlite.Open(ctx, filepath.Join(centreData, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	total := 0
	for _, l := range lanes {
		want := l.events()
		got, err := st.TerminalEvents(ctx, l.id, 0, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("the centre holds %d events of %s; want %d", len(got), l.name, len(want))
		}
		for i := range want {
			if got[i].ID != want[i].ID || got[i].Seq != want[i].Seq || got[i].Hash != want[i].Hash || !bytes.Equal(got[i].Payload, want[i].Payload) {
				t.Fatalf("%s event %d at the centre differs from the lane's", l.name, want[i].Seq)
			}
		}
		total += len(want)
	}
	counts, err := st.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts["events"] != total {
		t.Errorf("the centre's events table has %d rows; want %d (each lane's events once)", counts["events"], total)
	}
	r, err := hub.New(st, hub.Options{Logger: discardLogger()}).Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Conflicts) != 0 {
		b, _ := json.Marshal(r.Conflicts)
		t.Errorf("the report lists conflicts: %s", b)
	}
	byName := map[string]hub.ReportTerminal{}
	for _, rt := range r.Terminals {
		byName[rt.Name] = rt
	}
	for _, l := range lanes {
		if rt := byName[l.name]; rt.Events != int64(len(l.events())) {
			t.Errorf("the report counts %d events of %s; want %d", rt.Events, l.name, len(l.events()))
		}
	}
}

// TestOutageDayThroughRelay is the outage day with a relay at the park's
// HQ, every hub a real process on loopback: the WAN (relay ↔ centre, and
// lanes ↔ centre) is cut; a tour van enters deferred; exit lane 1 settles
// it; exit lane 2, in its next exchange, refuses it as already settled; a
// voided pass is refused at the next lane, and a pass used at one lane at
// the other. The WAN returns and the centre
// holds every event exactly once, with no conflict. Then the relay is
// killed (SIGKILL) while it forwards and started again; then its data
// folder is deleted and a new relay starts empty: nothing is lost at the
// centre, nothing doubled.
func TestOutageDayThroughRelay(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	ctx := context.Background()
	centreData, relayData := t.TempDir(), filepath.Join(t.TempDir(), "relay")
	centre := &proc{t: t, args: []string{"serve", "--data", centreData}, listen: freeAddr(t)}
	centre.start()
	defer centre.kill()
	wan := newLink(t, centre.listen)     // relay ↔ centre
	laneWAN := newLink(t, centre.listen) // lanes ↔ centre

	code, token, stderr := run(t, "relay", "add", "--data", centreData, "--site", "NNP", "--name", "hq")
	if code != 0 {
		t.Fatalf("relay add: %s", stderr)
	}
	relay := &proc{t: t, args: []string{"serve", "--data", relayData, "--upstream", wan.url(), "--token", strings.TrimSpace(token), "--interval", "100ms"}, listen: freeAddr(t)}
	relay.start()
	defer func() { relay.kill() }()
	// Later starts need only --upstream: the token is spent.
	relay.args = []string{"serve", "--data", relayData, "--upstream", wan.url(), "--interval", "100ms"}

	entry := newLane(t, ctx, "entry-1", centreData, relay.url(), laneWAN.url())
	exit1 := newLane(t, ctx, "exit-1", centreData, relay.url(), laneWAN.url())
	exit2 := newLane(t, ctx, "exit-2", centreData, relay.url(), laneWAN.url())
	lanes := []*lane{entry, exit1, exit2}
	for _, l := range lanes {
		l.mustSync()
	}

	// The WAN goes down; the park's own network stays up.
	wan.cut()
	laneWAN.cut()
	van := entry.sell("defer")
	entry.mustSync()
	exit1.mustSync()
	if _, err := exit1.db.Settle(ctx, exit1.admin, van.Pass, []terminal.TenderRequest{{Kind: terminal.TenderCash}}); err != nil {
		t.Fatalf("exit 1 settles the van: %v", err)
	}
	exit1.mustSync()
	exit2.mustSync() // one exchange: one sync interval
	if _, err := exit2.db.Settle(ctx, exit2.admin, van.Pass, []terminal.TenderRequest{{Kind: terminal.TenderCash}}); pass.ReasonOf(err) != pass.AlreadyUsed {
		t.Fatalf("exit 2 settling the van settled at exit 1 with the WAN down: %v; want already_used", err)
	}
	if pc, err := exit2.db.CheckPass(ctx, van.Pass); err != nil || pc.State != "settled" {
		t.Fatalf("exit 2 checks the van's pass: %v, %+v; want settled", err, pc)
	}
	voided := entry.sell("cash")
	if _, err := entry.db.Void(ctx, entry.admin, voided.ID, "wrong vehicle"); err != nil {
		t.Fatal(err)
	}
	entry.mustSync()
	exit1.mustSync()
	if pc, err := exit1.db.CheckPass(ctx, voided.Pass); err != nil || pc.Refusal == nil || pc.Refusal.Reason != pass.Revoked {
		t.Fatalf("exit 1 checks a pass voided at entry with the WAN down: %v, %+v; want revoked", err, pc)
	}
	// A paid pass let through at exit 1 is refused as used at exit 2.
	paid := entry.sell("cash")
	entry.mustSync()
	if pc, err := exit1.db.UsePass(ctx, exit1.admin, paid.Pass); err != nil || pc.Refusal != nil {
		t.Fatalf("exit 1 uses a paid pass: %v, %+v", err, pc)
	}
	exit1.mustSync()
	exit2.mustSync()
	if pc, err := exit2.db.UsePass(ctx, exit2.admin, paid.Pass); err != nil || pc.Refusal == nil || pc.Refusal.Reason != pass.AlreadyUsed {
		t.Fatalf("exit 2 uses a pass used at exit 1 with the WAN down: %v, %+v; want already_used", err, pc)
	}
	for i := 0; i < 20; i++ {
		entry.sell("cash")
		exit1.sell("cash")
	}
	for _, l := range lanes {
		l.mustSync()
	}
	// The WAN returns: the relay forwards, the lanes' next exchanges go on
	// through the relay.
	wan.heal()
	laneWAN.heal()
	waitCentre(t, centreData, 30*time.Second, lanes...)
	checkCentre(t, centreData, lanes...)

	// The relay is killed while it forwards a backlog, and started again.
	wan.cut()
	for i := 0; i < 150; i++ {
		entry.sell("cash")
		if i%3 == 0 {
			exit2.sell("cash")
		}
	}
	entry.mustSync()
	exit2.mustSync()
	wan.heal()
	before := centreEvents(t, centreData)
	for centreEvents(t, centreData) == before {
		time.Sleep(2 * time.Millisecond)
	}
	relay.kill()
	entry.sell("cash")
	if err := entry.sync(); err != nil { // the relay is down: the centre takes it
		t.Fatalf("entry falls back to the centre: %v", err)
	}
	relay.start()
	for _, l := range lanes {
		l.syncUntil(10 * time.Second)
	}
	waitCentre(t, centreData, 30*time.Second, lanes...)
	checkCentre(t, centreData, lanes...)

	// The relay's disk dies: its data folder is gone. A new relay starts
	// empty and catches up; the lanes send it their history again.
	relay.kill()
	if err := os.RemoveAll(relayData); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		exit1.sell("cash")
	}
	exit1.mustSync() // straight to the centre: the relay is gone
	if code, _, stderr := run(t, "terminal", "revoke", "--data", centreData, "--site", "NNP", "--name", "hq"); code != 0 {
		t.Fatalf("revoking the dead relay: %s", stderr)
	}
	code, token, stderr = run(t, "relay", "add", "--data", centreData, "--site", "NNP", "--name", "hq")
	if code != 0 {
		t.Fatalf("relay add for the new relay: %s", stderr)
	}
	relay.args = []string{"serve", "--data", relayData, "--upstream", wan.url(), "--token", strings.TrimSpace(token), "--interval", "100ms"}
	relay.start()
	for _, l := range lanes {
		l.sell("cash")
		l.syncUntil(10 * time.Second)
	}
	waitCentre(t, centreData, 30*time.Second, lanes...)
	checkCentre(t, centreData, lanes...)
	// The new relay serves the site feed at LAN speed again.
	wan.cut()
	laneWAN.cut()
	van2 := entry.sell("defer")
	entry.mustSync()
	if _, err := exit2.db.Settle(ctx, exit2.admin, van2.Pass, []terminal.TenderRequest{{Kind: terminal.TenderCash}}); err != nil {
		t.Fatal(err)
	}
	exit2.mustSync()
	exit1.mustSync()
	if _, err := exit1.db.Settle(ctx, exit1.admin, van2.Pass, []terminal.TenderRequest{{Kind: terminal.TenderCash}}); pass.ReasonOf(err) != pass.AlreadyUsed {
		t.Fatalf("through the new relay, exit 1 settling a van settled at exit 2: %v; want already_used", err)
	}
	wan.heal()
	laneWAN.heal()
	waitCentre(t, centreData, 30*time.Second, lanes...)
	checkCentre(t, centreData, lanes...)
}

func centreEvents(t *testing.T, centreData string) int {
	t.Helper()
	st, err := hubsqlite.Open(context.Background(), filepath.Join(centreData, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := st.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c["events"]
}

// TestRelayCommandLine: relay add prints SITE.NAME.SECRET (and JSON);
// serve refuses a token without --upstream (usage, 2) and a relay not
// enrolled without its token (refused, 1), storing nothing at the centre.
func TestRelayCommandLine(t *testing.T) {
	data := t.TempDir()
	code, out, stderr := run(t, "relay", "add", "--data", data, "--site", "nnp", "--name", "HQ")
	if code != 0 || !strings.HasPrefix(strings.TrimSpace(out), "NNP.hq.") {
		t.Fatalf("relay add: %d %q %s; want NNP.hq.SECRET", code, out, stderr)
	}
	code, out, _ = run(t, "relay", "add", "--data", data, "--site", "NNP", "--name", "hq-2", "--json")
	var j map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &j) != nil || !strings.HasPrefix(j["token"], "NNP.hq-2.") {
		t.Fatalf("relay add --json: %d %q", code, out)
	}
	if code, _, stderr := run(t, "relay", "add", "--data", data, "--site", "NNP"); code != 2 {
		t.Errorf("relay add without --name: %d %s; want 2", code, stderr)
	}
	if code, _, stderr := run(t, "serve", "--data", t.TempDir(), "--token", "NNP.hq.x"); code != 2 {
		t.Errorf("serve --token without --upstream: %d %s; want 2", code, stderr)
	}
	code, _, stderr = run(t, "serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:1")
	if code != 1 || !strings.Contains(stderr, "not enrolled") {
		t.Errorf("serve --upstream, never enrolled, no token: %d %s; want 1 and a message", code, stderr)
	}
	code, _, stderr = run(t, "serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:1", "--token", "not-a-token")
	if code != 1 || !strings.Contains(stderr, "SITE.NAME.SECRET") {
		t.Errorf("serve with a malformed relay token: %d %s; want 1 and the token's shape", code, stderr)
	}
	code, _, stderr = run(t, "serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:1", "--token", "NNP.hq.abc")
	if code != 3 {
		t.Errorf("serve with the centre unreachable at enrollment: %d %s; want 3", code, stderr)
	}
}
