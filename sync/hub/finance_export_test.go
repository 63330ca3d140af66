package hub_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/hub/bank"
	"github.com/lango-pos/lango/terminal"
)

var updateExport = flag.Bool("update", false, "rewrite testdata/export/outage-day.csv")

// outageDay sells the outage day at two lanes (cash, M-PESA, card, bank
// transfers, a void, a refund, deferred passes on account, one settled at
// the exit with M-PESA), syncs them, imports the bank statements and
// returns a hub that reconciles with both ledgers.
func outageDay(t *testing.T, platform string) (*hub.Hub, hub.Store) {
	t.Helper()
	ctx := context.Background()
	h := newHub(t, &clock{})
	gate := newTerm(t, h, "gate-1", 0)
	exit := newTerm(t, h, "exit-1", 0)
	gate.sell("cash")
	gate.sell("mpesa")
	gate.sell("card:004512")
	gate.sell("bank:KCB:FT24003AAA01")  // matched
	gate.sell("bank:KCB:FT24003AAA02")  // amount mismatch
	gate.sell("bank:NCBA:FT24003NNN01") // pending: no NCBA statement
	voided := gate.sell("cash")
	if _, err := gate.db.Void(ctx, gate.admin, voided.ID, "keyed twice"); err != nil {
		t.Fatal(err)
	}
	refunded := gate.sell("cash")
	if _, err := gate.db.Refund(ctx, gate.admin, refunded.ID, "road closed"); err != nil {
		t.Fatal(err)
	}
	iss, err := gate.db.PassIssuer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	deferred := func(owedBy, phone string) *terminal.Sale {
		res, err := gate.db.Sell(ctx, gate.admin, terminal.SaleRequest{Lines: familyCar(), Vehicle: "KDA 123A", Tenders: []terminal.TenderRequest{{Kind: terminal.TenderDefer}},
			OwedBy: owedBy, Phone: phone}, iss)
		if err != nil {
			t.Fatal(err)
		}
		return res.Sale
	}
	settledLater := deferred("SAVANNA", "0722111222")
	deferred("NDOVU", "0110123456") // still owed
	exit.mpesa++
	pay, _ := terminal.ParseTender(fmt.Sprintf("mpesa:SEXI%06d", exit.mpesa))
	if _, err := exit.db.Settle(ctx, exit.admin, settledLater.Pass, []terminal.TenderRequest{pay}); err != nil {
		t.Fatal(err)
	}
	exit.sell("cash:KES=6000")
	syncAll(t, gate, exit)

	l, err := bank.OpenLedger(ctx, filepath.Join(t.TempDir(), "bank.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	eqty := bank.DefaultCSV()
	eqty.Bank, eqty.Account = "EQTY", "0170299834511"
	importStatement(t, l, "kcb-2024-01-03.camt053.xml", bank.CSVConfig{})
	importStatement(t, l, "eqty-2024-01-03.csv", eqty)
	return hub.New(h.store, hub.Options{Bank: l, BankZone: time.FixedZone("EAT", 3*3600), Now: h.clock.Now, Platform: platform}), h.store
}

var (
	uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	timeRE = regexp.MustCompile(`T\d\d:\d\d:\d\d(\.\d+)?Z`)
)

// stable replaces each id by id-N in order of first appearance and each
// time of day by T…Z: what the test clock and the random ids make of a
// run is not what the golden file checks.
func stable(b []byte) []byte {
	ids := map[string]string{}
	b = uuidRE.ReplaceAllFunc(b, func(id []byte) []byte {
		if _, ok := ids[string(id)]; !ok {
			ids[string(id)] = fmt.Sprintf("id-%d", len(ids)+1)
		}
		return []byte(ids[string(id)])
	})
	return timeRE.ReplaceAll(b, []byte("T…Z"))
}

// TestFinanceExport: the outage day's export as CSV matches the golden
// file (reviewed by hand: testdata/export/outage-day.csv), and its takings
// summed by site, tender and currency are the report's takings.
func TestFinanceExport(t *testing.T) {
	ctx := context.Background()
	h, _ := outageDay(t, "")
	nairobi := time.FixedZone("EAT", 3*3600)
	day := time.Date(2024, 1, 3, 0, 0, 0, 0, nairobi)
	x, err := h.Export(ctx, hub.ExportQuery{From: day, To: day, Loc: nairobi})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := hub.WriteExportCSV(&b, x); err != nil {
		t.Fatal(err)
	}
	got := stable(b.Bytes())
	golden := filepath.Join("testdata", "export", "outage-day.csv")
	if *updateExport {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("export CSV differs from %s:\n%s", golden, got)
	}

	rep, err := h.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sum := map[[3]string]int64{}
	for _, tk := range x.Takings {
		sum[[3]string{tk.Site, tk.Tender, tk.Currency}] += tk.Amount
	}
	want2 := map[[3]string]int64{}
	for _, tk := range rep.Takings {
		if tk.Amount != 0 {
			want2[[3]string{tk.Site, tk.Tender, tk.Currency}] = tk.Amount
		}
	}
	for k, v := range sum {
		if v == 0 {
			delete(sum, k)
		}
	}
	if fmt.Sprint(sum) != fmt.Sprint(want2) || len(sum) == 0 {
		t.Errorf("export takings %v; the report's %v", sum, want2)
	}

	// The next day has nothing; an end before the start is refused.
	next := day.AddDate(0, 0, 1)
	if x, err := h.Export(ctx, hub.ExportQuery{From: next, To: next, Loc: nairobi}); err != nil || len(x.Takings)+len(x.Sales) != 0 {
		t.Errorf("export of %s = %+v, %v; want nothing", next.Format(time.DateOnly), x, err)
	}
	if _, err := h.Export(ctx, hub.ExportQuery{From: next, To: day, Loc: nairobi}); terminal.ErrorKind(err) != terminal.EINVALID {
		t.Errorf("export ending before it starts: err = %v; want invalid", err)
	}
}

// TestFinanceExportForwarded: with a national platform configured, each
// sale row says what became of its bills: pending while queued, refused
// when the platform refused one, none when nothing was forwarded.
func TestFinanceExportForwarded(t *testing.T) {
	ctx := context.Background()
	h, st := outageDay(t, "http://platform.example")
	nairobi := time.FixedZone("EAT", 3*3600)
	day := time.Date(2024, 1, 3, 0, 0, 0, 0, nairobi)
	x, err := h.Export(ctx, hub.ExportQuery{From: day, To: day, Loc: nairobi})
	if err != nil {
		t.Fatal(err)
	}
	first, second := x.Sales[0], x.Sales[1]
	bill := func(ref string, r hub.ExportSaleRow, seq int64) hub.Forward {
		return hub.Forward{Ref: ref, Kind: hub.ForwardBill, SaleKey: r.Site + "/" + r.SaleID, Site: r.Site, Terminal: r.Terminal, Seq: seq,
			Body: []byte(`{}`), NextAt: day, At: r.At}
	}
	if err := st.EnqueueForwards(ctx, hub.ForwardBatch{TerminalID: "test", ThroughSeq: 2, At: day,
		Bills: []hub.Forward{bill("B1", first, 1), bill("B2", second, 2)}}); err != nil {
		t.Fatal(err)
	}
	claimed, err := st.ClaimForwards(ctx, "test", day.Add(time.Hour), time.Minute, 10)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claimed %v, %v; want the two bills", claimed, err)
	}
	for _, f := range claimed {
		if f.Ref == "B2" {
			f.State, f.Error, f.Message, f.DoneAt = hub.ForwardRefused, "invalid", "no such service", day.Add(time.Hour)
			if err := st.FinishForward(ctx, "test", f, day.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if x, err = h.Export(ctx, hub.ExportQuery{From: day, To: day, Loc: nairobi}); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range x.Sales {
		got[r.SaleID] = r.Forwarded
	}
	if got[first.SaleID] != hub.ForwardPending || got[second.SaleID] != hub.ForwardRefused || got[x.Sales[2].SaleID] != "none" {
		t.Errorf("forwarded %v; want %s pending, %s refused, the rest none", got, first.SaleID, second.SaleID)
	}
}
