package platform_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/platform"
	"github.com/lango-pos/lango/sync/platform/platformtest"
)

func ticket(no, site string) platformtest.Ticket {
	return platformtest.Ticket{TicketNo: no, Site: site, ValidFrom: "2025-01-03T06:00:00+03:00", ValidTo: "2025-01-03T18:00:00+03:00",
		Party: []platformtest.Party{{Category: "citizen", AgeBand: "adult", Count: 2}}, Vehicle: &platformtest.Vehicle{Plate: "KDA123A", Band: "car"}, Status: "valid"}
}

// TestTicketList: pages after a cursor bring the changes only, a
// cancellation included; another site's and day's tickets stay out.
func TestTicketList(t *testing.T) {
	ctx := context.Background()
	s, hs := standIn(t)
	c := client(t, hs.URL, "KWS", "s3cret", t0, 5*time.Second)
	for i := range 1500 {
		s.AddTicket("2025-01-03", ticket(fmt.Sprintf("KWS-2025-%010d", i), "NNP"))
	}
	s.AddTicket("2025-01-03", ticket("KWS-OTHER-SITE", "TSV"))
	s.AddTicket("2025-01-04", ticket("KWS-TOMORROW", "NNP"))
	p1, err := c.Tickets(ctx, "NNP", "2025-01-03", "")
	if err != nil || len(p1.Tickets) != 1000 {
		t.Fatalf("first page: %d tickets, %v; want 1000", len(p1.Tickets), err)
	}
	p2, err := c.Tickets(ctx, "NNP", "2025-01-03", p1.Next)
	if err != nil || len(p2.Tickets) != 500 {
		t.Fatalf("second page: %d tickets, %v; want 500", len(p2.Tickets), err)
	}
	s.CancelTicket("KWS-2025-0000000007")
	p3, err := c.Tickets(ctx, "NNP", "2025-01-03", p2.Next)
	if err != nil || len(p3.Tickets) != 1 || p3.Tickets[0].Status != "cancelled" {
		t.Fatalf("after a cancellation: %+v, %v; want the cancelled ticket alone", p3.Tickets, err)
	}
}

// TestRedemptions: first time 201, the same gate and time 200, another
// gate 409 already_redeemed (permanent).
func TestRedemptions(t *testing.T) {
	ctx := context.Background()
	s, hs := standIn(t)
	c := client(t, hs.URL, "KWS", "s3cret", t0, 5*time.Second)
	s.AddTicket("2025-01-03", ticket("KWS-1", "NNP"))
	r := platform.Redemption{Site: "NNP", Gate: "main-gate-1", RedeemedAt: t0.Format(time.RFC3339)}
	if a, err := c.Redeem(ctx, "KWS-1", r); err != nil || !a.Created {
		t.Fatalf("first: %+v %v", a, err)
	}
	if a, err := c.Redeem(ctx, "KWS-1", r); err != nil || a.Created {
		t.Fatalf("again: %+v %v; want 200", a, err)
	}
	r.Gate = "main-gate-2"
	if _, err := c.Redeem(ctx, "KWS-1", r); status(err) != http.StatusConflict || !platform.Permanent(err) {
		t.Fatalf("at another gate: %v; want a permanent 409", err)
	}
	if s.Redemptions() != 1 {
		t.Fatalf("%d redemptions; want 1", s.Redemptions())
	}
}

// TestBadTicketLists: a list that is malformed, names another site, has a
// wrong ticket, too many tickets in a page, or too many bytes is refused
// whole with a clear message.
func TestBadTicketLists(t *testing.T) {
	ctx := context.Background()
	one := `{"ticket_no":"KWS-1","site":"NNP","valid_from":"2025-01-03T06:00:00+03:00","valid_to":"2025-01-03T18:00:00+03:00","party":[{"category":"citizen","age_band":"adult","count":2}],"vehicle":null,"status":"valid"}`
	many := func(n int) string {
		return `{"tickets":[` + strings.TrimSuffix(strings.Repeat(one+",", n), ",") + `],"next":"1"}`
	}
	for _, c := range []struct{ name, body, want string }{
		{"malformed", `{"tickets":[{"ticket_no":`, "not JSON"},
		{"wrong site", strings.ReplaceAll(many(1), `"NNP"`, `"TSV"`), "for site \"TSV\""},
		{"bad status", strings.ReplaceAll(many(1), `"valid"}`, `"maybe"}`), "status"},
		{"times out of order", strings.ReplaceAll(many(1), `18:00`, `05:00`), "in order"},
		{"a party of a million", strings.ReplaceAll(many(1), `"count":2`, `"count":1000000`), "party group"},
		{"too many in a page", many(5001), "at most 5000"},
		{"a million entries", many(1000000), "larger than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, c.body)
			}))
			defer hs.Close()
			_, err := client(t, hs.URL, "KWS", "s3cret", t0, 20*time.Second).Tickets(ctx, "NNP", "2025-01-03", "")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v; want an error saying %q", err, c.want)
			}
		})
	}
}
