package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
	"github.com/lango-pos/lango/terminal/ticket"
)

// giveTickets stores a prepaid ticket list as the feed would: KWS-1 and
// KWS-2 valid today for two EAC adults and a car, KWS-3 cancelled.
func giveTickets(t *testing.T, db *sqlite.DB) {
	t.Helper()
	now := db.Now()
	var page []ticket.Change
	for i, no := range []string{"KWS-1", "KWS-2", "KWS-3"} {
		status := "valid"
		if no == "KWS-3" {
			status = "cancelled"
		}
		page = append(page, ticket.Change{N: int64(i + 1), Day: now.Format("2006-01-02"), Ticket: ticket.Ticket{No: no, Site: "NNP", Status: status,
			ValidFrom: now.Add(-time.Hour), ValidTo: now.Add(10 * time.Hour),
			Party:   []ticket.Group{{Category: "citizen", AgeBand: "adult", Count: 2}},
			Vehicle: &ticket.Vehicle{Plate: "KDA123A", Band: "car"}}})
	}
	if err := db.ApplyTickets(context.Background(), "hub", page); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) openShiftOn(want screen) {
	h.t.Helper()
	h.typeIn(h.k.shiftS.float["KES"], "5000")
	h.tap(h.k.shiftS.open)
	if h.k.current != want {
		h.t.Fatalf("after opening the shift: screen %T; want %T (%s)", h.k.current, want, h.k.shiftS.msg.Text)
	}
}

// TestTicketScannedAtExitAndEntry: a prepaid ticket scanned at the exit
// lane (typed by a keyboard wedge and Enter) or by the serial scanner,
// or typed into the entry gate's plate, goes to the ticket check: its
// party and vehicle are shown, Let in admits it once, a second scan is
// refused as already used, a cancelled one as revoked.
func TestTicketScannedAtExitAndEntry(t *testing.T) {
	h := newHarness(t)
	giveTickets(t, h.db)
	h.login(attendant, attendantPIN)
	h.openShift("5000")
	h.k.show(h.k.exit)
	h.typeIn(h.k.exit.scan, "ECT:KWS-1")
	h.enter(h.k.exit.scan)
	s := h.k.tickets
	if h.k.current != s {
		t.Fatalf("a ticket scanned at the exit lane: screen %T; want the ticket check", h.k.current)
	}
	contains(t, "ticket details", s.details.Text, "2 × citizen adult")
	contains(t, "ticket details", s.details.Text, "KDA123A")
	if s.admit.Hidden {
		t.Fatal("no Let in for a valid ticket")
	}
	before := h.counts()
	h.tap(s.admit)
	if after := h.counts(); after["events"] != before["events"]+1 {
		t.Fatalf("events %d → %d; want the ticket.redeemed", before["events"], after["events"])
	}
	contains(t, "after Let in", s.receipt.Text, "Let in")
	h.k.Scanned("ECT:KWS-1")
	if s.refusal.Hidden || !strings.Contains(s.refusal.Text, "gate-1") || !s.admit.Hidden {
		t.Fatalf("the same ticket again: refusal %q (hidden %v); want already used at gate-1 and no Let in", s.refusal.Text, s.refusal.Hidden)
	}
	h.k.Scanned("ECT:KWS-3")
	if s.refusal.Hidden || !strings.Contains(s.refusal.Text, "cancelled") {
		t.Fatalf("a cancelled ticket: %q", s.refusal.Text)
	}
	// At the entry gate a keyboard wedge types into the plate field.
	h.k.show(h.k.entry)
	h.k.win.Canvas().Focus(h.k.entry.plate)
	h.keyboard("ECT:KWS-2")
	if h.k.current != s || s.scan.Text != "ECT:KWS-2" {
		t.Fatalf("a ticket typed at the entry gate: screen %T, scan field %q; want the ticket check with the code", h.k.current, s.scan.Text)
	}
	h.enter(s.scan)
	if s.admit.Hidden || h.k.entry.plate.Text != "" {
		t.Fatalf("the ticket typed at entry: Let in hidden %v, plate %q", s.admit.Hidden, h.k.entry.plate.Text)
	}
}

// TestExpressLane: a terminal in mode express goes to the ticket check
// after the shift opens, offers no other lane (nothing is sold), lets a
// paid pass and a ticket in once each, and sends a deferred pass to a
// staffed lane.
func TestExpressLane(t *testing.T) {
	prints := t.TempDir()
	db := newStore(t, "kws.json", "NNP", map[string]string{"printer": "emulator:" + prints, "mode": "express"})
	giveTickets(t, db)
	ctx := context.Background()
	admin, err := db.Authenticate(ctx, "admin", adminPIN)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.OpenShift(ctx, admin, terminal.Totals{"KES": 0}); err != nil {
		t.Fatal(err)
	}
	paid, err := db.SellSigned(ctx, admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 2}}, Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCash}}})
	if err != nil {
		t.Fatal(err)
	}
	deferred, err := db.SellSigned(ctx, admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 1}}, Tenders: []terminal.TenderRequest{{Kind: terminal.TenderDefer}}})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarnessOn(t, db, prints)
	h.login(attendant, attendantPIN)
	h.openShiftOn(h.k.tickets)
	if got := len(h.k.nav.lanes.Objects); got != 1 || h.k.nav.lanes.Objects[0] != h.k.nav.express {
		t.Fatalf("the express lane's nav offers %d lanes; want only the express lane", got)
	}
	h.k.nav.tapOther()
	if h.k.current != h.k.tickets {
		t.Fatal("the other-lane key left the express lane")
	}
	s := h.k.tickets
	// A paid pass, typed by the keyboard wedge into the scan field.
	h.typeIn(s.scan, paid.Sale.Pass)
	h.enter(s.scan)
	if s.admit.Hidden {
		t.Fatalf("a paid pass at the express lane: refusal %q, message %q", s.refusal.Text, s.msg.Text)
	}
	h.tap(s.admit)
	contains(t, "a paid pass let in", s.receipt.Text, "Let in")
	h.k.Scanned(paid.Sale.Pass)
	if s.refusal.Hidden || !s.admit.Hidden {
		t.Fatalf("the pass again: refusal %q; want already used", s.refusal.Text)
	}
	// A deferred pass owes: no Let in, sent to a staffed lane.
	h.k.Scanned(deferred.Sale.Pass)
	if !s.admit.Hidden || !strings.Contains(s.refusal.Text, "staffed lane") {
		t.Fatalf("a deferred pass at the express lane: %q, Let in hidden %v", s.refusal.Text, s.admit.Hidden)
	}
	before := h.counts()
	h.k.Scanned("ECT:KWS-2")
	h.tap(s.admit)
	if after := h.counts(); after["events"] != before["events"]+1 || after["sales"] != before["sales"] {
		t.Fatalf("a ticket let in at the express lane: %v → %v; want one event, no sale", before, after)
	}
	// Typed with the focus elsewhere: the lane's field takes it.
	h.k.win.Canvas().Focus(nil)
	h.k.typedRune('E')
	if s.scan.Text != "E" {
		t.Fatalf("a rune typed at the express lane went to %q", s.scan.Text)
	}
	h.k.win.Canvas().Focus(s.scan)
	s.scan.TypedKey(&fyne.KeyEvent{Name: fyne.KeyBackspace})
}

// TestTicketWithALargerParty: a party counted at the entry screen before
// the ticket is scanned is compared with the ticket; the rest is shown,
// and Let in sells it (the entry screen's tender, cash) with the use in
// one transaction, clearing the entry screen.
func TestTicketWithALargerParty(t *testing.T) {
	h := newHarness(t)
	giveTickets(t, h.db)
	h.login(attendant, attendantPIN)
	h.openShift("5000")
	h.plus("EAC-ADULT", 3)
	h.k.entry.chooseVehicle("CAR")
	h.typeIn(h.k.entry.plate, "KDA 123A")
	h.k.Scanned("ECT:KWS-1")
	s := h.k.tickets
	if s.rest.Hidden || !strings.Contains(s.rest.Text, "1 × EAC-ADULT") || strings.Contains(s.rest.Text, "CAR") {
		t.Fatalf("the rest of the party: %q (hidden %v); want 1 × EAC-ADULT, the car on the ticket", s.rest.Text, s.rest.Hidden)
	}
	before := h.counts()
	h.tap(s.admit)
	after := h.counts()
	if after["sales"] != before["sales"]+1 || after["events"] != before["events"]+2 {
		t.Fatalf("let in with the rest: %v → %v; want one sale and its event and the ticket's", before, after)
	}
	contains(t, "receipt", s.receipt.Text, "rest sold")
	if !h.k.entry.empty() {
		t.Fatal("the entry screen still holds the party that came in on the ticket")
	}
}
