package hub_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/hub/bank"
	"github.com/lango-pos/lango/terminal"
)

func importStatement(t *testing.T, l *bank.Ledger, file string, cfg bank.CSVConfig) bank.Imported {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "bank", file))
	if err != nil {
		t.Fatal(err)
	}
	st, err := bank.Parse(b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	imp, err := l.Import(context.Background(), st, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return imp
}

// TestBankReconciled: bank tenders sold at two lanes, and the lanes' cash
// deposits, synced, are matched against a camt.053 statement (KCB) and a CSV one (EQTY): each
// case of the report's bank section is reached, a voided sale's credit
// and a stranger's are unclaimed, and importing both again changes
// nothing in the report.
func TestBankReconciled(t *testing.T) {
	ctx := context.Background()
	h := newHub(t, &clock{})
	gate := newTerm(t, h, "gate-1", 0)
	exit := newTerm(t, h, "exit-1", 0)
	for _, ref := range []string{"KCB:FT24003AAA01", "KCB:FT24003AAA02", "KCB:FT24003AAA03", "EQTY:FT24003EEE01", "NCBA:FT24003NNN01"} {
		gate.sell("bank:" + ref)
	}
	voided := gate.sell("bank:EQTY:FT24003EEE02")
	if _, err := gate.db.Void(ctx, gate.admin, voided.ID, "keyed on the wrong car"); err != nil {
		t.Fatal(err)
	}
	p := gate.sell("defer")
	settle, _ := terminal.ParseTender("bank:EQTY:FT24003EEE03")
	st, err := exit.db.Settle(ctx, exit.admin, p.Pass, []terminal.TenderRequest{settle})
	if err != nil {
		t.Fatal(err)
	}
	// The gate's cash: KES 5,300 of takings banked on slip DS-000042; the
	// exit's float only, banked on a slip the bank has not booked.
	gate.sell("cash")
	banked := map[*termEnv]string{}
	for te, counted := range map[*termEnv]int64{gate: 500000 + 530000, exit: 500000 + 100000} {
		// A deferred pass still owed is named by the supervisor closing.
		open, err := te.db.Unsettled(ctx)
		if err != nil {
			t.Fatal(err)
		}
		naming := terminal.OpenPassNaming{Supervisor: te.admin}
		for _, u := range open {
			naming.Passes = append(naming.Passes, u.SaleID)
		}
		z, err := te.db.CloseShiftNaming(ctx, te.admin, terminal.Totals{"KES": counted}, naming)
		if err != nil {
			t.Fatal(err)
		}
		slip := map[*termEnv]string{gate: "DS-000042", exit: "DS-000043"}[te]
		if _, err := te.db.Deposit(ctx, te.admin, z.ShiftID, "EQTY", slip); err != nil {
			t.Fatal(err)
		}
		banked[te] = z.ShiftID
	}
	syncAll(t, gate, exit)

	l, err := bank.OpenLedger(ctx, filepath.Join(t.TempDir(), "bank.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	eqty := bank.DefaultCSV()
	eqty.Bank, eqty.Account = "EQTY", "0170299834511"
	importStatement(t, l, "kcb-2024-01-03.camt053.xml", bank.CSVConfig{})
	importStatement(t, l, "eqty-2024-01-03.csv", eqty)
	report := func() *bank.Report {
		r, err := hub.New(h.store, hub.Options{Bank: l, BankZone: time.FixedZone("EAT", 3*3600)}).Report(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.Bank == nil {
			t.Fatal("the report has no bank section")
		}
		return r.Bank
	}
	rep := report()
	want := map[string]string{
		"KCB FT24003AAA01": bank.Matched, "KCB FT24003AAA02": bank.AmountMismatch, "KCB FT24003AAA03": bank.UnknownAtBank,
		"EQTY FT24003EEE01": bank.Matched, "NCBA FT24003NNN01": bank.Pending, "EQTY FT24003EEE03": bank.Matched,
		"EQTY DS-000042": bank.Matched, "EQTY DS-000043": bank.UnknownAtBank,
	}
	got := map[string]string{}
	for _, ln := range rep.Lines {
		got[ln.Bank+" "+ln.Reference] = ln.Status
		if ln.Reference == "FT24003EEE03" && (ln.SettlementID != st.Settlement.ID || ln.Terminal != "exit-1") {
			t.Errorf("the settlement's line = %+v; want settlement %s at exit-1", ln, st.Settlement.ID)
		}
		if ln.Reference == "DS-000042" && (ln.Kind != "deposit" || ln.ShiftID != banked[gate] || ln.Amount != 530000) {
			t.Errorf("the gate's deposit = %+v; want a deposit of shift %s, KES 5,300.00", ln, banked[gate])
		}
		if ln.Reference == "DS-000043" && (ln.Kind != "deposit" || ln.ShiftID != banked[exit] || ln.Amount != 100000) {
			t.Errorf("the exit's deposit = %+v; want a deposit of shift %s, KES 1,000.00", ln, banked[exit])
		}
		if ln.Reference == "FT24003AAA02" && (ln.Credit == nil || ln.Credit.Amount != 500000 || ln.Amount != 530000) {
			t.Errorf("the mismatch = %+v; want the sale's KES 5,300.00 against the bank's 5,000.00", ln)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("bank lines = %v; want %v", got, want)
	}
	var unclaimed []string
	for _, c := range rep.Unclaimed {
		unclaimed = append(unclaimed, c.Bank+" "+c.Reference)
	}
	if w := []string{"EQTY FT24003EEE02", "KCB SCHOOLTRIPDEPOSIT"}; !sameSet(unclaimed, w) {
		t.Errorf("unclaimed = %v; want %v (the voided sale's transfer among them)", unclaimed, w)
	}
	if rep.Counts[bank.Matched] != 4 || rep.Counts[bank.AmountMismatch] != 1 || rep.Counts[bank.UnknownAtBank] != 2 || rep.Counts[bank.Pending] != 1 {
		t.Errorf("counts = %v", rep.Counts)
	}

	// The same statements again: nothing changes.
	before, _ := json.Marshal(rep)
	if imp := importStatement(t, l, "kcb-2024-01-03.camt053.xml", bank.CSVConfig{}); imp.New != 0 || !imp.Known {
		t.Errorf("camt.053 again: %+v; want known, nothing new", imp)
	}
	if imp := importStatement(t, l, "eqty-2024-01-03.csv", eqty); imp.New != 0 || !imp.Known {
		t.Errorf("CSV again: %+v; want known, nothing new", imp)
	}
	if after, _ := json.Marshal(report()); string(after) != string(before) {
		t.Errorf("importing twice changed the report:\n%s\n%s", before, after)
	}
}

func sameSet(a, b []string) bool {
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return len(a) == len(b)
}
