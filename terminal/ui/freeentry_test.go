package ui

import (
	"context"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal"
)

// Free entry at the kiosk (issue 12): two under-fives, Cash with nothing
// keyed, Complete: the sale is paid with no tender and its pass is shown.
// The domain once refused it ("cash tender: nothing is left to pay").
func TestKioskFreeEntry(t *testing.T) {
	h := newHarness(t)
	k := h.k
	h.login(attendant, attendantPIN)
	h.openShift("0")
	e := k.entry
	h.plus("EAC-UNDER5", 2)
	h.tap(e.tender.btn[terminal.TenderCash])
	before := h.counts()
	h.tap(e.complete)
	if e.msg.isError() || !e.passView.Visible() {
		t.Fatalf("free entry: message %q, pass shown %v; want the pass", e.msg.Text, e.passView.Visible())
	}
	if after := h.counts(); after["sales"] != before["sales"]+1 {
		t.Fatalf("sales %d → %d; want one more", before["sales"], after["sales"])
	}
	sales, err := h.db.Sales(context.Background(), time.Time{})
	if err != nil || len(sales) == 0 {
		t.Fatal(err)
	}
	s := sales[len(sales)-1]
	if s.State != terminal.SalePaid || len(s.Tenders) != 0 || s.People() != 2 || s.Pass == "" {
		t.Errorf("sale %s tenders %v people %d pass %q; want paid, no tender, 2 people, a pass", s.State, s.Tenders, s.People(), s.Pass)
	}
}
