package ticket

import (
	"fmt"
	"strings"
)

// Bounds of a ticket, as the hub checks them when it brings a list down
// (docs/PLATFORM.md): a terminal checks them again, since a list can come
// from a relay or a hub of another release.
const (
	MaxGroups     = 50
	MaxGroupCount = 1000
	MaxPlate      = 12
)

// Validate checks a ticket as served by a hub for site: a clear message
// naming the ticket when it is wrong.
func (t *Ticket) Validate(site string) error {
	if !noRE.MatchString(t.No) {
		return fmt.Errorf("ticket number %.50q is not 1 to 40 letters, digits and dashes", t.No)
	}
	if t.Site != site {
		return fmt.Errorf("ticket %s is for site %.30q, not %s", t.No, t.Site, site)
	}
	if t.Status != "valid" && t.Status != "cancelled" {
		return fmt.Errorf("ticket %s: status %.20q is neither valid nor cancelled", t.No, t.Status)
	}
	if t.ValidFrom.IsZero() || !t.ValidFrom.Before(t.ValidTo) {
		return fmt.Errorf("ticket %s: valid from %s to %s is not a period", t.No, t.ValidFrom, t.ValidTo)
	}
	if len(t.Party) == 0 || len(t.Party) > MaxGroups {
		return fmt.Errorf("ticket %s: %d party groups; want 1 to %d", t.No, len(t.Party), MaxGroups)
	}
	for _, g := range t.Party {
		if g.Count < 1 || g.Count > MaxGroupCount || g.Category == "" || len(g.Category) > 40 || len(g.AgeBand) > 40 {
			return fmt.Errorf("ticket %s: party group %.40q/%.40q of %d is not 1 to %d visitors of a category", t.No, g.Category, g.AgeBand, g.Count, MaxGroupCount)
		}
	}
	if v := t.Vehicle; v != nil && (v.Plate == "" || len(v.Plate) > MaxPlate || len(v.Band) > 40) {
		return fmt.Errorf("ticket %s: vehicle plate %.20q is not 1 to %d characters", t.No, v.Plate, MaxPlate)
	}
	return nil
}

// platformCategories maps the platform's visitor categories onto the
// catalogue's (assumed: the reference names none; docs/PLATFORM.md).
var platformCategories = map[string]string{
	"citizen": "EAC", "eac": "EAC", "eac-citizen": "EAC",
	"resident": "RES", "res": "RES",
	"african": "AFR", "afr": "AFR",
	"international": "INT", "non-resident": "INT", "int": "INT",
}

// ItemCode is the catalogue's code for a party group of the ticket
// (CATEGORY-BAND, e.g. EAC-ADULT), so that the party at the gate, given
// in catalogue codes as for a sale, can be compared with it.
func ItemCode(g Group) string {
	cat, ok := platformCategories[strings.ToLower(g.Category)]
	if !ok {
		cat = strings.ToUpper(g.Category)
	}
	if g.AgeBand == "" {
		return cat
	}
	return cat + "-" + strings.ToUpper(g.AgeBand)
}

// Covered is what the ticket covers in catalogue codes: its party
// (ItemCode) and its vehicle's band (e.g. CAR), each with its count.
func (t *Ticket) Covered() []Group {
	var out []Group
	for _, g := range t.Party {
		out = append(out, Group{Category: ItemCode(g), Count: g.Count})
	}
	if t.Vehicle != nil && t.Vehicle.Band != "" {
		out = append(out, Group{Category: strings.ToUpper(t.Vehicle.Band), Count: 1})
	}
	return out
}

// Change is a ticket as a hub's feed carries it: N is the hub's change
// number (a cancelled ticket comes again with a higher one), Day the
// visit's day.
type Change struct {
	Ticket
	N   int64
	Day string
}
