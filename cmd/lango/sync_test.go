package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/hub/mpesa"
	"github.com/lango-pos/lango/sync/hub/mpesa/mpesatest"
	hubsqlite "github.com/lango-pos/lango/sync/hub/sqlite"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
)

func newHubServer(t *testing.T) (*hub.Hub, string) {
	t.Helper()
	ctx := context.Background()
	st, err := hubsqlite.Open(ctx, filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New(st, hub.Options{Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(hub.NewServer(h))
	t.Cleanup(func() { srv.Close(); st.Close() })
	return h, srv.URL
}

// TestCLITwoLanesThroughHub: two terminals enrolled with one hub; the entry
// lane sells a deferred pass; the exit lane, which never synced, verifies and
// settles it; both then sync, and the hub counts the takings once.
func TestCLITwoLanesThroughHub(t *testing.T) {
	h, url := newHubServer(t)
	ctx := context.Background()
	entry, exit := newCLI(t), newCLI(t)
	entry.initNNP()
	exit.ok("init", "--site", "NNP", "--terminal", "exit-1", "--catalogue", catalogue("kws.json"))
	for _, c := range []struct {
		cli  *cli
		name string
	}{{entry, "gate-1"}, {exit, "exit-1"}} {
		tok, err := h.AddTerminal(ctx, "NNP", c.name)
		if err != nil {
			t.Fatal(err)
		}
		c.cli.ok("enroll", "--hub", url, "--token", tok)
		if code, _, _ := c.cli.run("enroll", "--hub", url, "--token", "not-a-token"); code != 1 {
			t.Errorf("enroll with a bad token: exit %d; want 1", code)
		}
		c.cli.ok("shift", "open", "--as", "admin", "--float", "KES=1000")
	}
	var sale struct{ ID, Pass string }
	json.Unmarshal([]byte(entry.ok("sell", "--as", "admin", "--item", "INT-ADULT=2", "--item", "INT-CHILD=3", "--item", "TOUR-VAN=1",
		"--vehicle", "KDA 123A", "--pay", "defer", "--json")), &sale)

	var st struct {
		Online bool
		Queued int
	}
	json.Unmarshal([]byte(exit.ok("sync", "status", "--json")), &st)
	exit.ok("pass", "verify", sale.Pass)
	var settled struct {
		IssuerTerminal string `json:"issuer_terminal"`
		Totals         map[string]int64
	}
	json.Unmarshal([]byte(exit.ok("settle", "--as", "admin", sale.Pass, "--pay", "cash", "--json")), &settled)
	if settled.IssuerTerminal != "gate-1" || settled.Totals["USD"] != 26500 {
		t.Errorf("settlement = %+v", settled)
	}
	exit.refused(1, "already_used", "settle", "--as", "admin", sale.Pass, "--pay", "cash")

	for _, c := range []*cli{entry, exit} {
		c.ok("sync", "--once")
		json.Unmarshal([]byte(c.ok("sync", "status", "--json")), &st)
		if !st.Online || st.Queued != 0 {
			t.Errorf("after sync: %+v; want online, nothing queued", st)
		}
	}
	// The entry lane learnt from the site feed that the pass was settled
	// and used at the exit.
	entry.ok("sync", "--once")
	var pv struct{ State, Reason string }
	code, out, _ := entry.run("pass", "verify", "--json", sale.Pass)
	json.Unmarshal([]byte(out), &pv)
	if code != 1 || pv.State != "settled" || pv.Reason != "already_used" {
		t.Errorf("entry lane: exit %d, %+v; want settled and already_used (from the feed)", code, pv)
	}
	rep, err := h.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Unsettled) != 0 {
		t.Errorf("hub unsettled = %+v; want none", rep.Unsettled)
	}
	b, _ := json.Marshal(rep)
	if len(rep.Terminals) != 2 {
		t.Errorf("hub report terminals: %s", b)
	}
}

// TestHubReconcilesMpesa: terminals sell offline with M-PESA codes and sync;
// M-PESA confirms some by C2B callback, the hub asks Transaction Status about
// the rest; the hub's report shows each code matched, mismatched, unknown or
// duplicated.
func TestHubReconcilesMpesa(t *testing.T) {
	ctx := context.Background()
	st, err := hubsqlite.Open(ctx, filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	cb := &mpesa.Callbacks{Ledger: st, Allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, ShortCodes: []string{"222222"}}
	h := hub.New(st, hub.Options{Logger: slog.New(slog.DiscardHandler), MpesaCallbacks: cb})
	srv := httptest.NewServer(hub.NewServer(h))
	defer func() { srv.Close(); st.Close() }()

	a, b := newCLI(t), newCLI(t)
	a.initNNP()
	b.ok("init", "--site", "NNP", "--terminal", "gate-2", "--catalogue", catalogue("kws.json"))
	for _, c := range []struct {
		cli  *cli
		name string
	}{{a, "gate-1"}, {b, "gate-2"}} {
		tok, err := h.AddTerminal(ctx, "NNP", c.name)
		if err != nil {
			t.Fatal(err)
		}
		c.cli.ok("enroll", "--hub", srv.URL, "--token", tok)
		c.cli.ok("shift", "open", "--as", "admin", "--float", "KES=1000")
	}
	sell := func(c *cli, code string) {
		c.ok("sell", "--as", "admin", "--item", "EAC-ADULT=1", "--pay", "mpesa:"+code) // KES 2,000.00
	}
	sell(a, "QAA0000001") // confirmed by C2B with the same amount: matched
	sell(a, "QAA0000002") // confirmed by C2B with another amount: mismatched
	sell(b, "QAA0000003") // no C2B; Transaction Status knows it: matched
	sell(a, "QAA0000004") // the same code at two terminals: duplicated
	sell(b, "QAA0000004")
	sell(b, "QAA0000005") // M-PESA never heard of it: unknown
	a.ok("sync", "--once")
	b.ok("sync", "--once")

	post := func(code, amount string) {
		body := `{"TransactionType":"Pay Bill","TransID":"` + code + `","TransTime":"` + time.Now().In(time.FixedZone("EAT", 3*3600)).Format("20060102150405") + `","TransAmount":"` + amount +
			`","BusinessShortCode":"222222","BillRefNumber":"NNP","MSISDN":"2547 ***** 126"}`
		resp, err := http.Post(srv.URL+"/mpesa/confirmation", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("confirmation %s: %d", code, resp.StatusCode)
		}
	}
	post("QAA0000001", "2000.00")
	post("QAA0000002", "200.00")
	post("QAA0000004", "2000")

	daraja := mpesatest.NewDaraja(t)
	daraja.KnowAt("QAA0000003", 200000, time.Now())
	client := mpesa.NewClient(mpesa.Config{BaseURL: daraja.URL(), ConsumerKey: mpesatest.ConsumerKey, ConsumerSecret: mpesatest.ConsumerSecret,
		Initiator: "lango", SecurityCredential: "x", ShortCode: "222222", ResultURL: srv.URL + "/mpesa/result"}, nil)
	rep, err := h.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var tenders []mpesa.Tender
	for _, ln := range rep.Mpesa.Lines {
		tenders = append(tenders, ln.Sales...)
	}
	if n, err := mpesa.Chase(ctx, st, client, tenders, 0, time.Now()); err != nil || n != 2 {
		t.Fatalf("chase asked %d, %v; want 2 (QAA0000003, QAA0000005)", n, err)
	}
	daraja.Wait()
	rep, err = h.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The report lists the codes not matched; it counts the others.
	want := map[string]string{"QAA0000002": mpesa.Mismatched, "QAA0000004": mpesa.Duplicated, "QAA0000005": mpesa.Unknown}
	if len(rep.Mpesa.Lines) != len(want) {
		t.Fatalf("report has %d M-PESA lines; want %d", len(rep.Mpesa.Lines), len(want))
	}
	if n := rep.Mpesa.Counts[mpesa.Matched]; n != 2 {
		t.Errorf("%d codes matched; want 2 (QAA0000001, QAA0000003)", n)
	}
	for _, ln := range rep.Mpesa.Lines {
		if ln.Status != want[ln.Code] {
			t.Errorf("%s: %s (%s); want %s", ln.Code, ln.Status, ln.Detail, want[ln.Code])
		}
		if ln.Code == "QAA0000004" && (len(ln.Sales) != 2 || ln.Sales[0].Terminal == ln.Sales[1].Terminal) {
			t.Errorf("duplicated code's sales: %+v; want one at each terminal", ln.Sales)
		}
	}
	// The hub's conflict report names the reused code too.
	found := false
	for _, c := range rep.Conflicts {
		found = found || (c.Kind == "mpesa_code_twice" && c.Code == "QAA0000004")
	}
	if !found {
		t.Errorf("conflicts %+v lack the reused code", rep.Conflicts)
	}
}

// TestCLISyncKilledMidUpload: `lango sync --once` runs as a real process
// and is killed with SIGKILL four times while it uploads 12,000 queued
// events (just after the hub has taken one of its batches: the next is in
// flight, or its acknowledgement is being written to the terminal's disk).
// A last sync then completes, and the hub holds every event of the
// terminal exactly once, in order, byte for byte; the terminal's audit
// chain still verifies.
func TestCLISyncKilledMidUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("runs and kills child processes")
	}
	ctx := context.Background()
	h, url := newHubServer(t)
	c := newCLI(t)
	c.initNNP()
	tok, err := h.AddTerminal(ctx, "NNP", "gate-1")
	if err != nil {
		t.Fatal(err)
	}
	c.ok("enroll", "--hub", url, "--token", tok)
	c.ok("shift", "open", "--as", "admin", "--float", "KES=1000")
	c.ok("sell", "--as", "admin", "--item", "EAC-ADULT=2", "--pay", "cash")
	db, err := sqlite.Open(ctx, filepath.Join(c.data, "lango.db"))
	if err != nil {
		t.Fatal(err)
	}
	payload := json.RawMessage(`{"site":"NNP","note":"` + strings.Repeat("x", 1200) + `"}`)
	if err := db.AppendEventsForBenchmark(ctx, 12000, "bench.event", func(int) json.RawMessage { return payload }); err != nil {
		t.Fatal(err)
	}
	id, err := db.Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	c.ok("sell", "--as", "admin", "--item", "EAC-CHILD=1", "--pay", "cash")

	hubSeq := func() int64 {
		tm, err := h.Store().Terminal(ctx, id.TerminalID)
		if err != nil {
			t.Fatal(err)
		}
		return tm.LastSeq
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	kills := 0
	for kills < 4 {
		cmd := exec.Command(os.Args[0], "--data", c.data, "sync", "--once")
		cmd.Env = append(os.Environ(), "LANGO_TEST_MAIN=1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		from := hubSeq()
		deadline := time.Now().Add(30 * time.Second)
		finished := false
		for !finished && hubSeq() == from && time.Now().Before(deadline) {
			select {
			case err := <-exited:
				if err != nil {
					t.Fatalf("lango sync --once: %v", err)
				}
				finished = true
			case <-time.After(2 * time.Millisecond):
			}
		}
		if finished {
			break // it finished before a kill: nothing left to interrupt
		}
		time.Sleep(time.Duration(rng.IntN(15)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		if err := <-exited; err == nil {
			break
		}
		kills++
	}
	if kills < 3 {
		t.Fatalf("only %d kills before the upload ended", kills)
	}
	c.ok("sync", "--once")
	var st struct{ Queued int }
	json.Unmarshal([]byte(c.ok("sync", "status", "--json")), &st)
	if st.Queued != 0 {
		t.Errorf("%d events still queued after the last sync", st.Queued)
	}
	c.ok("audit", "verify")

	db, err = sqlite.Open(ctx, filepath.Join(c.data, "lango.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want, err := db.Events(ctx, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.Store().TerminalEvents(ctx, id.TerminalID, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if err := terminal.DiffEvents(got, want); err != nil {
		t.Fatalf("the hub's copy of the terminal's events: %v", err)
	}
	if cs, err := h.Store().Conflicts(ctx); err != nil || len(cs) != 0 {
		t.Errorf("conflicts: %+v %v", cs, err)
	}
	t.Logf("%d kills of lango sync mid-upload", kills)
}
