package ui

import (
	"context"
	"fmt"
	"testing"

	"github.com/lango-pos/lango/terminal"
)

// cashSale sells n EAC adults paid in cash at this gate.
func (h *harness) cashSale(n int) *terminal.Sale {
	h.t.Helper()
	ctx := context.Background()
	iss, err := h.db.PassIssuer(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	op, err := h.db.Authenticate(ctx, attendant, attendantPIN)
	if err != nil {
		h.t.Fatal(err)
	}
	res, err := h.db.Sell(ctx, op, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: n}},
		Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCash}}}, iss)
	if err != nil {
		h.t.Fatal(err)
	}
	return res.Sale
}

// superScreen signs a supervisor in through the navigation's PIN gate.
func (h *harness) superScreen() *superScreen {
	h.t.Helper()
	k := h.k
	h.tap(k.nav.super)
	h.typeIn(k.gate.name, "admin")
	h.pin(k.gate.pad, adminPIN)
	if k.current != k.super {
		h.t.Fatalf("supervisor screen not shown: %q", k.gate.msg.Text)
	}
	return k.super
}

// TestVoidAsksFirst: Void and Refund name the sale and its amount and ask;
// Cancel leaves the sale as it was in the store; the action then acts.
func TestVoidAsksFirst(t *testing.T) {
	h := newHarness(t)
	k := h.k
	h.login(attendant, attendantPIN)
	h.openShift("5000")
	sale := h.cashSale(2)
	sup := h.superScreen()
	if !sup.selectSale(sale.ID) {
		t.Fatalf("sale not listed")
	}
	contains(t, "the sale's line in the list", sup.saleLine(sale), " EAT") // site time with its zone (issue 18)
	for _, b := range []*button{sup.void, sup.refund} {
		h.typeIn(sup.reason, "keyed twice")
		before := h.counts()
		k.prompt = nil
		h.tap(b)
		if k.prompt == nil || !k.prompt.popup.Visible() {
			t.Fatalf("%s did not ask first; the sale is now %s", b.Text, h.sale(sale.ID).State)
		}
		contains(t, b.Text+" question", k.prompt.what.Text, fmt.Sprint(sale.Number))
		contains(t, b.Text+" question", k.prompt.what.Text, totals(sale.Totals, "KES"))
		if k.prompt.ok.Text != b.Text {
			t.Errorf("the question's action = %q; want %q", k.prompt.ok.Text, b.Text)
		}
		sameCounts(t, b.Text+" before the answer", before, h.counts())
		h.tap(k.prompt.cancel)
		if k.prompt.popup.Visible() {
			t.Errorf("Cancel left the question open")
		}
		sameCounts(t, b.Text+" cancelled", before, h.counts())
		if got := h.sale(sale.ID); got.State != terminal.SalePaid || got.Void != nil {
			t.Fatalf("after Cancel on %s the sale is %s; want paid", b.Text, got.State)
		}
	}
	h.typeIn(sup.reason, "keyed twice")
	h.tap(sup.void)
	h.tap(k.prompt.ok)
	if got := h.sale(sale.ID); got.State != terminal.SaleVoided {
		t.Fatalf("after the confirmation the sale is %s; want voided (%q)", got.State, sup.msg.Text)
	}
}

// TestCloseWithShiftOpenNeedsSupervisor: "Close Lango" asks first; with
// no shift open the confirmation closes; with a shift open it asks a
// supervisor's PIN as well, and an attendant's PIN is refused.
func TestCloseWithShiftOpenNeedsSupervisor(t *testing.T) {
	h := newHarness(t)
	k := h.k
	quits := 0
	k.quit = func() { quits++ }
	h.login(attendant, attendantPIN)
	h.openShift("5000")
	sup := h.superScreen()

	h.tap(sup.quit)
	if quits != 0 {
		t.Fatalf("Close Lango closed at once with a shift open")
	}
	if k.prompt == nil || !k.prompt.popup.Visible() {
		t.Fatalf("Close Lango did not ask")
	}
	contains(t, "close question", k.prompt.what.Text, attendant+"'s shift is open")
	h.tap(k.prompt.cancel)
	if quits != 0 || k.gate.popup.Visible() {
		t.Fatalf("Cancel closed Lango or asked a PIN")
	}

	h.tap(sup.quit)
	h.tap(k.prompt.ok)
	if quits != 0 {
		t.Fatalf("closed with a shift open without a supervisor's PIN")
	}
	if !k.gate.popup.Visible() {
		t.Fatalf("no supervisor PIN asked to close with a shift open")
	}
	h.typeIn(k.gate.name, attendant)
	h.pin(k.gate.pad, attendantPIN)
	if quits != 0 {
		t.Fatalf("an attendant's PIN closed Lango with a shift open")
	}
	contains(t, "gate message", k.gate.msg.Text, "not a supervisor")
	h.typeIn(k.gate.name, "admin")
	h.pin(k.gate.pad, adminPIN)
	if quits != 1 {
		t.Fatalf("the supervisor's PIN did not close Lango: %d closes; %q", quits, k.gate.msg.Text)
	}

	// Signed in with no shift open: the confirmation alone closes.
	h2 := newHarness(t)
	quits2 := 0
	h2.k.quit = func() { quits2++ }
	h2.login("admin", adminPIN)
	sup2 := h2.superScreen()
	h2.tap(sup2.quit)
	if quits2 != 0 {
		t.Fatalf("Close Lango closed before the confirmation")
	}
	h2.tap(h2.k.prompt.ok)
	if quits2 != 1 || h2.k.gate.popup.Visible() {
		t.Errorf("with no shift open, the confirmation did not close Lango (%d closes)", quits2)
	}
}
