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
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/client"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// TestRandomizedTwoHubProcesses is the hub's randomized sync test
// (sync/hub TestRandomized) with the hub as two real `lango-hub serve`
// processes on one PostgreSQL: four terminals of a park sell (cash and
// deferred), settle each other's passes, void, add operators and sync,
// each exchange with either process at random, while the processes are
// killed with SIGKILL (some in the middle of a batch) and left down for a
// while (an outage of one, or of both). After healing, the database holds
// every event each terminal committed exactly once and in order, every
// terminal knows every operator and settlement made anywhere, and the
// report the two processes kept at ingest is, byte for byte, the one made
// by reading every event again. LANGO_SYNC_SEED=N replays the choices
// (not the timing of the kills).
func TestRandomizedTwoHubProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	seed := uint64(20240103)
	if s := os.Getenv("LANGO_SYNC_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seed = n
	}
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
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
	up := []bool{true, true}
	for _, p := range procs {
		p.start()
		defer func() {
			if p.cmd.ProcessState == nil {
				p.kill()
			}
		}()
	}

	type term struct {
		name  string
		db    *sqlite.DB
		admin *terminal.Operator
		batch int
	}
	var terms []*term
	for i, name := range []string{"gate-1", "gate-2", "exit-1", "exit-2"} {
		_, token, stderr := run(t, "terminal", "add", "--data", procs[i%2].data, "--database", url, "--site", "NNP", "--name", name)
		db, admin := newTerminal(t, name)
		if _, err := client.Enroll(ctx, db, "http://"+procs[(i+1)%2].listen, strings.TrimSpace(token)); err != nil {
			t.Fatalf("enroll %s: %v %s", name, err, stderr)
		}
		terms = append(terms, &term{name: name, db: db, admin: admin, batch: 1 + rng.IntN(12)})
	}
	pick := func() *term { return terms[rng.IntN(len(terms))] }
	type sold struct {
		text, id string
		by       *term
	}
	var passes, sales []sold
	operators := map[string]string{}
	stats := map[string]int{}
	exchange := func(tm *term, p int) error {
		cfg := client.Config{HubURL: "http://" + procs[p].listen, BatchSize: tm.batch,
			HTTPClient: &http.Client{Timeout: 20 * time.Second}, MinBackoff: time.Millisecond}
		err := client.New(tm.db, cfg).Once(ctx)
		if err != nil && terminal.ErrorKind(err) != terminal.EUNAVAILABLE {
			return err
		}
		return nil
	}
	for step := range 300 {
		switch r := rng.IntN(100); {
		case r < 30:
			tm := pick()
			iss, err := tm.db.PassIssuer(ctx)
			if err != nil {
				t.Fatal(err)
			}
			tender := []terminal.TenderKind{terminal.TenderCash, terminal.TenderDefer}[rng.IntN(2)]
			res, err := tm.db.Sell(ctx, tm.admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 1 + rng.IntN(3)}},
				Tenders: []terminal.TenderRequest{{Kind: tender}}}, iss)
			if err != nil {
				t.Fatalf("step %d: sell: %v", step, err)
			}
			if tender == terminal.TenderDefer {
				passes = append(passes, sold{res.Sale.Pass, res.Sale.ID, tm})
			}
			sales = append(sales, sold{res.Sale.Pass, res.Sale.ID, tm})
			stats["sell"]++
		case r < 38 && len(passes) > 0:
			p := passes[rng.IntN(len(passes))]
			tm := pick()
			if _, err := tm.db.Settle(ctx, tm.admin, p.text, []terminal.TenderRequest{{Kind: terminal.TenderCash}}); err == nil {
				stats["settle"]++
			}
		case r < 42 && len(sales) > 0:
			s := sales[rng.IntN(len(sales))]
			if _, err := s.by.db.Void(ctx, s.by.admin, s.id, "random void"); err == nil {
				stats["void"]++
			}
		case r < 72:
			tm, p := pick(), rng.IntN(2)
			if err := exchange(tm, p); err != nil {
				t.Fatalf("step %d: %s syncs with hub %d: %v", step, tm.name, p, err)
			}
			stats["sync"]++
		case r < 78:
			// A kill in the middle of an exchange: the terminal uploads
			// to the hub that dies under it.
			p := rng.IntN(2)
			if !up[p] {
				continue
			}
			tm := pick()
			done := make(chan error, 1)
			go func() { done <- exchange(tm, p) }()
			time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond)
			procs[p].kill()
			if err := <-done; err != nil {
				t.Fatalf("step %d: %s syncs with hub %d killed under it: %v", step, tm.name, p, err)
			}
			up[p] = false
			stats["hub killed mid-exchange"]++
		case r < 84:
			p := rng.IntN(2)
			if up[p] {
				procs[p].kill()
				stats["hub killed"]++
			} else {
				procs[p].start()
				stats["hub started"]++
			}
			up[p] = !up[p]
		case r < 87:
			tm := pick()
			name := fmt.Sprintf("clerk%d", step)
			op, err := tm.db.AddOperator(ctx, tm.admin, name, "attendant", "4321")
			if err != nil {
				t.Fatal(err)
			}
			operators[name] = op.ID
			stats["operator added"]++
		}
	}
	// Heal: both processes up; every terminal exchanges until it has
	// nothing queued, then once more with each process (the feed).
	for p := range procs {
		if !up[p] {
			procs[p].start()
		}
	}
	for round := 0; ; round++ {
		queued := int64(0)
		for _, tm := range terms {
			if err := exchange(tm, rng.IntN(2)); err != nil {
				t.Fatal(err)
			}
			st, err := tm.db.SyncState(ctx)
			if err != nil {
				t.Fatal(err)
			}
			queued += st.Queued()
		}
		if queued == 0 {
			break
		}
		if round > 200 {
			t.Fatalf("%d events still queued after healing", queued)
		}
	}
	for p := range procs {
		for _, tm := range terms {
			if err := client.New(tm.db, client.Config{HubURL: "http://" + procs[p].listen}).Once(ctx); err != nil {
				t.Fatalf("%s's last exchange with hub %d: %v", tm.name, p, err)
			}
		}
	}
	pg := openPG(t, url, dataA)
	for _, tm := range terms {
		checkHolds(t, pg, tm.db)
		if err := tm.db.VerifyAudit(ctx); err != nil {
			t.Errorf("%s audit: %v", tm.name, err)
		}
		for name, id := range operators {
			if op, err := tm.db.Operator(ctx, name); err != nil || op.ID != id {
				t.Errorf("%s does not know operator %s (%s) after healing: %+v %v", tm.name, name, id, op, err)
			}
		}
	}
	now := time.Now() // one clock for both: the unsettled passes' age
	h := hub.New(pg, hub.Options{Now: func() time.Time { return now }})
	state, err := h.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rescan, err := h.RescanReport(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.MarshalIndent(state, "", "  ")
	b, _ := json.MarshalIndent(rescan, "", "  ")
	if !bytes.Equal(a, b) {
		t.Errorf("the report kept at ingest by two processes:\n%s\nread from every event:\n%s", a, b)
	}
	if stats["hub killed mid-exchange"] == 0 || stats["sync"] < 50 || stats["settle"] == 0 {
		t.Errorf("the run proved little: %v", stats)
	}
	t.Logf("seed %d: %v; report: %d takings lines, %d unsettled, %d conflicts", seed, stats, len(state.Takings), len(state.Unsettled), len(state.Conflicts))
	for _, p := range procs {
		p.stop()
	}
}
