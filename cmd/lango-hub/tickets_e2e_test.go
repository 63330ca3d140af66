package main

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/platform/platformtest"
	"github.com/lango-pos/lango/terminal/pass"
	"github.com/lango-pos/lango/terminal/ticket"
)

// TestPrepaidTicketsOfflineThroughRelay is the Done-when of issue 16's
// prepaid tickets, with the centre and the site relay as real `lango-hub
// serve` processes on loopback and the stand-in platform beside them: the
// tickets come down while online (platform → centre → relay → lanes), the
// WAN is cut, a ticket is let in at lane 1, refused at lane 1 again, and
// refused at lane 2 after the feed through the relay; the WAN returns and
// the stand-in counts the redemption once, with no conflict.
func TestPrepaidTicketsOfflineThroughRelay(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	ctx := context.Background()
	zone := time.FixedZone("EAT", 3*3600)
	now := time.Now().In(zone)
	plat := platformtest.New("KWS", "s3cret", time.Now, 1, nil)
	for _, no := range []string{"KWS-2025-0000000001", "KWS-2025-0000000002", "KWS-2025-0000000003"} {
		plat.AddTicket(now.Format("2006-01-02"), platformtest.Ticket{TicketNo: no, Site: "NNP",
			ValidFrom: now.Add(-time.Hour).Format(time.RFC3339), ValidTo: now.Add(10 * time.Hour).Format(time.RFC3339),
			Party:   []platformtest.Party{{Category: "citizen", AgeBand: "adult", Count: 2}},
			Vehicle: &platformtest.Vehicle{Plate: "KDA123A", Band: "car"}, Status: "valid"})
	}
	ps := httptest.NewServer(plat.Handler())
	defer ps.Close()

	centreData, relayData := t.TempDir(), filepath.Join(t.TempDir(), "relay")
	centre := &hubProcess{t: t, data: centreData, listen: freeAddr(t), logLevel: "error",
		env: []string{"LANGO_HUB_PLATFORM_URL=" + ps.URL, "LANGO_HUB_PLATFORM_AGENCY=KWS", "LANGO_HUB_PLATFORM_SECRET=s3cret"}}
	centre.start()
	defer func() {
		if centre.cmd.ProcessState == nil {
			centre.kill()
		}
	}()
	wan := newLink(t, centre.listen)     // relay ↔ centre
	laneWAN := newLink(t, centre.listen) // lanes ↔ centre
	code, token, stderr := run(t, "relay", "add", "--data", centreData, "--site", "NNP", "--name", "hq")
	if code != 0 {
		t.Fatalf("relay add: %s", stderr)
	}
	relay := &proc{t: t, args: []string{"serve", "--data", relayData, "--upstream", wan.url(), "--token", strings.TrimSpace(token), "--interval", "100ms"}, listen: freeAddr(t)}
	relay.start()
	defer relay.kill()
	lane1 := newLane(t, ctx, "entry-1", centreData, relay.url(), laneWAN.url())
	lane2 := newLane(t, ctx, "entry-2", centreData, relay.url(), laneWAN.url())
	// The centre fetches the lists of the sites with a terminal when it
	// starts, then every 5 minutes: started again now that NNP has lanes.
	centre.stop()
	centre.start()

	deadline := time.Now().Add(60 * time.Second)
	for _, l := range []*lane{lane1, lane2} {
		for {
			l.sync()
			if got, err := l.db.Tickets(ctx); err == nil && got.Held == 3 {
				break
			}
			if time.Now().After(deadline) {
				got, _ := l.db.Tickets(ctx)
				t.Fatalf("%s holds %+v; want the 3 tickets of the day through the relay\ncentre: %s", l.name, got, centre.stderr)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// The WAN goes down; the park's own network stays up.
	wan.cut()
	laneWAN.cut()
	const code1 = "ECT:KWS-2025-0000000001"
	tc, err := lane1.db.UseTicket(ctx, lane1.admin, code1, ticket.UseRequest{})
	if err != nil || tc.Refusal != nil || tc.Ticket.Vehicle.Plate != "KDA123A" {
		t.Fatalf("lane 1 lets the ticket in offline: %v, %+v", err, tc)
	}
	if tc, err := lane1.db.UseTicket(ctx, lane1.admin, code1, ticket.UseRequest{}); err != nil || tc.TicketReason() != pass.AlreadyUsed {
		t.Fatalf("lane 1 again: %v, %+v; want already_used", err, tc)
	}
	lane1.mustSync()
	lane2.mustSync()
	tc, err = lane2.db.UseTicket(ctx, lane2.admin, code1, ticket.UseRequest{})
	if err != nil || tc.TicketReason() != pass.AlreadyUsed || !strings.Contains(tc.Refusal.Message, "entry-1") {
		t.Fatalf("lane 2 after the feed through the relay: %v, %+v; want already_used at entry-1", err, tc)
	}
	if tc, err := lane2.db.UseTicket(ctx, lane2.admin, "ECT:KWS-2025-0000000002", ticket.UseRequest{}); err != nil || tc.Refusal != nil {
		t.Fatalf("lane 2 lets another ticket in: %v, %+v", err, tc)
	}
	lane2.mustSync()

	// The WAN returns: the relay forwards, the centre redeems.
	wan.heal()
	laneWAN.heal()
	waitCentre(t, centreData, 60*time.Second, lane1, lane2)
	for plat.Redemptions() < 2 {
		if time.Now().After(deadline.Add(60 * time.Second)) {
			t.Fatalf("the stand-in holds %d redemptions; want 2\n%s", plat.Redemptions(), centre.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Give a duplicate every chance to arrive, then count.
	centre.stop()
	if n, c := plat.Redemptions(), plat.Counts(); n != 2 || c.Conflicts != 0 {
		t.Fatalf("the stand-in: %d redemptions, %d conflicts; want 2 and none", n, c.Conflicts)
	}
}
