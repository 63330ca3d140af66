package ui

import (
	"context"
	"strings"
	"testing"

	"github.com/lango-pos/lango/terminal"
)

// TestSerialScanAtExit: a pass read by a serial scanner (Options.Scans
// hands each to Kiosk.Scanned on the UI goroutine) is checked at the exit
// lane as if typed there; before anyone signs in it is ignored.
func TestSerialScanAtExit(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.k.Scanned("LG1:123")
	if h.k.current != h.k.login {
		t.Fatalf("a scan with nobody signed in left the login screen")
	}
	h.login(attendant, attendantPIN)
	h.openShift("5000")
	// A deferred pass sold at this gate.
	iss, err := h.db.PassIssuer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	op, err := h.db.Authenticate(ctx, attendant, attendantPIN)
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.db.Sell(ctx, op, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "INT-ADULT", Qty: 1}},
		Tenders: []terminal.TenderRequest{{Kind: terminal.TenderDefer}}}, iss)
	if err != nil {
		t.Fatal(err)
	}
	h.k.Scanned(res.Sale.Pass)
	if h.k.current != h.k.exit || h.k.exit.payBox.Hidden {
		t.Fatalf("the scan did not reach the exit lane: screen %T, message %q", h.k.current, h.k.exit.msg.Text)
	}
	if !strings.Contains(h.k.exit.total.Text, "USD 80.00") {
		t.Errorf("exit lane shows %q; want USD 80.00 due", h.k.exit.total.Text)
	}
}
