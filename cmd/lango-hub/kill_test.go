package main

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lango-pos/lango/internal/pgtest"
	"github.com/lango-pos/lango/sync/client"
	hubsqlite "github.com/lango-pos/lango/sync/hub/sqlite"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite/sqlitetest"
)

// TestMain lets a test run this binary as lango-hub itself
// (LANGO_TEST_MAIN=1), so that the hub can be a real process that a test
// kills.
func TestMain(m *testing.M) {
	if os.Getenv("LANGO_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(pgtest.Main(m, &pgServer))
}

// pgServer is the PostgreSQL server of the tests that run the hub on it.
var pgServer *pgtest.Server

// hubProcess is `lango-hub serve` running as a child process.
type hubProcess struct {
	t        testing.TB
	data     string
	listen   string
	cmd      *exec.Cmd
	stderr   *bytes.Buffer
	env      []string // more of the hub's environment
	args     []string // more arguments of serve (--database URL)
	logLevel string
}

func (p *hubProcess) start() {
	p.t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--data", p.data, "--listen", p.listen, "--log-level", cmp.Or(p.logLevel, "error")}, p.args...)...)
	cmd.Env = append(append(os.Environ(), "LANGO_TEST_MAIN=1"), p.env...)
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
		if time.Now().After(deadline) {
			p.t.Fatalf("lango-hub serve did not answer /healthz: %v\n%s", err, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill ends the hub with SIGKILL: no shutdown, no flush, a transaction
// left open if one was.
func (p *hubProcess) kill() {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGKILL)
	if err := p.cmd.Wait(); err == nil {
		p.t.Fatal("the hub exited cleanly after SIGKILL")
	}
}

// stop ends the hub as an operator would: SIGTERM, then wait.
func (p *hubProcess) stop() {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		p.t.Errorf("lango-hub serve after SIGTERM: %v\n%s", err, p.stderr)
	}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestHubProcessKilledWhileDraining: a terminal drains 24,000 queued events
// (and a few real sales) into `lango-hub serve` running as a real process,
// which is killed with SIGKILL at random moments while it takes batches
// (of 2,000, some 40 ms each to store, so that most kills land inside a
// batch's transaction), and started again each time. Afterwards the hub holds every event of the
// terminal exactly once, in order, byte for byte, with no conflict, and
// its database passes integrity_check.
func TestHubProcessKilledWhileDraining(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	ctx := context.Background()
	data := t.TempDir()
	code, token, stderr := run(t, "terminal", "add", "--data", data, "--site", "NNP", "--name", "gate-1")
	if code != 0 {
		t.Fatalf("terminal add: %d %s", code, stderr)
	}
	p := &hubProcess{t: t, data: data, listen: freeAddr(t)}
	p.start()
	defer func() {
		if p.cmd.ProcessState == nil {
			p.kill()
		}
	}()

	db, _ := sqlitetest.NewTerminal(t, nil)
	cfg := client.Config{BatchSize: 2000, HTTPClient: &http.Client{Timeout: 20 * time.Second}, MinBackoff: time.Millisecond}
	if _, err := client.EnrollWith(ctx, db, "http://"+p.listen, strings.TrimSpace(token), cfg); err != nil {
		t.Fatal(err)
	}
	admin, err := db.Operator(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	iss, err := db.PassIssuer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sell := func() {
		t.Helper()
		if _, err := db.Sell(ctx, admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 2}, {Code: "CAR", Qty: 1}},
			Vehicle: "KDA 123A", Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCash}}}, iss); err != nil {
			t.Fatal(err)
		}
	}
	sell()
	payload := json.RawMessage(`{"site":"NNP","note":"` + strings.Repeat("x", 1200) + `"}`)
	if err := db.AppendEventsForBenchmark(ctx, 24000, "bench.event", func(int) json.RawMessage { return payload }); err != nil {
		t.Fatal(err)
	}
	sell()

	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("LANGO_KILL_SEED"); v != "" {
		fmt.Sscan(v, &seed)
	}
	t.Logf("seed %d (LANGO_KILL_SEED=%[1]d replays the kill times)", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	syncer := client.New(db, cfg)
	done := make(chan error, 1)
	go func() {
		// The terminal's side: exchange until nothing is queued, as the
		// sync worker would, whatever the hub does meanwhile.
		for i := 0; ; i++ {
			err := syncer.Once(ctx)
			st, serr := db.SyncState(ctx)
			if serr != nil {
				done <- serr
				return
			}
			if err == nil && st.Queued() == 0 {
				done <- nil
				return
			}
			if err != nil && terminal.ErrorKind(err) != terminal.EUNAVAILABLE {
				done <- fmt.Errorf("exchange %d: %w", i, err)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	// Each kill comes once the restarted hub has taken at least one batch,
	// a random moment later: while it is storing the next, most likely.
	kills := 0
	for kills < 4 {
		st, _ := db.SyncState(ctx)
		from := st.AckedSeq
		time.Sleep(time.Duration(rng.IntN(50)) * time.Millisecond)
		for st.Queued() > 0 && st.AckedSeq == from {
			time.Sleep(5 * time.Millisecond)
			st, _ = db.SyncState(ctx)
		}
		if st.Queued() == 0 {
			break
		}
		time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
		p.kill()
		kills++
		time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond)
		p.start()
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the terminal did not finish draining")
	}
	if kills < 3 {
		t.Errorf("only %d kills came before the drain ended; the test proved little", kills)
	}
	t.Logf("%d kills while the hub was taking batches", kills)
	p.stop()

	hs, err := hubsqlite.Open(ctx, filepath.Join(data, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer hs.Close()
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
		t.Fatalf("the hub's copy of the terminal's events: %v", err)
	}
	term, err := hs.Terminal(ctx, id.TerminalID)
	if err != nil {
		t.Fatal(err)
	}
	if term.LastSeq != want[len(want)-1].Seq || term.Events != int64(len(want)) {
		t.Errorf("the hub's record of the terminal: last seq %d, %d events; want %d, %d", term.LastSeq, term.Events, want[len(want)-1].Seq, len(want))
	}
	if cs, err := hs.Conflicts(ctx); err != nil || len(cs) != 0 {
		t.Errorf("conflicts after the kills: %+v %v", cs, err)
	}
	hs.Close()
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(data, "hub.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var ok string
	if err := raw.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Errorf("integrity_check: %q %v", ok, err)
	}
}
