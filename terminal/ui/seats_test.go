package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/lango-pos/lango/terminal"
)

// saleEvents returns the sale.created payloads in the store's outbox.
func (h *harness) saleEvents() []terminal.Sale {
	h.t.Helper()
	evs, err := h.db.Events(context.Background(), 0, 10000)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []terminal.Sale
	for _, e := range evs {
		if e.Type != terminal.EventSaleCreated {
			continue
		}
		var s terminal.SaleCreated
		if err := json.Unmarshal(e.Payload, &s); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, s.Sale)
	}
	return out
}

// TestSeatsBoundTheHeadCount: seven visitors in a "private car, up to 6
// seats" are not sold on the attendant's tap: the screen says so, Complete
// asks a supervisor's PIN (Cancel and an attendant's PIN sell nothing),
// and the supervisor's approval is recorded in the sale's event.
func TestSeatsBoundTheHeadCount(t *testing.T) {
	h := newHarness(t)
	k := h.k
	h.login(attendant, attendantPIN)
	h.openShift("5000")
	e := k.entry

	h.typeIn(e.plate, "KCB 123A")
	h.plus("EAC-ADULT", 6)
	h.tap(e.vbtn["CAR"])
	if e.msg.Visible() {
		t.Errorf("six visitors in a six-seat car: %q; want no message", e.msg.Text)
	}
	h.plus("EAC-CHILD", 1)
	contains(t, "over the seats", e.msg.Text, "7 visitors in a Private car, up to 6 seats")
	h.tap(e.tender.btn[terminal.TenderCash])
	before := h.counts()
	h.tap(e.complete)
	if !k.gate.popup.Visible() {
		t.Fatalf("seven in a six-seat car sold without a supervisor: %+v", e.last)
	}
	contains(t, "supervisor's question", k.gate.why.Text, "which has 6 seats")
	sameCounts(t, "asking", before, h.counts())
	h.tap(k.gate.cancel)
	sameCounts(t, "Cancel", before, h.counts())
	if e.last != nil {
		t.Fatalf("Cancel sold")
	}

	h.tap(e.complete)
	h.typeIn(k.gate.name, attendant)
	h.pin(k.gate.pad, attendantPIN)
	sameCounts(t, "an attendant's PIN", before, h.counts())
	contains(t, "gate message", k.gate.msg.Text, "not a supervisor")
	h.typeIn(k.gate.name, "admin")
	h.pin(k.gate.pad, adminPIN)
	if e.last == nil {
		t.Fatalf("the supervisor's PIN did not sell: %q %q", k.gate.msg.Text, e.msg.Text)
	}
	evs := h.saleEvents()
	if len(evs) != 1 {
		t.Fatalf("%d sale events; want 1", len(evs))
	}
	o := evs[0].Override
	if o == nil || o.By != "admin" || o.Reason != "seats: 7 visitors in CAR (up to 6)" {
		t.Errorf("the sale's override = %+v; want admin's, for 7 visitors in CAR (up to 6)", o)
	}

	// Within the seats no one is asked and nothing is recorded as overridden.
	h.tap(e.next)
	h.typeIn(e.plate, "KCB 124A")
	h.plus("EAC-ADULT", 2)
	h.tap(e.vbtn["CAR"])
	h.tap(e.tender.btn[terminal.TenderCash])
	h.tap(e.complete)
	if k.gate.popup.Visible() {
		t.Fatalf("two in a car asked a supervisor")
	}
	if evs := h.saleEvents(); len(evs) != 2 || evs[1].Override != nil {
		t.Errorf("sale events %d, the second's override %+v; want 2 and none", len(evs), evs[len(evs)-1].Override)
	}
}

// TestCapSaysSo: + at the 500 cap says why it does not count on, and the
// count stays at the cap.
func TestCapSaysSo(t *testing.T) {
	h := newHarness(t)
	h.login(attendant, attendantPIN)
	h.openShift("5000")
	e := h.k.entry
	c := h.counter("EAC-ADULT")
	c.set(terminal.MaxQty - 1)
	e.changed()
	h.tap(c.plus)
	if c.n != terminal.MaxQty || e.msg.Visible() {
		t.Fatalf("at %d: %q; want %d and no message", c.n, e.msg.Text, terminal.MaxQty)
	}
	h.tap(c.plus)
	if c.n != terminal.MaxQty {
		t.Errorf("count = %d; want %d", c.n, terminal.MaxQty)
	}
	if !e.msg.Visible() {
		t.Fatalf("+ at the cap said nothing")
	}
	contains(t, "cap message", e.msg.Text, fmt.Sprintf("at most %d", terminal.MaxQty))
	h.tap(c.minus)
	if e.msg.Visible() {
		t.Errorf("the cap message stayed after −: %q", e.msg.Text)
	}
}
