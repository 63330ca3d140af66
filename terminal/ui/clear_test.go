package ui

import (
	"testing"

	"github.com/lango-pos/lango/terminal"
)

// TestErrorsClearWhenFixed: an error beside a field goes once the
// attendant edits the input it was about (the float, the cash given, an
// M-PESA code, the supervisor's reason), before anything is submitted
// again; it does not stay to say something no longer true.
func TestErrorsClearWhenFixed(t *testing.T) {
	h := newHarness(t)
	k := h.k
	h.login(attendant, attendantPIN)

	fixed := func(what string, m *message, wrong, fix func()) {
		t.Helper()
		wrong()
		if !m.isError() {
			t.Fatalf("%s: no error to clear (%q)", what, m.Text)
		}
		fix()
		if m.Visible() || m.Text != "" {
			t.Errorf("%s: the error %q stayed after the input was fixed", what, m.Text)
		}
	}
	sh := k.shiftS
	fixed("the float", sh.msg, func() {
		h.typeIn(sh.float["KES"], "5,000abc")
		h.tap(sh.open)
	}, func() { h.typeIn(sh.float["KES"], "5000") })
	h.tap(sh.open)

	e := k.entry
	h.plus("EAC-ADULT", 1)
	fixed("the cash given", e.msg, func() {
		h.typeIn(e.tender.cashGiven, "abc")
		h.tap(e.complete)
	}, func() { h.typeIn(e.tender.cashGiven, "2000") })
	fixed("the M-PESA code", e.msg, func() {
		h.tap(e.tender.btn[terminal.TenderMpesa])
		h.typeIn(e.tender.mpesa, "12345")
		h.tap(e.complete)
	}, func() { h.typeIn(e.tender.mpesa, "SG722NMVXQ") })
	fixed("another tender chosen", e.msg, func() {
		h.typeIn(e.tender.mpesa, "12345")
		h.tap(e.complete)
	}, func() { h.tap(e.tender.btn[terminal.TenderCash]) })

	p := h.deferredPass(1)
	h.tap(k.nav.exit)
	x := k.exit
	h.typeIn(x.scan, p.Pass)
	h.enter(x.scan)
	fixed("the M-PESA code at the exit", x.msg, func() {
		h.tap(x.tender.btn[terminal.TenderMpesa])
		h.typeIn(x.tender.mpesa, "12345")
		h.tap(x.settle)
	}, func() { h.typeIn(x.tender.mpesa, "SG722NMVXQ") })

	sale := h.cashSale(1)
	sup := h.superScreen()
	sup.selectSale(sale.ID)
	fixed("the reason", sup.msg, func() { h.tap(sup.void) }, func() { h.typeIn(sup.reason, "keyed twice") })
}
