package sqlite_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
	"github.com/lango-pos/lango/terminal/sqlite"
	"github.com/lango-pos/lango/terminal/ticket"
)

const hubA = "hub-a"

// prepaid is a valid ticket of NNP for the outage day, for two EAC adults
// and a car, change number n.
func prepaid(no string, n int64) ticket.Change {
	eat := time.FixedZone("EAT", 3*3600)
	return ticket.Change{N: n, Day: "2024-01-03", Ticket: ticket.Ticket{
		No: no, Site: "NNP", Status: "valid",
		ValidFrom: time.Date(2024, 1, 3, 6, 0, 0, 0, eat), ValidTo: time.Date(2024, 1, 3, 18, 0, 0, 0, eat),
		Party:   []ticket.Group{{Category: "citizen", AgeBand: "adult", Count: 2}},
		Vehicle: &ticket.Vehicle{Plate: "KDA123A", Band: "car"},
	}}
}

func mustApply(t *testing.T, db *sqlite.DB, page ...ticket.Change) {
	t.Helper()
	if err := db.ApplyTickets(context.Background(), hubA, page); err != nil {
		t.Fatalf("ApplyTickets: %v", err)
	}
}

// TestTicketCheckReasons: each kind of ticket gets the pass reason the
// attendant knows, and nothing is stored by a check.
func TestTicketCheckReasons(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	ok := prepaid("KWS-1", 1)
	cancelled := prepaid("KWS-2", 2)
	cancelled.Status = "cancelled"
	expired := prepaid("KWS-3", 3)
	expired.ValidFrom, expired.ValidTo = expired.ValidFrom.Add(-48*time.Hour), expired.ValidTo.Add(-48*time.Hour)
	early := prepaid("KWS-4", 4)
	early.ValidFrom, early.ValidTo = early.ValidFrom.Add(24*time.Hour), early.ValidTo.Add(24*time.Hour)
	mustApply(t, f.db, ok, cancelled, expired, early)
	for _, c := range []struct {
		code string
		want pass.Reason
	}{
		{"ECT:KWS-1", ""},
		{"ect:KWS-1", pass.Malformed},
		{"ECT:", pass.Malformed},
		{"ECT:KWS-2", pass.Revoked},
		{"ECT:KWS-3", pass.Expired},
		{"ECT:KWS-4", pass.NotYetValid},
		{"ECT:KWS-999", pass.UnknownIssuer},
	} {
		tc, err := f.db.CheckTicket(ctx, c.code)
		if err != nil {
			t.Fatalf("%s: %v", c.code, err)
		}
		if got := tc.TicketReason(); got != c.want {
			t.Errorf("%s: reason %q; want %q (%v)", c.code, got, c.want, tc.Refusal)
		}
	}
	tc, _ := f.db.CheckTicket(ctx, "ECT:kws-1")
	if tc.Refusal != nil || tc.Ticket == nil || tc.Ticket.Vehicle == nil || tc.Ticket.Vehicle.Plate != "KDA123A" || tc.Ticket.Party[0].Count != 2 {
		t.Fatalf("check of KWS-1: %+v; want valid with its party and vehicle", tc)
	}
	tc, _ = f.db.CheckTicket(ctx, "ECT:KWS-1")
	if tc.Refusal != nil {
		t.Fatalf("a check used the ticket: %v", tc.Refusal)
	}
}

// TestTicketWrongSite: a list is of the terminal's site only (a page with
// another site's ticket is refused), and a ticket held for another site
// (a catalogue switched sites) is refused as wrong_site.
func TestTicketWrongSite(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	other := prepaid("KWS-9", 1)
	other.Site = "AMB"
	err := f.db.ApplyTickets(ctx, hubA, []ticket.Change{prepaid("KWS-1", 1), other})
	if terminal.ErrorKind(err) != terminal.EINVALID || !strings.Contains(err.Error(), "AMB") {
		t.Fatalf("a page with another site's ticket: %v; want EINVALID naming AMB", err)
	}
	if l, _ := f.db.Tickets(ctx); l.Held != 0 || !strings.Contains(l.Error, "AMB") {
		t.Fatalf("after the refused page: %+v; want nothing held and the reason kept", l)
	}
	// Stored for NNP, checked at a site the terminal now says it is not.
	mustApply(t, f.db, prepaid("KWS-1", 1))
	if _, err := f.db.SQL().ExecContext(ctx, `UPDATE tickets SET site = 'AMB'`); err != nil {
		t.Fatal(err)
	}
	tc, err := f.db.CheckTicket(ctx, "ECT:KWS-1")
	if err != nil || tc.TicketReason() != pass.WrongSite {
		t.Fatalf("another site's ticket: %v, %+v; want wrong_site", err, tc)
	}
}

// TestBadTicketPageKeepsTheList: a page that is malformed, out of change
// order, above the page bound, or that would take the list above its
// bound is refused whole with a clear message; the list held and its
// cursor stay, and the next good page is taken.
func TestBadTicketPageKeepsTheList(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	mustApply(t, f.db, prepaid("KWS-1", 1), prepaid("KWS-2", 2))
	bad := func(mod func(*ticket.Change)) []ticket.Change {
		c := prepaid("KWS-3", 3)
		mod(&c)
		return []ticket.Change{prepaid("KWS-4", 4), c}
	}
	big := make([]ticket.Change, sqlite.MaxTicketPage+1)
	for i := range big {
		big[i] = prepaid(fmt.Sprintf("KWS-B%d", i), int64(10+i))
	}
	for name, c := range map[string]struct {
		page []ticket.Change
		want string
	}{
		"bad number":   {bad(func(c *ticket.Change) { c.No = "KWS 3; DROP" }), "ticket number"},
		"bad status":   {bad(func(c *ticket.Change) { c.Status = "maybe" }), "status"},
		"no party":     {bad(func(c *ticket.Change) { c.Party = nil }), "party groups"},
		"huge group":   {bad(func(c *ticket.Change) { c.Party[0].Count = 1_000_000 }), "party group"},
		"backwards":    {bad(func(c *ticket.Change) { c.ValidTo = c.ValidFrom.Add(-time.Hour) }), "not a period"},
		"long plate":   {bad(func(c *ticket.Change) { c.Vehicle.Plate = strings.Repeat("K", 40) }), "plate"},
		"old change":   {bad(func(c *ticket.Change) { c.N = 1 }), "not after"},
		"page too big": {big, "a page may carry"},
	} {
		err := f.db.ApplyTickets(ctx, hubA, c.page)
		if terminal.ErrorKind(err) != terminal.EINVALID || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "the list held stays in use") {
			t.Errorf("%s: %v; want EINVALID saying %q", name, err, c.want)
		}
		l, err := f.db.Tickets(ctx)
		if err != nil || l.Held != 2 || l.Cursor != 2 || l.Error == "" {
			t.Errorf("%s: list %+v, %v; want the 2 held, cursor 2, the error kept", name, l, err)
		}
		if tc, _ := f.db.CheckTicket(ctx, "ECT:KWS-2"); tc.Refusal != nil {
			t.Errorf("%s: a held ticket is refused after a bad page: %v", name, tc.Refusal)
		}
		if tc, _ := f.db.CheckTicket(ctx, "ECT:KWS-4"); tc.TicketReason() != pass.UnknownIssuer {
			t.Errorf("%s: a ticket of the refused page was stored", name)
		}
	}
	mustApply(t, f.db, prepaid("KWS-4", 4))
	if l, _ := f.db.Tickets(ctx); l.Held != 3 || l.Cursor != 4 || l.Error != "" {
		t.Fatalf("after a good page: %+v; want 3 held, cursor 4, no error", l)
	}
	// Another hub (the relay after the centre) numbers its own way: its
	// cursor starts at 0 and its page replaces ticket by ticket.
	if n, _ := f.db.TicketCursor(ctx, "hub-b"); n != 0 {
		t.Fatalf("cursor for another hub = %d; want 0", n)
	}
	c := prepaid("KWS-1", 1)
	c.Status = "cancelled"
	if err := f.db.ApplyTickets(ctx, "hub-b", []ticket.Change{c}); err != nil {
		t.Fatal(err)
	}
	if tc, _ := f.db.CheckTicket(ctx, "ECT:KWS-1"); tc.TicketReason() != pass.Revoked {
		t.Fatalf("a cancellation from the other hub: %+v; want revoked", tc)
	}
}

// TestTicketListBound: the list never holds more than its bound
// (MaxTickets; lowered here to keep the test quick under -race); a page
// that would take it above is refused whole.
func TestTicketListBound(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	const bound = 2000
	f.db.TicketLimit = bound
	// Fill to the bound directly (a page at a time would take minutes).
	tx, err := f.db.SQL().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < ?)
		INSERT INTO tickets (no, site, day, valid_from, valid_to, party, vehicle, status, n)
		SELECT 'FILL-' || i, 'NNP', '2024-01-03', '2024-01-03T03:00:00.000000000Z', '2024-01-03T15:00:00.000000000Z', '[{"category":"citizen","age_band":"adult","count":1}]', NULL, 'valid', i FROM n`, bound-1); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	err = f.db.ApplyTickets(ctx, hubA, []ticket.Change{prepaid("KWS-1", 1), prepaid("KWS-2", 2)})
	if terminal.ErrorKind(err) != terminal.EINVALID || !strings.Contains(err.Error(), "above the") {
		t.Fatalf("a page over the bound: %v; want EINVALID", err)
	}
	if l, _ := f.db.Tickets(ctx); l.Held != bound-1 {
		t.Fatalf("held %d after the refused page; want %d", l.Held, bound-1)
	}
	// A change of a ticket held does not grow the list: taken.
	mustApply(t, f.db, prepaid("FILL-7", 1), prepaid("KWS-1", 2))
	if l, _ := f.db.Tickets(ctx); l.Held != bound {
		t.Fatalf("held %d; want %d", l.Held, bound)
	}
}

// TestUseTicketOnce: a ticket is let in once here, with its
// ticket.redeemed event in the same transaction; a second scan is refused
// as already used, naming the gate; a ticket another lane let in (the
// feed) is refused too.
func TestUseTicketOnce(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	mustApply(t, f.db, prepaid("KWS-1", 1), prepaid("KWS-2", 2))
	before, _ := f.db.Events(ctx, 0, 1<<20)
	tc, err := f.db.UseTicket(ctx, f.admin, "ECT:KWS-1", ticket.UseRequest{})
	if err != nil || tc.Refusal != nil {
		t.Fatalf("first use: %v, %+v", err, tc)
	}
	evs, _ := f.db.Events(ctx, 0, 1<<20)
	if len(evs) != len(before)+1 || evs[len(evs)-1].Type != terminal.EventTicketRedeemed {
		t.Fatalf("events after the use: %d (last %s); want one ticket.redeemed more", len(evs)-len(before), evs[len(evs)-1].Type)
	}
	p, err := terminal.DecodePayload(terminal.EventTicketRedeemed, evs[len(evs)-1].Payload)
	if err != nil || p.(*terminal.TicketRedeemed).TicketNo != "KWS-1" || p.(*terminal.TicketRedeemed).Site != "NNP" {
		t.Fatalf("payload %s: %v", evs[len(evs)-1].Payload, err)
	}
	tc, err = f.db.UseTicket(ctx, f.admin, "ECT:KWS-1", ticket.UseRequest{})
	if err != nil || tc.TicketReason() != pass.AlreadyUsed || !strings.Contains(tc.Refusal.Message, "gate-1") {
		t.Fatalf("second use: %v, %+v; want already_used at gate-1", err, tc)
	}
	if evs2, _ := f.db.Events(ctx, 0, 1<<20); len(evs2) != len(evs) {
		t.Fatal("a refused use wrote an event")
	}
	// Lane 2 let KWS-2 in; the feed says so.
	const peer = "0190a000-0000-7000-8000-0000000000bb"
	page := []terminal.FeedEvent{feedEvent(t, peer, "gate-2", 4, terminal.EventTicketRedeemed, map[string]any{"ticket_no": "KWS-2", "site": "NNP"})}
	if _, err := f.db.ApplyFeed(ctx, page, []terminal.FeedPeer{{TerminalID: peer, Name: "gate-2", Seq: 4}}); err != nil {
		t.Fatal(err)
	}
	tc, err = f.db.UseTicket(ctx, f.admin, "ECT:KWS-2", ticket.UseRequest{})
	if err != nil || tc.TicketReason() != pass.AlreadyUsed || !strings.Contains(tc.Refusal.Message, "gate-2") {
		t.Fatalf("a ticket let in at gate-2: %v, %+v; want already_used at gate-2", err, tc)
	}
}

// TestUseTicketSellsTheDifference: a party larger than the ticket pays
// for the rest in one transaction with the use; without tenders it is
// refused saying what is to pay, and nothing is stored.
func TestUseTicketSellsTheDifference(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	mustApply(t, f.db, prepaid("KWS-1", 1))
	party := []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 3}, {Code: "EAC-CHILD", Qty: 1}, {Code: "CAR", Qty: 1}}
	before, _ := f.db.Events(ctx, 0, 1<<20)
	_, err := f.db.UseTicket(ctx, f.admin, "ECT:KWS-1", ticket.UseRequest{Party: party})
	if terminal.ErrorKind(err) != terminal.EINVALID || !strings.Contains(err.Error(), "1 x EAC-ADULT, 1 x EAC-CHILD") {
		t.Fatalf("no tenders: %v; want EINVALID naming the difference", err)
	}
	if evs, _ := f.db.Events(ctx, 0, 1<<20); len(evs) != len(before) {
		t.Fatal("a refused use stored events")
	}
	// A tender the sale refuses (an M-PESA code that is not one): nothing
	// is let in.
	_, err = f.db.UseTicket(ctx, f.admin, "ECT:KWS-1", ticket.UseRequest{Party: party, Vehicle: "KDA 123A", Tenders: mustTender(t, "cash:USD=1")})
	if err == nil {
		t.Fatal("a tender short of the difference was taken")
	}
	if tc, _ := f.db.CheckTicket(ctx, "ECT:KWS-1"); tc.Refusal != nil {
		t.Fatalf("the ticket was used by a refused sale: %v", tc.Refusal)
	}
	tc, err := f.db.UseTicket(ctx, f.admin, "ECT:KWS-1", ticket.UseRequest{Party: party, Vehicle: "KDA 123A", Tenders: mustTender(t, "cash")})
	if err != nil || tc.Refusal != nil || tc.SaleID == "" {
		t.Fatalf("with cash: %v, %+v; want let in with a sale", err, tc)
	}
	s, err := f.db.Sale(ctx, tc.SaleID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, l := range s.Lines {
		got[l.Code] += l.Qty
	}
	if len(got) != 2 || got["EAC-ADULT"] != 1 || got["EAC-CHILD"] != 1 {
		t.Fatalf("the sale's lines %v; want 1 EAC-ADULT and 1 EAC-CHILD (the car is on the ticket)", got)
	}
	evs, _ := f.db.Events(ctx, 0, 1<<20)
	last := evs[len(evs)-1]
	if last.Type != terminal.EventTicketRedeemed || !strings.Contains(string(last.Payload), tc.SaleID) || evs[len(evs)-2].Type != terminal.EventSaleCreated {
		t.Fatalf("last events %s, %s %s; want the sale then the ticket with its sale id", evs[len(evs)-2].Type, last.Type, last.Payload)
	}
	// The whole party on the ticket and a tender: nothing to pay.
	mustApply(t, f.db, prepaid("KWS-2", 2))
	_, err = f.db.UseTicket(ctx, f.admin, "ECT:KWS-2", ticket.UseRequest{Party: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 2}}, Tenders: mustTender(t, "cash")})
	if terminal.ErrorKind(err) != terminal.EINVALID || !strings.Contains(err.Error(), "nothing to pay") {
		t.Fatalf("a whole party on the ticket, with a tender: %v; want EINVALID nothing to pay", err)
	}
}
