package ui

import (
	"testing"

	"github.com/lango-pos/lango/terminal"
)

// Goals of issue 18: from the entry screen as the last sale left it to
// the next printed pass, cash exact.
const (
	familyCarTaps = 6 // 2 EAC adults, 2 EAC children, a car
	tourVanTaps   = 7 // 2 international adults, 3 children, a tour van
)

// TestTapCounts counts the taps and the keys of a family car and then a
// tour van, each from the screen the previous sale left (its pass shown),
// through the real widgets: every key goes where the window's driver
// sends it (the focused widget, or the canvas when none has focus), every
// tap moves the focus as the driver does (a tap on a button leaves none).
// Cash is chosen for each new sale, and the plate keeps the focus after
// every sale, so the plate is typed without a tap.
func TestTapCounts(t *testing.T) {
	h := newHarness(t)
	k := h.k
	h.login(attendant, attendantPIN)
	h.openShift("5000")
	e := k.entry

	keys := 0
	typed := func(s string) {
		t.Helper()
		keys += len([]rune(s))
		h.keyboard(s)
	}
	vehicle := func(what, plate string, people map[string]int, band string, wantTaps, wantKeys int, wantKES int64) {
		t.Helper()
		h.taps, keys = 0, 0
		last := e.last
		typed(plate)
		for _, code := range []string{"EAC-ADULT", "EAC-CHILD", "INT-ADULT", "INT-CHILD"} {
			h.plus(code, people[code])
		}
		h.tap(e.vbtn[band])
		h.tap(e.complete)
		if e.last == last || e.last == nil {
			t.Fatalf("%s: no sale: %q", what, e.msg.Text)
		}
		s := e.last.Sale
		if s.State != terminal.SalePaid || s.Vehicle != plate || s.Totals["KES"] != wantKES {
			t.Errorf("%s: sale %s %q %v; want paid, %s, KES %d", what, s.State, s.Vehicle, s.Totals, plate, wantKES/100)
		}
		t.Logf("%s: %d taps and %d keys (the plate)", what, h.taps, keys)
		if h.taps > wantTaps || keys != wantKeys {
			t.Errorf("%s took %d taps and %d keys; want %d taps and %d keys", what, h.taps, keys, wantTaps, wantKeys)
		}
		if k.win.Canvas().Focused() != e.plate {
			t.Errorf("%s: after the sale the focus is on %T; want the plate, for the next vehicle", what, k.win.Canvas().Focused())
		}
	}
	// The first of the shift, then the same again after a sale, then a van.
	vehicle("family car", "KCB 123A", map[string]int{"EAC-ADULT": 2, "EAC-CHILD": 2}, "CAR", familyCarTaps, 8, 530000)
	vehicle("family car after a sale", "KCB 124A", map[string]int{"EAC-ADULT": 2, "EAC-CHILD": 2}, "CAR", familyCarTaps, 8, 530000)
	vehicle("tour van", "KDA 123A", map[string]int{"INT-ADULT": 2, "INT-CHILD": 3}, "TOUR-VAN", tourVanTaps, 8, 150000)

	// The plate typed last, after the taps (nothing has the focus then),
	// reaches the plate field, and its Enter completes the sale.
	h.taps, keys = 0, 0
	last := e.last
	h.plus("EAC-ADULT", 2)
	h.plus("EAC-CHILD", 2)
	h.tap(e.vbtn["CAR"])
	typed("KCB 125A\n")
	if e.last == last || e.last.Sale.Vehicle != "KCB 125A" {
		t.Fatalf("the plate typed after the taps did not complete the sale: %q; plate %q, focus %T", e.msg.Text, e.plate.Text, k.win.Canvas().Focused())
	}
	t.Logf("family car, plate typed last: %d taps and %d keys (the plate and Enter)", h.taps, keys)
	if h.taps != 5 {
		t.Errorf("family car with the plate last: %d taps; want 5", h.taps)
	}
}
