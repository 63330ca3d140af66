package ui

import (
	"testing"

	"fyne.io/fyne/v2"

	"github.com/lango-pos/lango/terminal"
)

// TestScanAfterStrayTapIsNotLost: at the exit lane a keyboard-wedge scan
// (the pass's text, then Enter) is checked whatever has focus: after a
// stray tap that left no widget focused, and after a tap on a tender that
// gave its field the focus; the pass is then settled.
func TestScanAfterStrayTapIsNotLost(t *testing.T) {
	h := newHarness(t)
	k := h.k
	h.login(attendant, attendantPIN)
	h.openShift("5000")
	a, b := h.deferredPass(1), h.deferredPass(2)
	h.tap(k.nav.exit)
	x := k.exit
	if k.win.Canvas().Focused() != x.scan {
		t.Fatalf("the exit lane opened without its scan field focused")
	}
	h.keyboard(a.Pass + "\n")
	if x.text != a.Pass || x.payBox.Hidden {
		t.Fatalf("the first scan was not checked: %q", x.msg.Text)
	}

	// A stray tap on Settle before a tender is chosen: an error, and no
	// widget has the focus.
	h.tap(x.settle)
	if f := k.win.Canvas().Focused(); f != nil {
		t.Fatalf("after the stray tap %T has focus; the test wants none", f)
	}
	h.keyboard(b.Pass + "\n")
	if x.text != b.Pass || x.payBox.Hidden {
		t.Fatalf("the scan after a stray tap was lost: pass on screen %q; message %q", x.text, x.msg.Text)
	}

	// A tap on Cash gives the cash field the focus; the scanner types the
	// other pass there: it goes to the pass check, not into the cash given.
	before := h.counts()
	h.tap(x.tender.btn[terminal.TenderCash])
	if k.win.Canvas().Focused() != x.tender.cashGiven {
		t.Fatalf("Cash did not focus the cash given")
	}
	h.keyboard(a.Pass + "\n")
	sameCounts(t, "a scan typed into the cash field", before, h.counts())
	if x.text != a.Pass || x.payBox.Hidden {
		t.Fatalf("the scan typed into the cash field was not checked: pass on screen %q; message %q", x.text, x.msg.Text)
	}
	if x.tender.cashGiven.Text != "" {
		t.Errorf("cash given = %q after the scan; want it empty", x.tender.cashGiven.Text)
	}

	// Settle it by M-PESA, from the keyboard.
	h.tap(x.tender.btn[terminal.TenderMpesa])
	h.keyboard("sg722nmvxq\n")
	if got := h.sale(a.ID); got.State != terminal.SaleSettled {
		t.Fatalf("sale state = %s after the settlement; want settled (%q)", got.State, x.msg.Text)
	}
	if got := h.sale(b.ID); got.State != terminal.SaleDeferred {
		t.Errorf("the other pass's sale = %s; want it still deferred", got.State)
	}
	if k.win.Canvas().Focused() != x.scan {
		t.Errorf("after the settlement the scan field does not have the focus")
	}
}

// TestScanIntoPlateGoesToThePassCheck: a pass scanned while the entry
// gate's plate field has focus is checked at the exit lane, and the plate
// keeps what was typed before.
func TestScanIntoPlateGoesToThePassCheck(t *testing.T) {
	h := newHarness(t)
	k := h.k
	h.login(attendant, attendantPIN)
	h.openShift("5000")
	p := h.deferredPass(1)
	if k.current != k.entry || k.win.Canvas().Focused() != k.entry.plate {
		t.Fatalf("the entry gate opened without the plate focused")
	}
	h.keyboard("KDA")
	before := h.counts()
	h.keyboard(p.Pass + "\n")
	sameCounts(t, "a scan typed into the plate", before, h.counts())
	if k.current != k.exit || k.exit.text != p.Pass || k.exit.payBox.Hidden {
		t.Fatalf("the scan typed into the plate was not checked: screen %T; message %q", k.current, k.exit.msg.Text)
	}
	if got := k.entry.plate.Text; got != "KDA" {
		t.Errorf("plate = %q; want KDA", got)
	}
}

// TestFunctionKeysWorkInTextFields: F1–F4 and F12, typed while a text
// field has focus, do what docs/UI.md says: F2 the other lane, F1 home,
// F3 the shift, F4 the supervisor's PIN, F12 the language.
func TestFunctionKeysWorkInTextFields(t *testing.T) {
	h := newHarness(t)
	k := h.k
	h.login(attendant, attendantPIN)
	h.openShift("5000")
	c := k.win.Canvas()
	if c.Focused() != k.entry.plate {
		t.Fatalf("the plate field does not have the focus at the entry gate")
	}
	h.press(fyne.KeyF2)
	if k.current != k.exit || c.Focused() != k.exit.scan {
		t.Fatalf("F2 in the plate field did not open the exit lane with its scan field focused")
	}
	h.press(fyne.KeyF1)
	if k.current != k.entry {
		t.Fatalf("F1 in the scan field did not go home")
	}
	c.Focus(k.entry.plate)
	h.press(fyne.KeyF3)
	if k.current != k.shiftS {
		t.Fatalf("F3 in the plate field did not open the shift")
	}
	h.press(fyne.KeyF1)
	c.Focus(k.entry.plate)
	h.press(fyne.KeyF4)
	if !k.gate.popup.Visible() {
		t.Fatalf("F4 in the plate field did not ask for the supervisor's PIN")
	}
	h.tap(k.gate.cancel)
	c.Focus(k.entry.plate)
	h.press(fyne.KeyF12)
	if k.lang != "sw" {
		t.Fatalf("F12 in the plate field did not switch the language: %s", k.lang)
	}
	// the rebuilt screens' fields take the keys too
	if c.Focused() == nil {
		c.Focus(k.entry.plate)
	}
	h.press(fyne.KeyF12)
	if k.lang != "en" {
		t.Errorf("F12 in a rebuilt screen's field did not switch back: %s", k.lang)
	}
}
