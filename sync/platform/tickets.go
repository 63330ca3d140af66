package platform

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"time"
)

// Ticket is a prepaid ticket of the platform (assumed interface).
type Ticket struct {
	TicketNo  string       `json:"ticket_no"`
	Site      string       `json:"site"`
	ValidFrom string       `json:"valid_from"`
	ValidTo   string       `json:"valid_to"`
	Party     []PartyGroup `json:"party"`
	Vehicle   *Vehicle     `json:"vehicle"`
	Status    string       `json:"status"` // valid, cancelled
}

// PartyGroup is one group of a ticket's party.
type PartyGroup struct {
	Category string `json:"category"`
	AgeBand  string `json:"age_band"`
	Count    int    `json:"count"`
}

// Vehicle is the vehicle a ticket admits.
type Vehicle struct {
	Plate string `json:"plate"`
	Band  string `json:"band"`
}

// TicketPage is a page of a site's tickets for a day.
type TicketPage struct {
	Tickets []Ticket `json:"tickets"`
	Next    string   `json:"next"`
}

// Redemption is a ticket let in at a gate.
type Redemption struct {
	Site       string `json:"site"`
	Gate       string `json:"gate"`
	RedeemedAt string `json:"redeemed_at"`
}

// Bounds of what the hub takes from the platform.
const (
	MaxTicketPage  = 5000 // tickets in one page
	maxPartyGroups = 50
	maxPartyCount  = 1000
)

var (
	ticketNoRE = regexp.MustCompile(`^[A-Za-z0-9-]{1,40}$`)
	shortRE    = regexp.MustCompile(`^[\pL\pN _./-]{1,40}$`)
)

// ValidTicketNo reports whether s is a ticket number as the hub takes it.
func ValidTicketNo(s string) bool { return ticketNoRE.MatchString(s) }

// Check validates a ticket of the list for site: the whole page is
// refused if one ticket is wrong.
func (t *Ticket) Check(site string) error {
	switch {
	case !ValidTicketNo(t.TicketNo):
		return fmt.Errorf("ticket_no %q is not 1–40 letters, digits or '-'", t.TicketNo)
	case t.Site != site:
		return fmt.Errorf("ticket %s is for site %q, not %s", t.TicketNo, t.Site, site)
	case t.Status != "valid" && t.Status != "cancelled":
		return fmt.Errorf("ticket %s: status %q is not valid or cancelled", t.TicketNo, t.Status)
	case len(t.Party) == 0 || len(t.Party) > maxPartyGroups:
		return fmt.Errorf("ticket %s: its party has %d groups; 1–%d", t.TicketNo, len(t.Party), maxPartyGroups)
	}
	from, err1 := time.Parse(time.RFC3339, t.ValidFrom)
	to, err2 := time.Parse(time.RFC3339, t.ValidTo)
	if err1 != nil || err2 != nil || !from.Before(to) {
		return fmt.Errorf("ticket %s: valid_from %q and valid_to %q are not RFC 3339 times in order", t.TicketNo, t.ValidFrom, t.ValidTo)
	}
	for _, p := range t.Party {
		if !shortRE.MatchString(p.Category) || (p.AgeBand != "" && !shortRE.MatchString(p.AgeBand)) || p.Count < 1 || p.Count > maxPartyCount {
			return fmt.Errorf("ticket %s: party group %q/%q of %d is not valid", t.TicketNo, p.Category, p.AgeBand, p.Count)
		}
	}
	if v := t.Vehicle; v != nil && (!shortRE.MatchString(v.Plate) || len(v.Plate) > 12 || (v.Band != "" && !shortRE.MatchString(v.Band))) {
		return fmt.Errorf("ticket %s: vehicle %q/%q is not valid", t.TicketNo, v.Plate, v.Band)
	}
	return nil
}

// Tickets returns the page of site's tickets for day (YYYY-MM-DD)
// changed after the cursor ("" from the start). A page that is too large
// or has one wrong ticket is refused whole, with the reason.
func (c *Client) Tickets(ctx context.Context, site, day, after string) (TicketPage, error) {
	q := url.Values{"site": {site}, "date": {day}}
	if after != "" {
		q.Set("after", after)
	}
	var p TicketPage
	status, err := c.do(ctx, http.MethodGet, "/api/v1/tickets?"+q.Encode(), nil, &p)
	var pe *Error
	switch {
	case err == nil:
	case errors.As(err, &pe) && (pe.Code == "too_large" || pe.Status >= 400 && pe.Status < 500 && pe.Status != http.StatusTooManyRequests &&
		pe.Status != http.StatusUnauthorized && pe.Status != http.StatusForbidden):
		return TicketPage{}, &RefusedList{Reason: err.Error()}
	case status == http.StatusOK:
		// An answer that is not the JSON of a page.
		return TicketPage{}, &RefusedList{Reason: fmt.Sprintf("the platform's list of tickets for %s on %s is malformed: %v", site, day, err)}
	default:
		return TicketPage{}, err
	}
	if len(p.Tickets) > MaxTicketPage {
		return TicketPage{}, &RefusedList{Reason: fmt.Sprintf("the platform's page of tickets for %s on %s has %d tickets; at most %d: refused", site, day, len(p.Tickets), MaxTicketPage)}
	}
	if len(p.Next) > 200 {
		return TicketPage{}, &RefusedList{Reason: "the platform's ticket cursor is longer than 200 bytes: refused"}
	}
	for i := range p.Tickets {
		if err := p.Tickets[i].Check(site); err != nil {
			return TicketPage{}, &RefusedList{Reason: fmt.Sprintf("the platform's list of tickets for %s on %s is refused: %v", site, day, err)}
		}
	}
	return p, nil
}

// Redeem records a ticket let in. The same gate and time again is not an
// error; a redemption elsewhere is a *Error with Status 409.
func (c *Client) Redeem(ctx context.Context, ticketNo string, r Redemption) (Answer, error) {
	if !ValidTicketNo(ticketNo) {
		return Answer{}, fmt.Errorf("ticket number %q is not valid", ticketNo)
	}
	return c.post(ctx, "/api/v1/tickets/"+ticketNo+"/redemptions", r)
}

// RefusedList is a ticket list the hub will not take: malformed, another
// site's, a wrong ticket, too large. Fetching it again will not help
// until the platform changes it; the list held stays in use.
type RefusedList struct{ Reason string }

func (e *RefusedList) Error() string { return e.Reason }
