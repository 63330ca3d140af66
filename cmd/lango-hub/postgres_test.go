package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/client"
	"github.com/lango-pos/lango/sync/hub"
	hubpg "github.com/lango-pos/lango/sync/hub/postgres"
	hubsqlite "github.com/lango-pos/lango/sync/hub/sqlite"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
	"github.com/lango-pos/lango/terminal/sqlite/sqlitetest"
)

// serveInProcess runs `lango-hub serve` with args in this process and
// returns its URL; it stops when the test ends.
func serveInProcess(t *testing.T, args ...string) string {
	t.Helper()
	srv := NewMain()
	var stderr bytes.Buffer
	srv.Stdout, srv.Stderr = &bytes.Buffer{}, &stderr
	srv.Getenv = func(string) string { return "" }
	if err := srv.ParseFlags(context.Background(), append([]string{"serve", "--listen", "127.0.0.1:0", "--log-level", "error"}, args...)); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-done:
		stop()
		t.Fatalf("serve: %v\n%s", err, &stderr)
	}
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		srv.Close()
	})
	return "http://" + srv.Addr()
}

// newTerminal is a terminal store of NNP named name, with its admin.
func newTerminal(t testing.TB, name string) (*sqlite.DB, *terminal.Operator) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "lango.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Init(ctx, terminal.InitRequest{Site: "NNP", Name: name, Catalogue: sqlitetest.Catalogue(t), AdminPIN: sqlitetest.AdminPIN}); err != nil {
		t.Fatal(err)
	}
	admin, err := db.Authenticate(ctx, "admin", sqlitetest.AdminPIN)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.OpenShift(ctx, admin, terminal.Totals{"KES": 100000}); err != nil {
		t.Fatal(err)
	}
	return db, admin
}

func sellOne(t testing.TB, db *sqlite.DB, admin *terminal.Operator) {
	t.Helper()
	ctx := context.Background()
	iss, err := db.PassIssuer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Sell(ctx, admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 2}, {Code: "CAR", Qty: 1}},
		Vehicle: "KDA 123A", Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCash}}}, iss); err != nil {
		t.Fatal(err)
	}
}

// openPG opens the PostgreSQL store at url with the key file of data, as
// the hub does.
func openPG(t testing.TB, url, data string) *hubpg.Store {
	t.Helper()
	key, err := hubpg.LoadOrCreateKeyFile(filepath.Join(data, "authority.key"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := hubpg.Open(context.Background(), url, hubpg.Options{SealKey: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// checkHolds fails unless the hub store holds exactly the terminal's
// events, in order, byte for byte.
func checkHolds(t *testing.T, hs hub.Store, db *sqlite.DB) {
	t.Helper()
	ctx := context.Background()
	id, err := db.Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, err := db.Events(ctx, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	got, err := hs.TerminalEvents(ctx, id.TerminalID, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if err := terminal.DiffEvents(got, want); err != nil {
		t.Fatalf("the hub's copy of %s's events: %v", id.Name, err)
	}
	term, err := hs.Terminal(ctx, id.TerminalID)
	if err != nil {
		t.Fatal(err)
	}
	if term.LastSeq != want[len(want)-1].Seq || term.Events != int64(len(want)) {
		t.Errorf("the hub's record of %s: last seq %d, %d events; want %d, %d", id.Name, term.LastSeq, term.Events, want[len(want)-1].Seq, len(want))
	}
}

// TestHubOnPostgres: every lango-hub command on --database (or
// LANGO_HUB_DATABASE): serve, terminal add, a real terminal enrolling and
// syncing over loopback HTTP, catalogue publish, report, backup, migrate.
func TestHubOnPostgres(t *testing.T) {
	ctx := context.Background()
	url := pgServer.NewDatabase(t)
	data := t.TempDir()
	if code, out, stderr := run(t, "migrate", "--data", data, "--database", url, "--json"); code != 0 || !strings.Contains(out, `"0001_hub.sql"`) {
		t.Fatalf("migrate: %d %s %s", code, out, stderr)
	}
	if code, out, _ := run(t, "migrate", "--data", data, "--database", url); code != 0 || !strings.Contains(out, "at migration 0007_report_state") {
		t.Errorf("migrate again: %d %s", code, out)
	}
	hubURL := serveInProcess(t, "--data", data, "--database", url)
	code, token, stderr := run(t, "terminal", "add", "--data", data, "--database", url, "--site", "NNP", "--name", "gate-1")
	if code != 0 {
		t.Fatalf("terminal add: %d %s", code, stderr)
	}
	db, admin := newTerminal(t, "gate-1")
	if _, err := client.Enroll(ctx, db, hubURL, strings.TrimSpace(token)); err != nil {
		t.Fatalf("enroll: %v", err)
	}
	sellOne(t, db, admin)
	sellOne(t, db, admin)
	if err := client.New(db, client.Config{}).Once(ctx); err != nil {
		t.Fatalf("sync: %v", err)
	}
	cat := filepath.Join("..", "..", "testdata", "catalogues", "kws.json")
	body, _ := os.ReadFile(cat)
	newCat := filepath.Join(t.TempDir(), "kws-2.json")
	os.WriteFile(newCat, bytes.Replace(body, []byte(`"version": "KWS-2024.1"`), []byte(`"version": "KWS-2024.2"`), 1), 0o600)
	if code, out, stderr := run(t, "catalogue", "publish", newCat, "--data", data, "--database", url, "--site", "NNP", "--json"); code != 0 || !strings.Contains(out, `"KWS-2024.2"`) {
		t.Fatalf("publish: %d %s %s", code, out, stderr)
	}
	if err := client.New(db, client.Config{}).Once(ctx); err != nil {
		t.Fatal(err)
	}
	if c, _ := db.Catalogue(ctx); c.Version != "KWS-2024.2" {
		t.Errorf("terminal catalogue %s; want KWS-2024.2 (published on PostgreSQL)", c.Version)
	}
	checkHolds(t, openPG(t, url, data), db)

	// LANGO_HUB_DATABASE selects it as --database does.
	var out bytes.Buffer
	m := NewMain()
	m.Stdout, m.Stderr = &out, &bytes.Buffer{}
	m.Getenv = func(k string) string {
		if k == "LANGO_HUB_DATABASE" {
			return url
		}
		return ""
	}
	if code := m.Main(ctx, []string{"report", "--data", data, "--json"}); code != 0 {
		t.Fatalf("report with LANGO_HUB_DATABASE: %d", code)
	}
	var rep hub.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	evs, _ := db.Events(ctx, 0, 1000)
	if len(rep.Terminals) != 1 || rep.Terminals[0].Events != int64(len(evs)) || len(rep.Takings) != 1 {
		t.Errorf("report on PostgreSQL: %+v; want gate-1 with %d events and its cash", rep, len(evs))
	}
	// Without --database the embedded store in --data is another, empty hub.
	if code, out, _ := run(t, "report", "--data", data, "--json"); code != 0 || strings.Contains(out, "gate-1") {
		t.Errorf("report without --database: %d %s; want the empty embedded hub", code, out)
	}
	backup := filepath.Join(t.TempDir(), "hub.dump")
	if code, _, stderr := run(t, "backup", "--data", data, "--database", url, backup); code != 0 {
		t.Errorf("backup: %d %s", code, stderr)
	}
	if fi, err := os.Stat(backup); err != nil || fi.Size() == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file: %v %v", fi, err)
	}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"migrate", "--data", data}, 2, "--database"},
		{[]string{"report", "--data", data, "--database", "mysql://x"}, 2, "postgres://"},
		{[]string{"copy", "--data", data, "--database", url}, 2, "--from"},
		{[]string{"copy", "--from", t.TempDir(), "--data", data, "--database", url}, 1, "no embedded hub"},
		{[]string{"report", "--data", data, "--database", "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"}, 3, "does not answer"},
	} {
		code, _, stderr := run(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.msg) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("lango-hub %v: %d %q; want %d about %q", c.args, code, stderr, c.code, c.msg)
		}
	}
	// Another key file than the one the keys were sealed with is refused.
	other := t.TempDir()
	if code, _, stderr := run(t, "report", "--data", other, "--database", url); code != 1 || !strings.Contains(stderr, "key file") {
		t.Errorf("report with another key file: %d %q; want 1 about the key file", code, stderr)
	}
}

// TestCopyEmbeddedHub: `lango-hub copy` moves an embedded hub's whole
// history into PostgreSQL: the same row counts and the same report, and
// run again it changes nothing. The terminal then syncs on with the hub on
// PostgreSQL as if nothing happened (same hub id, same last seq).
func TestCopyEmbeddedHub(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	embedded := serveInProcessStoppable(t, "--data", data)
	var dbs []*sqlite.DB
	for _, name := range []string{"gate-1", "gate-2"} {
		_, token, _ := run(t, "terminal", "add", "--data", data, "--site", "NNP", "--name", name)
		db, admin := newTerminal(t, name)
		if _, err := client.Enroll(ctx, db, embedded.url, strings.TrimSpace(token)); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			sellOne(t, db, admin)
		}
		payload := json.RawMessage(`{"site":"NNP"}`)
		if err := db.AppendEventsForBenchmark(ctx, 300, "bench.event", func(int) json.RawMessage { return payload }); err != nil {
			t.Fatal(err)
		}
		if err := client.New(db, client.Config{}).Once(ctx); err != nil {
			t.Fatal(err)
		}
		dbs = append(dbs, db)
	}
	if code, _, _ := run(t, "terminal", "revoke", "--data", data, "--site", "NNP", "--name", "gate-2"); code != 0 {
		t.Fatal("revoke")
	}
	embedded.stop()

	_, before, _ := run(t, "report", "--data", data, "--json")
	es, err := hubsqlite.Open(ctx, filepath.Join(data, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	countsBefore, _ := es.Counts(ctx)
	hubID, _ := es.HubID(ctx)
	es.Close()

	url := pgServer.NewDatabase(t)
	code, out, stderr := run(t, "copy", "--from", data, "--data", data, "--database", url, "--json")
	if code != 0 {
		t.Fatalf("copy: %d %s", code, stderr)
	}
	var rep hubpg.CopyReport
	json.Unmarshal([]byte(out), &rep)
	if rep.HubID != hubID || rep.Terminals != 2 || rep.Events != countsBefore["events"] {
		t.Errorf("copy report %+v; want hub %s, 2 terminals, %d events", rep, hubID, countsBefore["events"])
	}
	if fmt.Sprint(rep.Counts) != fmt.Sprint(countsBefore) {
		t.Errorf("counts after the copy %v; the embedded hub's %v", rep.Counts, countsBefore)
	}
	_, after, _ := run(t, "report", "--data", data, "--database", url, "--json")
	if after != before {
		t.Errorf("the report on PostgreSQL differs from the embedded hub's:\n%s\nwant\n%s", after, before)
	}
	// Again: nothing changes.
	code, out, stderr = run(t, "copy", "--from", data, "--data", data, "--database", url, "--json")
	var rep2 hubpg.CopyReport
	json.Unmarshal([]byte(out), &rep2)
	if code != 0 || rep2.Events != 0 || fmt.Sprint(rep2.Counts) != fmt.Sprint(countsBefore) {
		t.Errorf("copy again: %d %+v %s; want nothing copied and the same counts", code, rep2, stderr)
	}
	if _, again, _ := run(t, "report", "--data", data, "--database", url, "--json"); again != before {
		t.Errorf("the report changed after a second copy")
	}
	// Into a database holding another hub: refused.
	otherData := t.TempDir()
	run(t, "terminal", "add", "--data", otherData, "--site", "NNP", "--name", "x")
	if code, _, stderr := run(t, "copy", "--from", otherData, "--data", data, "--database", url); code != 1 || !strings.Contains(stderr, "another hub") {
		t.Errorf("copy of another hub into it: %d %q; want refused", code, stderr)
	}

	// The terminal goes on with the hub on PostgreSQL.
	pgURL := serveInProcess(t, "--data", data, "--database", url)
	admin, _ := dbs[0].Authenticate(ctx, "admin", sqlitetest.AdminPIN)
	sellOne(t, dbs[0], admin)
	syncer := client.New(dbs[0], client.Config{HubURL: pgURL})
	if err := syncer.Once(ctx); err != nil {
		t.Fatalf("sync with the copied hub: %v", err)
	}
	st, _ := dbs[0].SyncState(ctx)
	if st.Queued() != 0 || st.HubID != hubID {
		t.Errorf("after syncing with the copied hub: %d queued, hub id %s; want 0, %s", st.Queued(), st.HubID, hubID)
	}
	pg := openPG(t, url, data)
	checkHolds(t, pg, dbs[0])
	if cs, _ := pg.Conflicts(ctx); len(cs) != 0 {
		t.Errorf("conflicts after the copy: %+v", cs)
	}
}

type stoppable struct {
	url  string
	stop func()
}

func serveInProcessStoppable(t *testing.T, args ...string) stoppable {
	t.Helper()
	srv := NewMain()
	srv.Stdout, srv.Stderr = &bytes.Buffer{}, &bytes.Buffer{}
	srv.Getenv = func(string) string { return "" }
	if err := srv.ParseFlags(context.Background(), append([]string{"serve", "--listen", "127.0.0.1:0", "--log-level", "error"}, args...)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v", err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			<-done
			srv.Close()
		})
	}
	t.Cleanup(stop)
	return stoppable{url: "http://" + srv.Addr(), stop: stop}
}

// TestTwoHubProcessesOnePostgres: two real `lango-hub serve` processes on
// one PostgreSQL database (each with its own data folder and a copy of the
// one key file), three terminals draining their queues and selling,
// switching between the two hubs at random at every exchange, and one of
// the two killed with SIGKILL (then started again) while batches are in
// flight. Afterwards the database holds every event of every terminal
// exactly once, in order, byte for byte, with no conflict.
func TestTwoHubProcessesOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	ctx := context.Background()
	url := pgServer.NewDatabase(t)
	dataA, dataB := t.TempDir(), t.TempDir()
	if code, _, stderr := run(t, "migrate", "--data", dataA, "--database", url); code != 0 {
		t.Fatalf("migrate: %d %s", code, stderr)
	}
	key, _ := os.ReadFile(filepath.Join(dataA, "authority.key"))
	if err := os.WriteFile(filepath.Join(dataB, "authority.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	procs := []*hubProcess{
		{t: t, data: dataA, listen: freeAddr(t), args: []string{"--database", url}},
		{t: t, data: dataB, listen: freeAddr(t), args: []string{"--database", url}},
	}
	for _, p := range procs {
		p.start()
		defer func() {
			if p.cmd.ProcessState == nil {
				p.kill()
			}
		}()
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("LANGO_KILL_SEED"); v != "" {
		fmt.Sscan(v, &seed)
	}
	t.Logf("seed %d (LANGO_KILL_SEED=%[1]d replays the choices)", seed)
	rng := rand.New(rand.NewPCG(seed, 2))

	type term struct {
		db    *sqlite.DB
		admin *terminal.Operator
		rng   *rand.Rand
	}
	var terms []*term
	payload := json.RawMessage(`{"site":"NNP","note":"` + strings.Repeat("x", 600) + `"}`)
	for i, name := range []string{"gate-1", "gate-2", "exit-1"} {
		// Tokens from either process's data folder: both are the one hub.
		_, token, stderr := run(t, "terminal", "add", "--data", procs[i%2].data, "--database", url, "--site", "NNP", "--name", name)
		db, admin := newTerminal(t, name)
		if _, err := client.Enroll(ctx, db, "http://"+procs[(i+1)%2].listen, strings.TrimSpace(token)); err != nil {
			t.Fatalf("enroll %s: %v %s", name, err, stderr)
		}
		sellOne(t, db, admin)
		if err := db.AppendEventsForBenchmark(ctx, 6000, "bench.event", func(int) json.RawMessage { return payload }); err != nil {
			t.Fatal(err)
		}
		terms = append(terms, &term{db: db, admin: admin, rng: rand.New(rand.NewPCG(seed, uint64(i+10)))})
	}

	var wg sync.WaitGroup
	errs := make(chan error, len(terms))
	var mu sync.Mutex
	switches, cut := 0, 0
	// The gates sell deferred passes; the exit settles them (it never saw
	// the sales); afterwards every terminal must know each settlement,
	// whichever hub it heard of it from.
	var sold, settled []string
	for ti, tm := range terms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := -1
			for i := 0; ; i++ {
				// Each exchange goes to either hub, as behind a load
				// balancer; now and then the terminal sells meanwhile.
				n := tm.rng.IntN(2)
				if last >= 0 && n != last {
					mu.Lock()
					switches++
					mu.Unlock()
				}
				last = n
				switch {
				case i < 20 && ti < 2 && tm.rng.IntN(2) == 0:
					iss, err := tm.db.PassIssuer(ctx)
					if err != nil {
						errs <- err
						return
					}
					res, err := tm.db.Sell(ctx, tm.admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 1}},
						Tenders: []terminal.TenderRequest{{Kind: terminal.TenderDefer}}}, iss)
					if err != nil {
						errs <- fmt.Errorf("deferred sale: %w", err)
						return
					}
					mu.Lock()
					sold = append(sold, res.Sale.Pass)
					mu.Unlock()
				case i < 20 && tm.rng.IntN(3) == 0:
					sellOne(t, tm.db, tm.admin)
				}
				if ti == 2 {
					mu.Lock()
					var next string
					if len(sold) > 0 {
						next, sold = sold[0], sold[1:]
					}
					mu.Unlock()
					if next != "" {
						if _, err := tm.db.Settle(ctx, tm.admin, next, []terminal.TenderRequest{{Kind: terminal.TenderCash}}); err != nil {
							errs <- fmt.Errorf("settle: %w", err)
							return
						}
						mu.Lock()
						settled = append(settled, next)
						mu.Unlock()
					}
				}
				cfg := client.Config{HubURL: "http://" + procs[n].listen, BatchSize: 500 + tm.rng.IntN(1500),
					HTTPClient: &http.Client{Timeout: 20 * time.Second}, MinBackoff: time.Millisecond}
				err := client.New(tm.db, cfg).Once(ctx)
				st, serr := tm.db.SyncState(ctx)
				if serr != nil {
					errs <- serr
					return
				}
				if err == nil && st.Queued() == 0 && i >= 20 {
					errs <- nil
					return
				}
				if err != nil && terminal.ErrorKind(err) != terminal.EUNAVAILABLE {
					errs <- fmt.Errorf("exchange %d: %w", i, err)
					return
				}
				if err != nil {
					mu.Lock()
					cut++ // an exchange the kill cut, or one refused while the hub was down
					mu.Unlock()
				}
				if i > 5000 {
					errs <- fmt.Errorf("not drained after %d exchanges: %v", i, err)
					return
				}
				time.Sleep(time.Duration(tm.rng.IntN(5)) * time.Millisecond)
			}
		}()
	}
	// Kill one of the two at random moments once it has taken batches.
	kills := 0
	pg := openPG(t, url, dataA)
	total := func() int {
		c, _ := pg.Counts(ctx)
		return c["events"]
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	over := func() bool {
		select {
		case <-finished:
			return true
		default:
			return false
		}
	}
	for kills < 4 && !over() {
		from := total()
		time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
		for total() == from && !over() {
			time.Sleep(5 * time.Millisecond)
		}
		if over() {
			break
		}
		p := procs[rng.IntN(2)]
		p.kill()
		kills++
		time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond)
		p.start()
	}
	select {
	case <-finished:
	case <-time.After(3 * time.Minute):
		t.Fatal("the terminals did not finish draining")
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if kills < 3 || switches < 10 || cut == 0 {
		t.Errorf("%d kills, %d switches between hubs, %d exchanges cut; the test proved little", kills, switches, cut)
	}
	t.Logf("%d kills, %d switches between the two hubs, %d exchanges cut", kills, switches, cut)
	for _, p := range procs {
		p.stop()
	}
	for _, tm := range terms {
		checkHolds(t, pg, tm.db)
	}
	// The feed, through either hub: a last exchange each (both hubs up),
	// then every gate knows every settlement.
	for _, p := range procs {
		p.start()
	}
	for i, tm := range terms {
		if err := client.New(tm.db, client.Config{HubURL: "http://" + procs[i%2].listen}).Once(ctx); err != nil {
			t.Fatalf("last exchange: %v", err)
		}
	}
	if len(settled) == 0 {
		t.Error("no pass was settled; the feed went untested")
	}
	for _, text := range settled {
		for _, tm := range terms[:2] {
			pc, err := tm.db.CheckPass(ctx, text)
			if err != nil || pc.State != "settled" {
				t.Errorf("a pass settled at the exit reads %+v, %v at a gate; want settled", pc, err)
				break
			}
		}
	}
	t.Logf("%d passes settled at the exit, known at both gates", len(settled))
	if cs, err := pg.Conflicts(ctx); err != nil || len(cs) != 0 {
		t.Errorf("conflicts: %+v %v", cs, err)
	}
}

// TestDatabaseLostAndBack: the hub's PostgreSQL stops at once (as a
// primary lost before its standby takes over) while a terminal sells and
// syncs: selling goes on, the exchanges fail as "unavailable" (exit 3:
// queued, not lost), /healthz says 503, and once the database is back the
// terminal's next exchanges deliver everything exactly once. A failover
// costs the terminal nothing but the wait.
func TestDatabaseLostAndBack(t *testing.T) {
	if !pgServer.Throwaway() {
		t.Skip("LANGO_TEST_DATABASE names a server this test may not stop")
	}
	ctx := context.Background()
	url := pgServer.NewDatabase(t)
	data := t.TempDir()
	hubURL := serveInProcess(t, "--data", data, "--database", url)
	_, token, _ := run(t, "terminal", "add", "--data", data, "--database", url, "--site", "NNP", "--name", "gate-1")
	db, admin := newTerminal(t, "gate-1")
	if _, err := client.Enroll(ctx, db, hubURL, strings.TrimSpace(token)); err != nil {
		t.Fatal(err)
	}
	sellOne(t, db, admin)
	syncer := client.New(db, client.Config{})
	if err := syncer.Once(ctx); err != nil {
		t.Fatal(err)
	}
	before, _ := db.SyncState(ctx)
	acked := before.AckedSeq
	err := pgServer.Crash(ctx, func() {
		sellOne(t, db, admin)
		sellOne(t, db, admin)
		if err := syncer.Once(ctx); terminal.ErrorKind(err) != terminal.EUNAVAILABLE {
			t.Errorf("sync with the database down: %v; want unavailable", err)
		}
		if st, _ := db.SyncState(ctx); st.Queued() == 0 {
			t.Error("nothing queued while the database is down")
		}
		resp, err := http.Get(hubURL + "/healthz")
		if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("/healthz with the database down: %v %v; want 503", resp, err)
		}
		if resp != nil {
			resp.Body.Close()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// What the hub acknowledged before the loss is still there.
	pg := openPG(t, url, data)
	id, _ := db.Identity(ctx)
	if held, err := pg.Terminal(ctx, id.TerminalID); err != nil || held.LastSeq != acked {
		t.Errorf("after the restart the hub holds up to %d (%v); it had acknowledged %d", held.LastSeq, err, acked)
	}
	// The pool's connections died with the server: the first exchanges
	// may fail as unavailable; the terminal retries as its worker would.
	var serr error
	for range 50 {
		if serr = syncer.Once(ctx); serr == nil {
			break
		}
		if terminal.ErrorKind(serr) != terminal.EUNAVAILABLE {
			t.Fatalf("sync after the database came back: %v", serr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if serr != nil {
		t.Fatalf("the terminal never got through after the database came back: %v", serr)
	}
	if st, _ := db.SyncState(ctx); st.Queued() != 0 {
		t.Errorf("%d still queued", st.Queued())
	}
	checkHolds(t, pg, db)
	if cs, _ := pg.Conflicts(ctx); len(cs) != 0 {
		t.Errorf("conflicts: %+v", cs)
	}
}
