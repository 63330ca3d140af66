package relay

import (
	"context"
	"fmt"
	"strconv"

	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/wire"
)

// maxSiteTickets bounds a day's list the relay keeps, as the centre does.
const maxSiteTickets = 200000

// ticketCursor is the centre's change number of the last ticket the relay
// took from its feed. The relay's hub store numbers the tickets its own
// way (the terminals' cursors are in that numbering); the centre's is kept
// as the cursor of each day's list in that store, which the relay's hub
// does not otherwise use.
func (r *Relay) ticketCursor(ctx context.Context) (int64, error) {
	ls, err := r.local.TicketLists(ctx)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, l := range ls {
		if c, err := strconv.ParseInt(l.Cursor, 10, 64); err == nil && c > n {
			n = c
		}
	}
	return n, nil
}

// keepTickets stores the centre's tickets in the relay's hub store, so its
// feed serves them to the site's lanes while the WAN is down. The centre
// checked them when it brought them down from the platform; the lanes
// check them again.
func (r *Relay) keepTickets(ctx context.Context, site string, ts []wire.Ticket) error {
	if len(ts) == 0 {
		return nil
	}
	last := strconv.FormatInt(ts[len(ts)-1].N, 10)
	byDay := map[string][]hub.Ticket{}
	var days []string
	for _, t := range ts {
		if _, ok := byDay[t.Day]; !ok {
			days = append(days, t.Day)
		}
		byDay[t.Day] = append(byDay[t.Day], hub.Ticket{No: t.TicketNo, Site: t.Site, Day: t.Day, ValidFrom: t.ValidFrom, ValidTo: t.ValidTo,
			Party: t.Party, Vehicle: t.Vehicle, Status: t.Status})
	}
	for _, day := range days {
		if err := r.local.PutTickets(ctx, site, day, last, byDay[day], maxSiteTickets, r.opts.Now()); err != nil {
			return fmt.Errorf("keep the centre's tickets of %s: %w", day, err)
		}
	}
	return nil
}
