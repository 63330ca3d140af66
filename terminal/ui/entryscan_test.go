package ui

import (
	"testing"

	"github.com/lango-pos/lango/terminal"
)

// TestEntryScanAfterStrayTap: at the entry gate, a pass scanned after a
// tap that left nothing focused (on +, a vehicle, the pass's Next) still
// reaches the pass check at the exit lane, and is settled there from the
// keyboard path; the keyed sale stays as it was, nothing is stored by the
// scan, and the plate keeps no part of the pass.
func TestEntryScanAfterStrayTap(t *testing.T) {
	h := newHarness(t)
	k := h.k
	h.login(attendant, attendantPIN)
	h.openShift("5000")
	p := h.deferredPass(1)
	e := k.entry
	h.plus("EAC-ADULT", 1)
	h.tap(e.vbtn["CAR"]) // a tap on a button: nothing has the focus now
	if f := k.win.Canvas().Focused(); f != nil {
		t.Fatalf("after a tap on a vehicle %T has the focus; the test needs none", f)
	}
	before := h.counts()
	h.keyboard(p.Pass + "\n")
	sameCounts(t, "a scan at the entry gate", before, h.counts())
	x := k.exit
	if k.current != x || x.text != p.Pass || x.payBox.Hidden {
		t.Fatalf("the scan typed after a stray tap was not checked: screen %T; entry message %q; plate %q", k.current, e.msg.Text, e.plate.Text)
	}
	if e.plate.Text != "" || e.vehicle != "CAR" || h.counter("EAC-ADULT").n != 1 {
		t.Errorf("the entry sale changed: plate %q, vehicle %q, adults %d", e.plate.Text, e.vehicle, h.counter("EAC-ADULT").n)
	}
	h.tap(x.tender.btn[terminal.TenderCash])
	h.press("Return")
	if got := h.sale(p.ID); got.State != terminal.SaleSettled {
		t.Errorf("after the scan the pass is %s; want settled (%q)", got.State, x.msg.Text)
	}
}
