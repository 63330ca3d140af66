package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal"
)

// TestSerialScanAtExit: a pass read by a serial scanner arrives on
// Options.Scans and is checked at the exit lane as if typed there.
func TestSerialScanAtExit(t *testing.T) {
	scans := make(chan string, 1)
	h := newHarness(t, func(o *Options) { o.Scans = scans })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h.k.Start(ctx)
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
	scans <- res.Sale.Pass
	deadline := time.Now().Add(5 * time.Second)
	for h.k.current != h.k.exit || h.k.exit.payBox.Hidden {
		if time.Now().After(deadline) {
			t.Fatalf("the scan did not reach the exit lane: screen %T, message %q", h.k.current, h.k.exit.msg.Text)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(h.k.exit.total.Text, "USD 80.00") {
		t.Errorf("exit lane shows %q; want USD 80.00 due", h.k.exit.total.Text)
	}
}
