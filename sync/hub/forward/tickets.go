package forward

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/platform"
)

// maxPagesPerList bounds one round's fetch of one list: at 5,000 tickets a
// page, a million tickets, far above the hub's bound.
const maxPagesPerList = 200

// FetchTickets brings down, for every site with an enrolled terminal, the
// changes of its ticket lists for today and tomorrow (in the sites' time
// zone) since the cursor the store holds. A list the hub refuses
// (malformed, another site's, a wrong ticket, above Config.MaxTickets) is
// recorded as refused with the reason, and the tickets held stay in use;
// the other lists go on. A platform that fails returns the error (the
// caller backs off).
func (f *Forwarder) FetchTickets(ctx context.Context) error {
	if f.cfg.Tickets == nil {
		return nil
	}
	ts, err := f.cfg.Store.Terminals(ctx)
	if err != nil {
		return fmt.Errorf("tickets: %w", err)
	}
	var sites []string
	for _, t := range ts {
		if !t.Revoked() && !slices.Contains(sites, t.Site) {
			sites = append(sites, t.Site)
		}
	}
	slices.Sort(sites)
	now := f.cfg.Now().In(f.cfg.Zone)
	days := []string{now.Format(time.DateOnly), now.AddDate(0, 0, 1).Format(time.DateOnly)}
	for _, site := range sites {
		for _, day := range days {
			if err := f.fetchList(ctx, site, day); err != nil {
				return err
			}
		}
	}
	return nil
}

func (f *Forwarder) fetchList(ctx context.Context, site, day string) error {
	st := f.cfg.Store
	l, _, err := st.TicketList(ctx, site, day)
	if err != nil {
		return fmt.Errorf("tickets: %w", err)
	}
	cursor := l.Cursor
	refuse := func(reason string) error {
		f.log.Warn("refused the platform's ticket list; the list held stays in use", "site", site, "day", day, "reason", reason)
		if err := st.RefuseTicketList(ctx, site, day, reason, f.cfg.Now()); err != nil {
			return fmt.Errorf("tickets: %w", err)
		}
		return nil
	}
	for range maxPagesPerList {
		p, err := f.cfg.Tickets.Tickets(ctx, site, day, cursor)
		var rl *platform.RefusedList
		if errors.As(err, &rl) {
			return refuse(rl.Reason)
		}
		if err != nil {
			return fmt.Errorf("tickets of %s for %s: %w", site, day, err)
		}
		page := make([]hub.Ticket, 0, len(p.Tickets))
		for _, t := range p.Tickets {
			from, _ := time.Parse(time.RFC3339, t.ValidFrom) // checked by the client
			to, _ := time.Parse(time.RFC3339, t.ValidTo)
			party, _ := json.Marshal(t.Party)
			vehicle, _ := json.Marshal(t.Vehicle)
			page = append(page, hub.Ticket{No: t.TicketNo, Site: site, Day: day, ValidFrom: from, ValidTo: to, Party: party, Vehicle: vehicle, Status: t.Status})
		}
		err = st.PutTickets(ctx, site, day, p.Next, page, f.cfg.MaxTickets, f.cfg.Now())
		if errors.Is(err, hub.ErrTooManyTickets) {
			return refuse(fmt.Sprintf("the platform's list of tickets for %s on %s is refused: %v", site, day, err))
		}
		if err != nil {
			return fmt.Errorf("tickets: %w", err)
		}
		if len(p.Tickets) == 0 || p.Next == cursor {
			return nil
		}
		cursor = p.Next
	}
	return refuse(fmt.Sprintf("the platform's list of tickets for %s on %s has more than %d pages", site, day, maxPagesPerList))
}
