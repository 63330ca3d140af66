package ui

import (
	"strings"
	"testing"

	"github.com/lango-pos/lango/terminal"
)

// TestSplitTender: a family pays KES 2,000 in cash and the rest by M-PESA.
// The attendant keys the cash with its amount and adds it as a part, then
// the M-PESA code for the rest; the sale records both. A part with no
// amount, a part that pays it all, and a part followed by "pay at exit"
// are refused and store nothing.
func TestSplitTender(t *testing.T) {
	h := newHarness(t)
	k := h.k
	h.login(attendant, attendantPIN)
	h.openShift("5000")
	e := k.entry
	p := e.tender
	h.typeIn(e.plate, "KCB 123A")
	h.plus("EAC-ADULT", 2)
	h.plus("EAC-CHILD", 2)
	h.tap(e.vbtn["CAR"])
	contains(t, "total", e.total.Text, "KES 5,300.00")
	before := h.counts()

	h.tap(p.btn[terminal.TenderCash])
	h.tap(p.partBtn) // exact cash: no amount
	if len(p.parts) != 0 || p.preview.Text != T("tender.part_amount") {
		t.Errorf("a part with no amount: %d parts, %q", len(p.parts), p.preview.Text)
	}
	h.typeIn(p.cashGiven, "6000")
	h.tap(p.partBtn)
	if len(p.parts) != 0 || p.preview.Text != T("tender.part_pays_all") {
		t.Errorf("a part that pays it all: %d parts, %q", len(p.parts), p.preview.Text)
	}
	h.typeIn(p.cashGiven, "2000")
	h.tap(p.partBtn)
	if len(p.parts) != 1 || p.kind != "" {
		t.Fatalf("cash part not taken: %d parts, kind %q, %q", len(p.parts), p.kind, p.preview.Text)
	}
	contains(t, "what is left", p.preview.Text, "KES 3,300.00")

	// The rest "at exit" cannot follow a part payment.
	h.tap(p.btn[terminal.TenderDefer])
	h.tap(e.complete)
	if e.last != nil || !e.msg.isError() {
		t.Errorf("a part then pay at exit: sale %v, message %q", e.last, e.msg.Text)
	}
	sameCounts(t, "refused tenders", before, h.counts())

	h.tap(p.btn[terminal.TenderMpesa])
	h.typeIn(p.mpesa, "sg722nmvxq")
	contains(t, "preview", p.preview.Text, "KES 5,300.00")
	h.tap(e.complete)
	if e.last == nil {
		t.Fatalf("no sale: %s", e.msg.Text)
	}
	var got []string
	for _, tn := range e.last.Sale.Tenders {
		got = append(got, string(tn.Kind)+" "+tn.Reference+" "+terminal.Money{Currency: tn.Currency, Minor: tn.Net()}.String())
	}
	if want := "cash  KES 2,000.00|mpesa SG722NMVXQ KES 3,300.00"; strings.Join(got, "|") != want {
		t.Errorf("tenders %q; want %q", strings.Join(got, "|"), want)
	}
	if e.last.Sale.State != terminal.SalePaid || len(p.parts) != 0 {
		t.Errorf("state %s, %d parts left for the next customer", e.last.Sale.State, len(p.parts))
	}
}
