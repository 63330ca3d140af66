package hub_test

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/hub/forward"
	"github.com/lango-pos/lango/sync/platform"
	"github.com/lango-pos/lango/sync/platform/platformtest"
	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
)

// lane is a gate enrolled at the hub's store whose events the test writes
// (a gate of the terminal side is in lanetickets_test.go).
type lane struct {
	t    *testing.T
	h    *hubEnv
	term hub.Terminal
	seq  int64
	prev string
}

func newLane(t *testing.T, h *hubEnv, name string) *lane {
	t.Helper()
	ctx := context.Background()
	tok := uuid.NewString()
	if err := h.Store().AddEnrollment(ctx, hub.Enrollment{TokenHash: tok, Site: "NNP", Name: name, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	term, err := h.Store().RedeemEnrollment(ctx, tok, hub.Terminal{ID: uuid.Must(uuid.NewV7()).String(), Site: "NNP", Name: name, PublicKey: pub, Certificate: "cert"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return &lane{t: t, h: h, term: term}
}

// redeem uploads a ticket.redeemed event through the hub's checks.
func (l *lane) redeem(no string, at time.Time) {
	l.t.Helper()
	l.seq++
	e := terminal.Event{Seq: l.seq, ID: uuid.Must(uuid.NewV7()).String(), Terminal: l.term.ID, Type: hub.EventTicketRedeemed, At: at, Actor: "wanjiru",
		Payload: []byte(fmt.Sprintf(`{"ticket_no":%q,"site":"NNP"}`, no)), PrevHash: l.prev}
	e.Hash = e.ComputeHash()
	l.prev = e.Hash
	if _, err := l.h.Hub().Upload(context.Background(), l.term, []terminal.Event{e}); err != nil {
		l.t.Fatal(err)
	}
}

func standInTicket(no string, day time.Time) platformtest.Ticket {
	return platformtest.Ticket{TicketNo: no, Site: "NNP", ValidFrom: day.Format(time.RFC3339), ValidTo: day.Add(12 * time.Hour).Format(time.RFC3339),
		Party: []platformtest.Party{{Category: "citizen", AgeBand: "adult", Count: 2}}, Vehicle: &platformtest.Vehicle{Plate: "KDA123A", Band: "car"}, Status: "valid"}
}

// TestTicketsDownAndRedemptionsUp: the hub brings down today's and
// tomorrow's tickets of its sites (a cancellation as a change); the same
// ticket let in at two lanes while offline reaches the platform once, the
// second is refused with the platform's message and the report shows the
// conflict.
func TestTicketsDownAndRedemptionsUp(t *testing.T) {
	ctx := context.Background()
	h := newHub(t, &clock{})
	lane1, lane2 := newLane(t, h, "lane-1"), newLane(t, h, "lane-2")
	p := newPlatform(t)
	zone := time.FixedZone("EAT", 3*3600)
	now := time.Date(2025, 1, 3, 5, 30, 0, 0, zone)
	today, tomorrow := time.Date(2025, 1, 3, 6, 0, 0, 0, zone), time.Date(2025, 1, 4, 6, 0, 0, 0, zone)
	for i := range 1200 {
		p.s.AddTicket("2025-01-03", standInTicket(fmt.Sprintf("KWS-2025-%010d", i), today))
	}
	p.s.AddTicket("2025-01-04", standInTicket("KWS-2025-TOMORROW", tomorrow))
	p.s.AddTicket("2025-01-05", standInTicket("KWS-2025-LATER", tomorrow.AddDate(0, 0, 1)))
	c := p.client(t, 5*time.Second)
	// The hub's clock: a second a reading, so retries come due.
	var ticks atomic.Int64
	clock := func() time.Time { return now.Add(time.Duration(ticks.Add(1)) * time.Second) }
	f := forward.New(forward.Config{Store: h.Store(), Platform: c, Tickets: c, Owner: "hub", Logger: quietLogger(), Zone: zone,
		Now: clock, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond})
	if err := f.FetchTickets(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := h.Store().Tickets(ctx, "NNP", 0, 5000)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1201 {
		t.Fatalf("%d tickets at the hub; want today's 1200 and tomorrow's 1", len(got))
	}
	last := got[len(got)-1].N
	p.s.CancelTicket("KWS-2025-0000000003")
	if err := f.FetchTickets(ctx); err != nil {
		t.Fatal(err)
	}
	changed, err := h.Store().Tickets(ctx, "NNP", last, 5000)
	if err != nil || len(changed) != 1 || changed[0].Status != "cancelled" || changed[0].No != "KWS-2025-0000000003" {
		t.Fatalf("changes after %d: %+v %v; want the cancellation alone", last, changed, err)
	}

	// The lanes get them through the feed, when they ask: a cancelled
	// ticket comes again with its new status, after the rest.
	var after int64
	feed, err := h.Hub().Feed(ctx, lane1.term, wire.FeedRequest{TicketsAfter: &after})
	if err != nil || len(feed.Tickets) != 1201 || feed.Tickets[len(feed.Tickets)-1].Status != "cancelled" || feed.Tickets[0].Site != "NNP" {
		t.Fatalf("feed: %d tickets, %v; want 1201, the cancelled one last", len(feed.Tickets), err)
	}
	after = feed.Tickets[len(feed.Tickets)-1].N
	if feed, err = h.Hub().Feed(ctx, lane1.term, wire.FeedRequest{TicketsAfter: &after}); err != nil || len(feed.Tickets) != 0 {
		t.Fatalf("feed after the last: %d tickets, %v; want none", len(feed.Tickets), err)
	}
	if feed, err = h.Hub().Feed(ctx, lane1.term, wire.FeedRequest{}); err != nil || feed.Tickets != nil {
		t.Fatalf("feed without tickets_after: %d tickets, %v; want none (a terminal that does not ask)", len(feed.Tickets), err)
	}

	// Offline, both lanes let the same ticket in.
	lane1.redeem("KWS-2025-0000000001", today.Add(10*time.Minute))
	lane2.redeem("KWS-2025-0000000001", today.Add(25*time.Minute))
	lane2.redeem("KWS-2025-0000000002", today.Add(26*time.Minute))
	p.s.SetFaults(platformtest.Faults{LoseRate: 0.5})
	for range 20 {
		if _, err := f.Once(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.s.Redemptions(); n != 2 {
		t.Fatalf("%d tickets redeemed at the platform; want 2", n)
	}
	r, err := h.Hub().Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Forwarded.Posted.Redemptions != 2 || len(r.Forwarded.Refused) != 1 {
		t.Fatalf("forwarded %+v; want 2 redemptions posted, 1 refused", r.Forwarded)
	}
	ref := r.Forwarded.Refused[0]
	if ref.Kind != hub.ForwardRedemption || ref.Error != "already_redeemed" || !strings.Contains(ref.Message, "lane-1") {
		t.Errorf("refused %+v; want lane-2's redemption, refused as redeemed at lane-1", ref)
	}
	var twice []hub.Conflict
	for _, c := range r.Conflicts {
		if c.Kind == "ticket_redeemed_twice" {
			twice = append(twice, c)
		}
	}
	if len(twice) != 1 || twice[0].Code != "KWS-2025-0000000001" || len(twice[0].Uses) != 2 || twice[0].Uses[0].Terminal != "lane-1" {
		t.Fatalf("conflicts %+v; want ticket_redeemed_twice of KWS-2025-0000000001 at lane-1 then lane-2", twice)
	}
	if len(r.Forwarded.Tickets) != 2 || r.Forwarded.Tickets[0].Tickets != 1200 || r.Forwarded.Tickets[1].Tickets != 1 {
		t.Errorf("ticket lists %+v; want today's 1200 and tomorrow's 1", r.Forwarded.Tickets)
	}
}

// TestBadTicketListKeepsThePrevious: after a good list, the platform
// answers malformed, another site's, and a million tickets: each is
// refused with a clear message in the report, nothing of it is stored, and
// the list held stays in use.
func TestBadTicketListKeepsThePrevious(t *testing.T) {
	ctx := context.Background()
	h := newHub(t, &clock{})
	newLane(t, h, "lane-1")
	zone := time.FixedZone("EAT", 3*3600)
	now := time.Date(2025, 1, 3, 5, 30, 0, 0, zone)
	one := `{"ticket_no":"KWS-%d","site":"%s","valid_from":"2025-01-03T06:00:00+03:00","valid_to":"2025-01-03T18:00:00+03:00","party":[{"category":"citizen","age_band":"adult","count":2}],"vehicle":null,"status":"valid"}`
	// A list is written as it is sent: a million entries are never held.
	list := func(site string, from, n int) func(io.Writer) {
		return func(w io.Writer) {
			bw := bufio.NewWriter(w)
			bw.WriteString(`{"tickets":[`)
			for i := range n {
				if i > 0 {
					bw.WriteByte(',')
				}
				if _, err := fmt.Fprintf(bw, one, from+i, site); err != nil {
					return // the hub hung up
				}
			}
			fmt.Fprintf(bw, `],"next":"%d"}`, from+n)
			bw.Flush()
		}
	}
	text := func(s string) func(io.Writer) { return func(w io.Writer) { io.WriteString(w, s) } }
	var mu sync.Mutex
	body := list("NNP", 0, 3)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("date") != "2025-01-03" {
			fmt.Fprint(w, `{"tickets":[],"next":""}`)
			return
		}
		mu.Lock()
		b := body
		mu.Unlock()
		b(w)
	}))
	defer srv.Close()
	c, err := platform.NewClient(platform.Config{BaseURL: srv.URL, Agency: "KWS", Secret: "s3cret", HTTP: &http.Client{Timeout: 30 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	f := forward.New(forward.Config{Store: h.Store(), Platform: c, Tickets: c, Owner: "hub", Logger: quietLogger(), Zone: zone,
		Now: func() time.Time { return now }, MaxTickets: 4})
	if err := f.FetchTickets(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		body func(io.Writer)
		want string
	}{
		{"malformed", text(`{"tickets":[{"ticket_no":`), "malformed"},
		{"another site's", list("TSV", 10, 2), `for site "TSV"`},
		{"a million entries", list("NNP", 10, 1000000), "larger than"},
		{"above the hub's bound", list("NNP", 10, 2), "at most 4"},
	} {
		mu.Lock()
		body = c.body
		mu.Unlock()
		if err := f.FetchTickets(ctx); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, err := h.Store().Tickets(ctx, "NNP", 0, 100)
		if err != nil || len(got) != 3 || got[0].No != "KWS-0" {
			t.Fatalf("%s: the hub holds %d tickets, %v; want the 3 of the good list", c.name, len(got), err)
		}
		r, err := h.Hub().Report(ctx)
		if err != nil {
			t.Fatal(err)
		}
		l := r.Forwarded.Tickets[0]
		if l.Tickets != 3 || !strings.Contains(l.Error, c.want) {
			t.Fatalf("%s: list %+v; want the 3 tickets held and an error saying %q", c.name, l, c.want)
		}
	}
}
