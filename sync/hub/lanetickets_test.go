package hub_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/terminal/pass"
	"github.com/lango-pos/lango/terminal/ticket"
)

// putTickets stores tickets at the hub as the forwarder does after a
// fetch from the platform.
func putTickets(t *testing.T, h *hubEnv, cursor string, ts ...hub.Ticket) {
	t.Helper()
	if err := h.Store().PutTickets(context.Background(), "NNP", "2024-01-03", cursor, ts, 200000, epoch); err != nil {
		t.Fatal(err)
	}
}

func hubTicket(no, status, party string) hub.Ticket {
	return hub.Ticket{No: no, Site: "NNP", Day: "2024-01-03", ValidFrom: epoch, ValidTo: epoch.Add(12 * time.Hour), Status: status,
		Party: []byte(party), Vehicle: []byte(`{"plate":"KDA123A","band":"car"}`)}
}

const twoAdults = `[{"category":"citizen","age_band":"adult","count":2}]`

// TestLanesKeepTheSiteTickets: the terminals take the site's tickets from
// the feed (pages of wire.MaxFeedTickets, from their cursor), a ticket let
// in at lane 1 is refused at lane 2 after the feed, a cancellation comes
// as a change, and a page the terminal cannot read is refused with the
// list held still in use and the other lanes' uses still coming.
func TestLanesKeepTheSiteTickets(t *testing.T) {
	ctx := context.Background()
	h := newHub(t, &clock{})
	lane1, lane2 := newTerm(t, h, "gate-1", 0), newTerm(t, h, "gate-2", 0)
	var many []hub.Ticket
	for i := range 2500 {
		many = append(many, hubTicket(fmt.Sprintf("KWS-%05d", i), "valid", twoAdults))
	}
	putTickets(t, h, "1", many...)
	for _, l := range []*termEnv{lane1, lane2} {
		if err := l.syncer.Once(ctx); err != nil {
			t.Fatalf("%s: %v", l.name, err)
		}
		if got, _ := l.db.Tickets(ctx); got.Held != 2500 || got.Error != "" {
			t.Fatalf("%s holds %+v; want the 2,500 tickets", l.name, got)
		}
	}
	tc, err := lane1.db.UseTicket(ctx, lane1.admin, "ECT:KWS-00042", ticket.UseRequest{})
	if err != nil || tc.Refusal != nil {
		t.Fatalf("lane 1 lets KWS-00042 in: %v, %+v", err, tc)
	}
	if err := lane1.syncer.Once(ctx); err != nil {
		t.Fatal(err)
	}
	if err := lane2.syncer.Once(ctx); err != nil {
		t.Fatal(err)
	}
	tc, err = lane2.db.UseTicket(ctx, lane2.admin, "ECT:KWS-00042", ticket.UseRequest{})
	if err != nil || tc.TicketReason() != pass.AlreadyUsed || !strings.Contains(tc.Refusal.Message, "gate-1") {
		t.Fatalf("lane 2 scans the ticket let in at lane 1: %v, %+v; want already_used at gate-1", err, tc)
	}
	// Cancelled at the platform: the change reaches the lanes.
	putTickets(t, h, "2", hubTicket("KWS-00007", "cancelled", twoAdults))
	if err := lane2.syncer.Once(ctx); err != nil {
		t.Fatal(err)
	}
	if tc, _ := lane2.db.CheckTicket(ctx, "ECT:KWS-00007"); tc.TicketReason() != pass.Revoked {
		t.Fatalf("a cancelled ticket: %+v; want revoked", tc)
	}
	// A ticket the terminal cannot read (a hub of another release, a
	// broken relay): refused whole, the list held stays, the feed's
	// events still come.
	putTickets(t, h, "3", hubTicket("KWS-90000", "valid", `[{"category":"citizen","age_band":"adult","count":2}]`),
		hubTicket("KWS-90001", "valid", `{"people":2}`))
	if tc, err := lane1.db.UseTicket(ctx, lane1.admin, "ECT:KWS-00043", ticket.UseRequest{}); err != nil || tc.Refusal != nil {
		t.Fatalf("lane 1 lets KWS-00043 in: %v, %+v", err, tc)
	}
	if err := lane1.syncer.Once(ctx); err != nil {
		t.Fatal(err)
	}
	if err := lane2.syncer.Once(ctx); err != nil {
		t.Fatalf("an exchange with a bad ticket page: %v; want the rest of the feed taken", err)
	}
	got, _ := lane2.db.Tickets(ctx)
	if got.Held != 2500 || !strings.Contains(got.Error, "KWS-90001") || !strings.Contains(got.Error, "the list held stays in use") {
		t.Fatalf("after a bad page: %+v; want 2,500 held and the reason naming KWS-90001", got)
	}
	if tc, _ := lane2.db.CheckTicket(ctx, "ECT:KWS-90000"); tc.TicketReason() != pass.UnknownIssuer {
		t.Fatalf("a ticket of the refused page was taken: %+v", tc)
	}
	if tc, _ := lane2.db.CheckTicket(ctx, "ECT:KWS-00043"); tc.TicketReason() != pass.AlreadyUsed {
		t.Fatalf("with a bad ticket page, lane 1's use did not come: %+v", tc)
	}
	if tc, _ := lane2.db.CheckTicket(ctx, "ECT:KWS-00001"); tc.Refusal != nil {
		t.Fatalf("a ticket held is refused after a bad page: %+v", tc)
	}
	// Fixed at the hub: the next page is taken.
	putTickets(t, h, "4", hubTicket("KWS-90001", "valid", twoAdults))
	if err := lane2.syncer.Once(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := lane2.db.Tickets(ctx); got.Held != 2502 || got.Error != "" {
		t.Fatalf("after a good page: %+v; want 2,502 and no error", got)
	}
}
