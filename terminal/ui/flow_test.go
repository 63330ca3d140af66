package ui

import (
	"strings"
	"testing"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
)

// maxFamilyCarTaps is the goal for a family car, from the idle entry
// screen to its printed pass (issue 18; TestTapCounts counts the keys too).
const maxFamilyCarTaps = 6

// TestGateDay taps through a day at the gate: sign in, open the shift,
// sell a family car paid cash and a tour van deferred, settle the van at
// the exit lane by M-PESA, void a sale as a supervisor, close the shift
// and check the Z-report.
func TestGateDay(t *testing.T) {
	h := newHarness(t)
	k := h.k

	if k.current != k.login {
		t.Fatalf("first screen is not the login")
	}
	h.fits("login")
	h.login(attendant, attendantPIN)
	h.fits("shift opening")
	h.openShift("5000")
	if k.current != k.entry {
		t.Fatalf("home is not the entry gate")
	}

	// A family car: 2 adult citizens, 2 children, a 5-seat car, cash.
	e := k.entry
	h.taps = 0
	h.typeIn(e.plate, "kcb 123a") // typed on the keyboard: no tap
	h.plus("EAC-ADULT", 2)
	h.plus("EAC-CHILD", 2)
	h.tap(e.vbtn["CAR"])
	contains(t, "total", e.total.Text, "KES 5,300.00")
	h.fits("entry gate")
	if e.tender.kind != terminal.TenderCash {
		t.Errorf("the tender of a new sale is %q; want cash, chosen already", e.tender.kind)
	}
	h.tap(e.complete)
	if e.last == nil {
		t.Fatalf("no sale: %s", e.msg.Text)
	}
	family := e.last.Sale
	t.Logf("family car: %d taps from the idle entry screen to the printed pass", h.taps)
	if h.taps > maxFamilyCarTaps {
		t.Errorf("family car took %d taps; goal ≤ %d", h.taps, maxFamilyCarTaps)
	}
	if family.State != terminal.SalePaid || family.Totals["KES"] != 530000 || family.Vehicle != "KCB 123A" {
		t.Errorf("family car sale = %s %v %q; want paid KES 5,300.00 KCB 123A", family.State, family.Totals, family.Vehicle)
	}
	if !strings.HasPrefix(family.Pass, pass.TextPrefix) {
		t.Errorf("family car pass = %q; want a pass", family.Pass)
	}
	if e.last.PrintJob == "" || h.notified != 1 {
		t.Errorf("print job %q, spool notified %d times; want a job and 1", e.last.PrintJob, h.notified)
	}
	if !e.passView.Visible() || e.qr.Image == nil {
		t.Errorf("the pass is not shown with its QR code")
	}
	contains(t, "pass state", e.passState.Text, "Paid: KES 5,300.00")
	h.fits("the pass")
	if got := h.sale(family.ID); got.State != terminal.SalePaid {
		t.Errorf("stored family sale state = %s; want paid", got.State)
	}

	// A tour van: 2 international adults, 3 children, deferred to exit.
	h.typeIn(e.plate, "KDA 123A")
	h.plus("INT-ADULT", 2)
	h.plus("INT-CHILD", 3)
	h.tap(e.vbtn["TOUR-VAN"])
	h.tap(e.tender.btn[terminal.TenderDefer])
	h.tap(e.complete)
	van := e.last.Sale
	if van == family || van.State != terminal.SaleDeferred || len(van.Due) == 0 || van.Pass == "" {
		t.Fatalf("tour van sale = %+v (%s); want deferred with a pass", van, e.msg.Text)
	}
	contains(t, "pass state", e.passState.Text, "Pay at exit")

	// A walk-in to be voided.
	h.plus("EAC-ADULT", 1)
	h.tap(e.tender.btn[terminal.TenderCash])
	h.tap(e.complete)
	walkIn := e.last.Sale

	// The exit lane settles the van's pass by M-PESA.
	h.tap(k.nav.exit)
	x := k.exit
	if k.win.Canvas().Focused() != x.scan {
		t.Errorf("the exit lane's scan field is not focused")
	}
	h.typeIn(x.scan, van.Pass)
	h.enter(x.scan)
	if !x.payBox.Visible() {
		t.Fatalf("deferred pass not ready to settle: %q %q", x.refusal.Text, x.msg.Text)
	}
	contains(t, "pass details", x.details.Text, "KDA 123A") // as keyed at the entry gate
	h.fits("exit lane")
	contains(t, "pass details", x.details.Text, "2 × International, Adult")
	h.tap(x.tender.btn[terminal.TenderMpesa])
	h.typeIn(x.tender.mpesa, "sg722nmvxq")
	h.fits("exit lane, paying by M-PESA")
	h.tap(x.settle)
	if !strings.Contains(x.receipt.Text, "SG722NMVXQ") {
		t.Fatalf("no receipt after settling: %q %q", x.receipt.Text, x.msg.Text)
	}
	if got := h.sale(van.ID); got.State != terminal.SaleSettled {
		t.Errorf("van sale state = %s; want settled", got.State)
	}
	if h.notified != 4 {
		t.Errorf("spool notified %d times; want 4 (3 sales, 1 settlement)", h.notified)
	}
	// The same pass again is refused, in words.
	h.typeIn(x.scan, van.Pass)
	h.enter(x.scan)
	if x.payBox.Visible() || !strings.HasPrefix(x.refusal.Text, "Already settled at 06:") || !strings.Contains(x.refusal.Text, "EAT on gate-1") {
		t.Errorf("second settlement: refusal %q; want when (EAT) and where it was settled", x.refusal.Text)
	}
	if x.refusal.Text == pass.AlreadyUsed.Message("en") {
		t.Errorf("a pass just settled, scanned again, says %q", x.refusal.Text)
	}

	// A supervisor voids the walk-in; the attendant's own PIN is refused.
	h.tap(k.nav.super)
	g := k.gate
	if !g.popup.Visible() {
		t.Fatalf("no supervisor PIN asked")
	}
	h.typeIn(g.name, attendant)
	h.pin(g.pad, attendantPIN)
	contains(t, "gate message", g.msg.Text, "not a supervisor")
	h.typeIn(g.name, "admin")
	h.pin(g.pad, adminPIN)
	if k.current != k.super || g.popup.Visible() {
		t.Fatalf("supervisor screen not shown: %q", g.msg.Text)
	}
	sup := k.super
	h.fits("supervisor")
	if !sup.selectSale(walkIn.ID) {
		t.Fatalf("walk-in sale not listed")
	}
	h.tap(sup.void)
	contains(t, "void without reason", sup.msg.Text, "reason")
	h.typeIn(sup.reason, "wrong category keyed")
	h.tap(sup.void)
	if k.prompt == nil || !k.prompt.popup.Visible() {
		t.Fatalf("Void did not ask for a confirmation")
	}
	h.tap(k.prompt.ok)
	if got := h.sale(walkIn.ID); got.State != terminal.SaleVoided {
		t.Fatalf("walk-in state = %s; want voided (%s)", got.State, sup.msg.Text)
	}
	// and reprints the family car's pass, marked COPY.
	if !sup.selectSale(family.ID) {
		t.Fatalf("family sale not listed")
	}
	h.tap(sup.reprint)
	contains(t, "reprint message", sup.msg.Text, "COPY")
	if h.notified != 5 {
		t.Errorf("spool notified %d times after the reprint; want 5", h.notified)
	}
	h.tap(sup.done)
	if k.current != k.entry {
		t.Errorf("after the supervisor: not back at the entry gate")
	}
	// The voided sale's pass is refused at the exit.
	h.tap(k.nav.exit)
	h.typeIn(x.scan, walkIn.Pass)
	h.enter(x.scan)
	if x.refusal.Text != pass.Revoked.Message("en") {
		t.Errorf("voided pass: refusal %q; want %q", x.refusal.Text, pass.Revoked.Message("en"))
	}

	// Close the shift: KES 5,000 float + KES 5,300 cash.
	h.tap(k.nav.shift)
	sh := k.shiftS
	h.typeIn(sh.counted["KES"], "10300")
	h.tap(sh.close)
	if !sh.confirm.Visible() {
		t.Fatalf("closing asks no confirmation: %s", sh.msg.Text)
	}
	h.tap(sh.yes)
	z := sh.z
	if z == nil {
		t.Fatalf("no Z-report: %s", sh.msg.Text)
	}
	mpesa := int64(0)
	for _, tt := range z.Tenders {
		if tt.Tender == terminal.TenderMpesa {
			mpesa += tt.Amount
		}
	}
	settledKES := int64(0)
	for _, c := range van.Due.Currencies() {
		if c == "KES" {
			settledKES += van.Due[c]
		}
	}
	switch {
	case z.Sales != 2 || z.Voided != 1 || z.Settlements != 1 || z.Deferred != 0:
		t.Errorf("Z counts: sales %d voided %d settlements %d deferred %d; want 2 1 1 0", z.Sales, z.Voided, z.Settlements, z.Deferred)
	case z.Expected["KES"] != 1030000 || z.Counted["KES"] != 1030000 || z.Variance["KES"] != 0:
		t.Errorf("Z cash: expected %v counted %v variance %v; want KES 10,300.00 each and no variance", z.Expected, z.Counted, z.Variance)
	case mpesa <= settledKES:
		t.Errorf("Z M-PESA = %d; want the van's KES due plus its USD converted (> %d)", mpesa, settledKES)
	}
	contains(t, "Z on screen", sh.zText(), "KES 10,300.00")
	if h.notified != 6 {
		t.Errorf("spool notified %d times after closing; want 6 (the Z-report prints)", h.notified)
	}
	h.fits("Z-report")
	h.tap(sh.done)
	if k.current != k.login || k.op != nil {
		t.Errorf("after closing: not signed out")
	}
}

// TestCounterSale sells a service at a Huduma counter, found by typing.
func TestCounterSale(t *testing.T) {
	db := newStore(t, "counters.json", "HUDUMA-GPO", nil)
	h := newHarnessOn(t, db, "")
	k := h.k
	h.login(attendant, attendantPIN)
	h.openShift("1000")
	if k.current != k.counter {
		t.Fatalf("a counter terminal's home is not the counter")
	}
	c := k.counter
	h.typeIn(c.search, "birth")
	if len(c.found) != 1 || c.found[0].Code != "BIRTH-CERT" {
		t.Fatalf("search birth found %v", c.found)
	}
	h.enter(c.search)
	h.tap(c.listed[0]) // a second copy
	contains(t, "counter total", c.total.Text, "KES 400.00")
	h.tap(c.tender.btn[terminal.TenderCash])
	h.typeIn(c.tender.cashGiven, "500")
	contains(t, "change preview", c.tender.preview.Text, "Change KES 100.00")
	h.tap(c.complete)
	if c.last == nil {
		t.Fatalf("no sale: %s", c.msg.Text)
	}
	s := c.last.Sale
	if s.State != terminal.SalePaid || s.Totals["KES"] != 40000 || s.Pass != "" {
		t.Errorf("counter sale = %s %v pass %q; want paid KES 400.00 without a pass", s.State, s.Totals, s.Pass)
	}
	contains(t, "receipt", c.receipt.Text, "Change KES 100.00")
	h.fits("counter")
}
