package hubtest

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/hub/bank"
	"github.com/lango-pos/lango/sync/hub/mpesa"
	"github.com/lango-pos/lango/terminal"
)

// mpesaSale emits a sale paid by M-PESA code for paybill and returns its id.
func (l *lane) mpesaSale(amount int64, code, paybill string) string {
	l.t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	l.receipts++
	l.emit(terminal.EventSaleCreated, terminal.Sale{ID: id, Number: l.receipts, Kind: "sale", Terminal: l.term.ID, Site: l.term.Site, At: l.clock.Add(time.Minute),
		State: terminal.SalePaid, Totals: terminal.Totals{"KES": amount},
		Tenders: []terminal.Tender{{Kind: terminal.TenderMpesa, Currency: "KES", Amount: amount, Reference: code, Paybill: paybill}}})
	return id
}

// bankSale emits a sale paid by a bank reference and its bank.used, and
// returns the sale's id.
func (l *lane) bankSale(amount int64, bankCode, ref string) string {
	l.t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	l.receipts++
	l.emit(terminal.EventSaleCreated, terminal.Sale{ID: id, Number: l.receipts, Kind: "sale", Terminal: l.term.ID, Site: l.term.Site, At: l.clock.Add(time.Minute),
		State: terminal.SalePaid, Totals: terminal.Totals{"KES": amount},
		Tenders: []terminal.Tender{{Kind: terminal.TenderBank, Currency: "KES", Amount: amount, Bank: bankCode, Reference: ref}}})
	l.emit(terminal.EventBankUsed, terminal.BankUsed{Bank: bankCode, Reference: ref, Currency: "KES", Amount: amount, SaleID: id})
	return id
}

// moneySections: the report's bank and M-PESA sections, answered from the
// state kept at ingest and as the ledger changes, are those of the old
// computation that read every event and looked every code up in the
// ledger (Hub.RescanReport), at each step: tenders whose payment came
// before them and after, mismatched, taken twice at two sites, unknown,
// asked about (pending, answered, then paid), settled by M-PESA; bank
// tenders of sales voided (the void in the tender's batch, and in a later
// one), of a settlement, a cash deposit, matched, mismatched, pending.
func moneySections(t *testing.T, s hub.Store) {
	ctx := context.Background()
	led, err := bank.OpenLedger(ctx, filepath.Join(t.TempDir(), "bank.db"))
	must(t, err)
	defer led.Close()
	now := t0.Add(48 * time.Hour)
	h := hub.New(s, hub.Options{Now: func() time.Time { return now }, Bank: led})
	compare := func(step string) *hub.Report {
		t.Helper()
		kept, err := h.Report(ctx)
		must(t, err)
		old, err := h.RescanReport(ctx)
		must(t, err)
		for _, part := range []struct {
			name     string
			got, old any
		}{{"mpesa", kept.Mpesa, old.Mpesa}, {"bank", kept.Bank, old.Bank}} {
			a, err := json.Marshal(part.got)
			must(t, err)
			b, err := json.Marshal(part.old)
			must(t, err)
			if !bytes.Equal(a, b) {
				t.Fatalf("%s: the %s section from the state kept:\n%s\nfrom every event:\n%s", step, part.name, a, b)
			}
		}
		return kept
	}
	pay := func(code string, amount int64, paybill string, at time.Time) {
		t.Helper()
		if _, err := s.AddMpesaPayment(ctx, mpesa.Payment{Code: code, Amount: amount, ShortCode: paybill, At: at, Source: "c2b"}, now); err != nil {
			t.Fatal(err)
		}
	}

	g1 := newLane(t, s, "NNP", "gate-1", t0)
	g2 := newLane(t, s, "NNP", "gate-2", t0.Add(17*time.Second))
	amb := newLane(t, s, "AMB", "gate-1", t0.Add(29*time.Second))

	pay("QPAIDFIRST", 120000, "400200", t0) // before its tender reaches the hub
	g1.mpesaSale(120000, "QPAIDFIRST", "400200")
	g1.mpesaSale(50000, "QPAIDLATER", "400200")
	g1.mpesaSale(70000, "QMISMATCH", "400200")
	g1.mpesaSale(30000, "QTWICE", "400200")
	amb.mpesaSale(30000, "QTWICE", "500300")
	g1.mpesaSale(40000, "QUNKNOWN", "")
	g1.mpesaSale(60000, "QPENDING", "400200")
	g1.mpesaSale(80000, "QANSWERED", "400200")
	owed := g1.sale(90000, "defer")
	g2.settle(owed, 90000, "mpesa:QSETTLED")

	matched := g1.bankSale(150000, "KCB", "SLIP-1")
	voidedLater := g1.bankSale(60000, "KCB", "SLIP-2")
	voidedFirst := g1.bankSale(70000, "KCB", "SLIP-3")
	g1.void(voidedFirst)                 // in the tender's batch
	g1.bankSale(45000, "KCB", "SLIP-4")  // the bank has 40,000
	g1.bankSale(10000, "EQTY", "SLIP-5") // no statement of the bank
	g1.emit(terminal.EventBankUsed, terminal.BankUsed{Bank: "KCB", Reference: "DEP-1", Currency: "KES", Amount: 200000, DepositID: uuid.Must(uuid.NewV7()).String(), ShiftID: "shift-1"})
	settlement := uuid.Must(uuid.NewV7()).String()
	g2.emit(terminal.EventBankUsed, terminal.BankUsed{Bank: "KCB", Reference: "SLIP-6", Currency: "KES", Amount: 90000, SettlementID: settlement})
	g1.emit(terminal.EventBankUsed, json.RawMessage(`{"bank": "KCB", "reference": "", "amount": 5}`)) // no reference: skipped
	_ = matched

	day := time.Date(t0.Year(), t0.Month(), t0.Day(), 0, 0, 0, 0, time.UTC)
	if _, err := led.Import(ctx, &bank.Statement{Bank: "KCB", Account: "0100", ID: "st-1", Currency: "KES", From: day, To: day.Add(24 * time.Hour), Format: "csv",
		Credits: []bank.Entry{{Key: "e1", Reference: "SLIP-1", Amount: 150000, Booked: t0}, {Key: "e2", Reference: "SLIP-2", Amount: 60000, Booked: t0},
			{Key: "e3", Reference: "SLIP-4", Amount: 40000, Booked: t0}, {Key: "e4", Reference: "DEP-1", Amount: 200000, Booked: t0},
			{Key: "e5", Reference: "SLIP-6", Amount: 90000, Booked: t0}}}, now); err != nil {
		t.Fatal(err)
	}

	g2.upload(1)
	g1.upload(3)
	amb.upload(2)
	compare("uploaded")

	pay("QPAIDLATER", 50000, "400200", t0.Add(10*time.Minute))
	pay("QMISMATCH", 7000, "400200", t0.Add(10*time.Minute))
	pay("QSETTLED", 90000, "400200", t0.Add(30*time.Minute))
	pay("QNOSALE", 10000, "400200", t0) // no terminal took it: not in the report
	must(t, s.AskedMpesa(ctx, "QPENDING", "conv-1", now))
	must(t, s.AskedMpesa(ctx, "QANSWERED", "conv-2", now))
	if _, err := s.AnsweredMpesa(ctx, "conv-2", 2001, "The initiator information is invalid.", now); err != nil {
		t.Fatal(err)
	}
	compare("the ledger changed")

	g1.void(voidedLater)
	g1.upload(10)
	r := compare("a void after its tender")

	wantCounts := map[string]int{mpesa.Matched: 3, mpesa.Mismatched: 1, mpesa.Duplicated: 1, mpesa.Unknown: 2, mpesa.Pending: 1}
	if got, _ := json.Marshal(r.Mpesa.Counts); string(got) != js(t, wantCounts) {
		t.Errorf("M-PESA counts %s; want %v", got, wantCounts)
	}
	var listed []string
	for _, ln := range r.Mpesa.Lines {
		listed = append(listed, ln.Code+"="+ln.Status)
	}
	want := `["QANSWERED=unknown","QMISMATCH=mismatched","QPENDING=pending","QTWICE=duplicated","QUNKNOWN=unknown"]`
	if got := js(t, listed); got != want {
		t.Errorf("M-PESA lines %s; want the exceptions only, %s", got, want)
	}
	var matchedTotal *mpesa.Total
	for i, tt := range r.Mpesa.Totals {
		if tt.Status == mpesa.Matched && tt.Paybill == "400200" {
			matchedTotal = &r.Mpesa.Totals[i]
		}
	}
	if matchedTotal == nil || matchedTotal.Codes != 2 || matchedTotal.Recorded != 170000 || matchedTotal.Paid != 170000 {
		t.Errorf("matched total of paybill 400200 %+v in %+v; want 2 codes (the settlement's has no paybill), KES 1,700.00 recorded and paid", matchedTotal, r.Mpesa.Totals)
	}
	bankStates := map[string]string{}
	for _, ln := range r.Bank.Lines {
		bankStates[ln.Reference] = ln.Status
	}
	wantBank := map[string]string{"SLIP-1": bank.Matched, "SLIP-4": bank.AmountMismatch, "SLIP-5": bank.Pending, "DEP-1": bank.Matched, "SLIP-6": bank.Matched}
	if got, want := js(t, bankStates), js(t, wantBank); got != want {
		t.Errorf("bank lines %s; want %s (the voided sales' tenders left out)", got, want)
	}
	if len(r.Bank.Unclaimed) != 1 || r.Bank.Unclaimed[0].Reference != "SLIP-2" {
		t.Errorf("unclaimed credits %+v; want SLIP-2's, whose sale was voided", r.Bank.Unclaimed)
	}
}

func js(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	return string(b)
}
