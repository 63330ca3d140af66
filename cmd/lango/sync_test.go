package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/lango-pos/lango/sync/hub"
)

func newHubServer(t *testing.T) (*hub.Hub, string) {
	t.Helper()
	ctx := context.Background()
	st, err := hub.OpenSQLite(ctx, filepath.Join(t.TempDir(), "hub.db"))
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
