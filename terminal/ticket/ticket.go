// Package ticket checks prepaid tickets of the national platform at the
// gate, offline: the QR holds "ECT:" and the ticket number, and the
// terminal decides from the list the hub brought down (through the site
// feed) and the uses it knows of. Refusals carry the pass refusal reasons
// (terminal/pass), so the attendant reads the same words for a pass and a
// ticket. Pure: no I/O.
package ticket

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/lango-pos/lango/terminal/pass"
)

// Prefix starts the text of a ticket's QR.
const Prefix = "ECT:"

// Skew is how early before its validity a ticket is still let in (a gate
// clock a little fast, a visitor a little early).
const Skew = 15 * time.Minute

// Ticket is a prepaid ticket as the hub serves it.
type Ticket struct {
	No        string
	Site      string
	ValidFrom time.Time
	ValidTo   time.Time
	Party     []Group
	Vehicle   *Vehicle
	Status    string // valid, cancelled
}

// Group is part of a ticket's party: count visitors of one category and
// age band.
type Group struct {
	Category string `json:"category"`
	AgeBand  string `json:"age_band"`
	Count    int    `json:"count"`
}

// Vehicle is the vehicle a ticket admits.
type Vehicle struct {
	Plate string `json:"plate"`
	Band  string `json:"band"`
}

// Use is a ticket let in.
type Use struct {
	Gate string
	At   time.Time
}

// Refusal is why a ticket is not let in.
type Refusal struct {
	Reason  pass.Reason
	Message string // for the attendant
}

func (r *Refusal) Error() string { return r.Message }

func refuse(reason pass.Reason, format string, args ...any) *Refusal {
	return &Refusal{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

var noRE = regexp.MustCompile(`^[A-Za-z0-9-]{1,40}$`)

// IsCode reports whether a scanned text is a ticket's (not a pass's).
func IsCode(text string) bool { return strings.HasPrefix(strings.TrimSpace(text), Prefix) }

// ParseCode returns the ticket number of a scanned "ECT:…" text.
func ParseCode(text string) (string, error) {
	s := strings.TrimSpace(text)
	no, ok := strings.CutPrefix(s, Prefix)
	if !ok || !noRE.MatchString(no) {
		return "", refuse(pass.Malformed, "not a prepaid ticket: a ticket's code is ECT: and its number")
	}
	return strings.ToUpper(no), nil
}

// List is the tickets a terminal holds, by number.
type List struct {
	byNo map[string]*Ticket
}

// NewList indexes tickets; a later one of the same number replaces an
// earlier (a cancellation comes after the sale).
func NewList(tickets []Ticket) *List {
	l := &List{byNo: make(map[string]*Ticket, len(tickets))}
	for i := range tickets {
		l.Put(tickets[i])
	}
	return l
}

// Put adds or replaces a ticket.
func (l *List) Put(t Ticket) { l.byNo[strings.ToUpper(t.No)] = &t }

// Len is how many tickets the list holds.
func (l *List) Len() int { return len(l.byNo) }

// Check decides whether the ticket whose code was scanned is let in at
// site at now. used returns the use this terminal knows of (its own, and
// other lanes' through the feed). It returns the ticket (to show its party
// and vehicle) or a *Refusal.
func (l *List) Check(code, site string, now time.Time, used func(no string) (Use, bool)) (*Ticket, error) {
	no, err := ParseCode(code)
	if err != nil {
		return nil, err
	}
	t, ok := l.byNo[no]
	switch {
	case !ok:
		return nil, refuse(pass.UnknownIssuer, "ticket %s is not in the list this gate holds: bought after the last download, or not this platform's; check it at the office", no)
	case t.Site != site:
		return t, refuse(pass.WrongSite, "ticket %s is for %s, not %s", no, t.Site, site)
	case t.Status == "cancelled":
		return t, refuse(pass.Revoked, "ticket %s was cancelled", no)
	case now.Before(t.ValidFrom.Add(-Skew)):
		return t, refuse(pass.NotYetValid, "ticket %s is valid from %s", no, t.ValidFrom.Format("2006-01-02 15:04"))
	case !now.Before(t.ValidTo):
		return t, refuse(pass.Expired, "ticket %s expired at %s", no, t.ValidTo.Format("2006-01-02 15:04"))
	}
	if u, ok := used(no); ok {
		return t, refuse(pass.AlreadyUsed, "ticket %s was used at %s at %s", no, u.Gate, u.At.Format("15:04"))
	}
	return t, nil
}

// Extra is the part of the party at the gate that the ticket does not
// cover, by category and age band: what the attendant sells on top.
func Extra(t *Ticket, atGate []Group) []Group {
	covered := map[[2]string]int{}
	for _, g := range t.Party {
		covered[[2]string{g.Category, g.AgeBand}] += g.Count
	}
	var out []Group
	for _, g := range atGate {
		k := [2]string{g.Category, g.AgeBand}
		take := min(covered[k], g.Count)
		covered[k] -= take
		if n := g.Count - take; n > 0 {
			out = append(out, Group{Category: g.Category, AgeBand: g.AgeBand, Count: n})
		}
	}
	return out
}
