package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// TestCLIArchiveAcrossTheBoundary: a store with sales from 400 days ago
// and from an hour ago, every event held by the hub. `lango archive` moves
// the old ones out with the default retention; `lango audit verify` passes
// across the boundary and from its signed checkpoint; a byte edited in the
// archive file is named; a wrong retention is refused with nothing done.
func TestCLIArchiveAcrossTheBoundary(t *testing.T) {
	ctx := context.Background()
	c := newCLI(t)
	db, err := sqlite.Open(ctx, filepath.Join(c.data, "lango.db"))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-400 * 24 * time.Hour)
	db.Now = func() time.Time { at = at.Add(time.Minute); return at }
	cat, err := os.ReadFile(catalogue("kws.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Init(ctx, terminal.InitRequest{Site: "NNP", Name: "gate-1", Catalogue: cat, AdminPIN: "1234"}); err != nil {
		t.Fatal(err)
	}
	admin, err := db.Operator(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.OpenShift(ctx, admin, terminal.Totals{"KES": 0}); err != nil {
		t.Fatal(err)
	}
	req := terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 1}, {Code: "CAR", Qty: 1}}, Vehicle: "KCB 123A", Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCash}}}
	for i := range 8 {
		if i == 5 {
			at = time.Now().Add(-time.Hour)
		}
		if _, err := db.SellSigned(ctx, admin, req); err != nil {
			t.Fatal(err)
		}
	}
	st, err := db.SyncState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SyncAcked(ctx, "hub-1", st.LastSeq); err != nil {
		t.Fatal(err)
	}
	db.Close()

	before := c.rowCounts()
	c.refused(1, "retention", "archive", "--retention", "0d")
	c.refused(1, "retention", "config", "set", "retention", "forever")
	if after := c.rowCounts(); after["events"] != before["events"] {
		t.Fatalf("a refused archive changed the events: %d, then %d", before["events"], after["events"])
	}
	var res struct {
		Files   []string `json:"files"`
		Events  int64    `json:"events"`
		Through int64    `json:"through"`
		Live    int64    `json:"live"`
	}
	if err := json.Unmarshal([]byte(c.ok("archive", "--json")), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 || res.Events == 0 || res.Live != st.LastSeq-res.Through {
		t.Fatalf("archive: %+v; want one file and the old events gone (%d events in all)", res, st.LastSeq)
	}
	if out := c.ok("audit", "verify"); !strings.Contains(out, strconv.FormatInt(st.LastSeq, 10)+" events") {
		t.Errorf("audit verify across the archive: %q; want the whole chain, %d events", out, st.LastSeq)
	}
	c.ok("audit", "verify", "--since", strconv.FormatInt(res.Through, 10))
	c.refused(1, "no signed checkpoint", "audit", "verify", "--since", "2")
	if out := c.ok("sales", "--format", "ndjson"); strings.Count(out, "\n") != 3 {
		t.Errorf("sales after the archive: %q; want the 3 within the retention", out)
	}
	if out := c.ok("config", "set", "retention", "2w"); out != "" && !strings.Contains(out, "14d") {
		t.Logf("config set: %q", out)
	}
	if out := c.ok("config", "show", "--json"); !strings.Contains(out, `"retention": "14d"`) {
		t.Errorf("config show after setting 2w: %s; want retention 14d", out)
	}

	file := filepath.Join(c.data, "archive", res.Files[0])
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/3] ^= 0x20
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	c.refused(1, "archive file "+res.Files[0], "audit", "verify")
}
