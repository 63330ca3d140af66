package ui

import (
	"testing"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
)

// TestBadInputChangesNothing: every bad input gets an inline message and
// leaves the store's rows as they were.
func TestBadInputChangesNothing(t *testing.T) {
	h := newHarness(t)
	k := h.k

	// A wrong PIN.
	before := h.counts()
	h.login(attendant, "9999")
	if k.current != k.login || !k.login.msg.isError() {
		t.Fatalf("wrong PIN: screen %T, message %q; want the login with an error", k.current, k.login.msg.Text)
	}
	contains(t, "wrong PIN message", k.login.msg.Text, "Wrong PIN (4 tries left")
	sameCounts(t, "a wrong PIN", before, h.counts())
	if k.login.pad.field.Text != "" {
		t.Errorf("the PIN stays in the field after a refusal")
	}

	h.login(attendant, attendantPIN)
	// A float with letters.
	before = h.counts()
	h.typeIn(k.shiftS.float["KES"], "5,000abc")
	h.tap(k.shiftS.open)
	if !k.shiftS.msg.isError() || k.shift != nil {
		t.Errorf("float 5,000abc: message %q, shift %v; want an error and no shift", k.shiftS.msg.Text, k.shift)
	}
	sameCounts(t, "a float with letters", before, h.counts())
	h.openShift("5000")

	e := k.entry
	sell := func(what string, setup func()) {
		t.Helper()
		e.clearSale()
		setup()
		before := h.counts()
		h.tap(e.complete)
		if !e.msg.isError() {
			t.Errorf("%s: message %q; want an error", what, e.msg.Text)
		} else {
			t.Logf("%s: %s", what, e.msg.Text)
		}
		if e.passView.Visible() {
			t.Errorf("%s: a pass is shown", what)
		}
		h.fits(what)
		sameCounts(t, what, before, h.counts())
	}
	sell("letters in the cash given", func() {
		h.plus("EAC-ADULT", 1)
		h.tap(e.tender.btn[terminal.TenderCash])
		h.typeIn(e.tender.cashGiven, "abc")
	})
	sell("a negative cash given", func() {
		h.plus("EAC-ADULT", 1)
		h.tap(e.tender.btn[terminal.TenderCash])
		h.typeIn(e.tender.cashGiven, "-500")
	})
	sell("cash given short of the total", func() {
		h.plus("EAC-ADULT", 1)
		h.tap(e.tender.btn[terminal.TenderCash])
		h.typeIn(e.tender.cashGiven, "10")
	})
	sell("zero people", func() {
		h.tap(e.vbtn["CAR"])
		h.tap(e.tender.btn[terminal.TenderCash])
	})
	sell("zero people after − taps", func() {
		h.plus("EAC-ADULT", 1)
		h.tap(h.counter("EAC-ADULT").minus)
		h.tap(h.counter("EAC-ADULT").minus)
		h.tap(e.tender.btn[terminal.TenderCash])
	})
	sell("an over-long plate", func() {
		h.plus("EAC-ADULT", 1)
		h.typeIn(e.plate, "KCB 123A 4567890")
		h.tap(e.tender.btn[terminal.TenderCash])
	})
	sell("a bad M-PESA code", func() {
		h.plus("EAC-ADULT", 1)
		h.tap(e.tender.btn[terminal.TenderMpesa])
		h.typeIn(e.tender.mpesa, "12345")
	})
	sell("no tender chosen for the rest after a part", func() {
		// cash is chosen for each new sale; after a part payment the
		// rest's tender is to choose
		h.plus("EAC-ADULT", 1)
		h.typeIn(e.tender.cashGiven, "100")
		h.tap(e.tender.partBtn)
	})

	// A scanned text that is not a pass.
	h.tap(k.nav.exit)
	x := k.exit
	for _, text := range []string{"hello world", "LG1:12345", "https://example.com/?q=1"} {
		before := h.counts()
		h.typeIn(x.scan, text)
		h.enter(x.scan)
		if x.refusal.Text != pass.Malformed.Message("en") || x.payBox.Visible() {
			t.Errorf("scan %q: refusal %q; want %q", text, x.refusal.Text, pass.Malformed.Message("en"))
		}
		sameCounts(t, "scanning "+text, before, h.counts())
	}
	// Settle without a pass.
	before = h.counts()
	h.enter(x.scan)
	if !x.msg.isError() {
		t.Errorf("empty scan: message %q; want an error", x.msg.Text)
	}
	sameCounts(t, "an empty scan", before, h.counts())

	// A bad setting is refused beside its field.
	h.tap(k.nav.super)
	h.typeIn(k.gate.name, "admin")
	h.pin(k.gate.pad, adminPIN)
	h.tap(k.super.setBtn)
	before = h.counts()
	p := k.super.settings
	h.typeIn(p.fields["hub"], "ftp://nowhere")
	h.tap(p.save["hub"])
	if !p.msgs["hub"].isError() {
		t.Errorf("hub ftp://nowhere: message %q; want an error", p.msgs["hub"].Text)
	}
	h.typeIn(p.fields["printer"], "lp0")
	h.tap(p.save["printer"])
	if !p.msgs["printer"].isError() {
		t.Errorf("printer lp0: message %q; want an error", p.msgs["printer"].Text)
	}
	sameCounts(t, "bad settings", before, h.counts())
}
