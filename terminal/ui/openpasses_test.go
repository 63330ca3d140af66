package ui

import (
	"context"
	"testing"

	"github.com/lango-pos/lango/terminal"
)

// TestCloseShiftNamingOpenPasses (issue 15 item 4): a shift with a
// deferred pass still owed does not close at the kiosk on the attendant's
// word. Closing asks a supervisor's PIN, naming the pass; with it the
// shift closes and the Z-report lists the pass and who named it.
func TestCloseShiftNamingOpenPasses(t *testing.T) {
	h := newHarness(t)
	k := h.k
	ctx := context.Background()
	h.login(attendant, attendantPIN)
	h.openShift("")
	op, err := h.db.Authenticate(ctx, attendant, attendantPIN)
	if err != nil {
		t.Fatal(err)
	}
	iss, err := h.db.PassIssuer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	owed, err := h.db.Sell(ctx, op, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 2}}, Vehicle: "KDA 001X",
		Tenders: []terminal.TenderRequest{{Kind: terminal.TenderDefer}}}, iss)
	if err != nil {
		t.Fatal(err)
	}
	h.tap(k.nav.shift)
	sh := k.shiftS
	h.typeIn(sh.counted["KES"], "0")
	h.tap(sh.close)
	h.tap(sh.yes)
	if sh.z != nil || !k.gate.popup.Visible() {
		t.Fatalf("the shift closed, or no supervisor was asked: %q", sh.msg.Text)
	}
	contains(t, "the supervisor's question", k.gate.why.Text, "KDA 001X")
	if sales, err := h.db.Unsettled(ctx); err != nil || len(sales) != 1 {
		t.Fatalf("before the naming: %d passes owed (%v); want 1", len(sales), err)
	}
	// The attendant cannot name it.
	h.typeIn(k.gate.name, attendant)
	h.pin(k.gate.pad, attendantPIN)
	if sh.z != nil {
		t.Fatal("an attendant named the passes owed")
	}
	h.typeIn(k.gate.name, "admin")
	h.pin(k.gate.pad, adminPIN)
	if sh.z == nil {
		t.Fatalf("no Z-report after the supervisor named the pass: %q / %q", k.gate.msg.Text, sh.msg.Text)
	}
	if len(sh.z.OpenPasses) != 1 || sh.z.OpenPasses[0].SaleID != owed.Sale.ID || sh.z.OpenPassesBy != "admin" {
		t.Errorf("the Z-report's open passes %+v by %q; want the owed pass, named by admin", sh.z.OpenPasses, sh.z.OpenPassesBy)
	}
	if k.shift != nil {
		t.Error("the kiosk still has the shift open")
	}
}
