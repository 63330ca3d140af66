package terminal

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// TourOperator is a tour operator the site lets owe for a deferred pass
// (pay at exit on account): its code as keyed, its name, its licence
// number and its KRA PIN, from the catalogue's tour_operators list.
type TourOperator struct {
	Code    string `json:"code"`
	Name    string `json:"name"`
	Licence string `json:"licence"`
	KRAPIN  string `json:"kra_pin"`
}

var (
	kraPINRE  = regexp.MustCompile(`^[A-Z][0-9]{9}[A-Z]$`)
	licenceRE = regexp.MustCompile(`^[A-Z0-9][A-Z0-9/-]{2,23}$`)
)

// CheckKRAPIN checks a KRA PIN's form: a letter, nine digits and a
// letter (P051234567X).
func CheckKRAPIN(s string) error {
	if !kraPINRE.MatchString(s) {
		return fmt.Errorf("KRA PIN %q is not a letter, 9 digits and a letter (e.g. P051234567X)", s)
	}
	return nil
}

// validateTourOperators checks the catalogue's tour operators: codes and
// licences unique (a driver may give either), KRA PINs well formed.
func (c *Catalogue) validateTourOperators() error {
	seen := map[string]string{}
	for _, o := range c.TourOperators {
		if !IsPassCode(o.Code) {
			return fmt.Errorf("tour operator code %q: use A–Z, 0–9, '-' or '_' (at most 24, starting with a letter or digit)", o.Code)
		}
		if n := strings.TrimSpace(o.Name); n == "" || len(n) > 60 || !printable(n) {
			return fmt.Errorf("tour operator %s: a name of at most 60 printable characters is required", o.Code)
		}
		if !licenceRE.MatchString(o.Licence) {
			return fmt.Errorf("tour operator %s: licence %q: 3–24 capital letters, digits, '/' or '-'", o.Code, o.Licence)
		}
		if err := CheckKRAPIN(o.KRAPIN); err != nil {
			return fmt.Errorf("tour operator %s: %v", o.Code, err)
		}
		for _, k := range []string{o.Code, o.Licence} {
			if prev, ok := seen[k]; ok {
				return fmt.Errorf("tour operator %s: %q is already the code or licence of %s", o.Code, k, prev)
			}
			seen[k] = o.Code
		}
	}
	return nil
}

// TourOperator finds the tour operator a driver names by its code or its
// licence number (either case, spaces ignored at the ends).
func (c *Catalogue) TourOperator(ref string) (*TourOperator, error) {
	r := strings.ToUpper(strings.TrimSpace(ref))
	for i := range c.TourOperators {
		if o := &c.TourOperators[i]; o.Code == r || o.Licence == r {
			return o, nil
		}
	}
	if len(c.TourOperators) == 0 {
		return nil, Errorf(EINVALID, "catalogue %s lists no tour operators: a deferred pass cannot be put on an account", c.Version).WithID("tour_operators_none", nil)
	}
	return nil, Errorf(EINVALID, "no tour operator has the code or licence %q: check the licence on the driver's papers", ref).
		WithID("tour_operator_unknown", map[string]any{"Ref": ref})
}

// NormalizePhone normalises a Kenyan mobile number to +2547XXXXXXXX or
// +2541XXXXXXXX. It takes what a driver says or a clerk keys: 0712 345678,
// 712345678, 254712345678, +254 712-345-678. Empty stays empty.
func NormalizePhone(s string) (string, error) {
	d := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '(', ')', '.':
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if d == "" {
		return "", nil
	}
	switch {
	case strings.HasPrefix(d, "+254"):
		d = d[4:]
	case strings.HasPrefix(d, "254") && len(d) == 12:
		d = d[3:]
	case strings.HasPrefix(d, "0") && len(d) == 10:
		d = d[1:]
	}
	ok := len(d) == 9 && (d[0] == '7' || d[0] == '1')
	for _, r := range d {
		if r < '0' || r > '9' {
			ok = false
		}
	}
	if !ok {
		return "", Errorf(EINVALID, "phone %q is not a Kenyan mobile number: key it as 07XXXXXXXX, 01XXXXXXXX or +2547XXXXXXXX", s).
			WithID("phone_invalid", map[string]any{"Phone": s})
	}
	return "+254" + d, nil
}

// Owed is who owes a deferred pass: the tour operator (as the catalogue
// listed it when the pass was sold, so the hub needs no catalogue to
// chase it) and the driver's phone. Either may be missing; a sale with
// neither has no Owed.
type Owed struct {
	Operator string `json:"operator,omitempty"` // the tour operator's code
	Name     string `json:"name,omitempty"`
	Licence  string `json:"licence,omitempty"`
	KRAPIN   string `json:"kra_pin,omitempty"`
	Phone    string `json:"phone,omitempty"` // +2547XXXXXXXX
}

// ResolveOwed turns a request's operator reference and phone into who
// owes, checked against the catalogue; nil when the request names
// neither. Only a deferred sale owes anything.
func ResolveOwed(cat *Catalogue, state SaleState, operatorRef, phone string) (*Owed, error) {
	if strings.TrimSpace(operatorRef) == "" && strings.TrimSpace(phone) == "" {
		return nil, nil
	}
	if state != SaleDeferred {
		return nil, Errorf(EINVALID, "only a deferred sale (--pay defer) records who owes: this one is paid now").WithID("owed_not_deferred", nil)
	}
	var o Owed
	var err error
	if o.Phone, err = NormalizePhone(phone); err != nil {
		return nil, err
	}
	if strings.TrimSpace(operatorRef) != "" {
		to, err := cat.TourOperator(operatorRef)
		if err != nil {
			return nil, err
		}
		o.Operator, o.Name, o.Licence, o.KRAPIN = to.Code, to.Name, to.Licence, to.KRAPIN
	}
	return &o, nil
}

// UnsettledPass is a deferred pass still owed: who owes it, for which
// vehicle, how much, and since when (Age at the time of asking). The
// terminal's `lango unsettled` and the hub's report list the same fields.
type UnsettledPass struct {
	Site         string    `json:"site"`
	Terminal     string    `json:"terminal"`
	SaleID       string    `json:"sale_id"`
	PassID       string    `json:"pass_id"`
	Number       int64     `json:"number"`
	ShiftID      string    `json:"shift_id,omitempty"`
	Vehicle      string    `json:"vehicle,omitempty"`
	Operator     string    `json:"operator,omitempty"` // tour operator code
	OperatorName string    `json:"operator_name,omitempty"`
	Licence      string    `json:"licence,omitempty"`
	KRAPIN       string    `json:"kra_pin,omitempty"`
	Phone        string    `json:"phone,omitempty"`
	Due          Totals    `json:"due"`
	At           time.Time `json:"at"`
	AgeSeconds   int64     `json:"age_seconds"`
}

// UnsettledOf is the unsettled pass of deferred sale s at now.
func UnsettledOf(s *Sale, site, terminal string, now time.Time) UnsettledPass {
	u := UnsettledPass{Site: site, Terminal: terminal, SaleID: s.ID, PassID: s.ID, Number: s.Number, ShiftID: s.ShiftID,
		Vehicle: s.Vehicle, Due: s.Due, At: s.At, AgeSeconds: max(0, int64(now.Sub(s.At)/time.Second))}
	if u.Due == nil {
		u.Due = Totals{}
	}
	if o := s.Owed; o != nil {
		u.Operator, u.OperatorName, u.Licence, u.KRAPIN, u.Phone = o.Operator, o.Name, o.Licence, o.KRAPIN, o.Phone
	}
	return u
}

// OpenPassNaming is a supervisor's leave to close a shift with deferred
// passes still owed: the supervisor (signed in) and the passes named, by
// sale id or receipt number.
type OpenPassNaming struct {
	Supervisor *Operator
	Passes     []string
}

// CheckOpenPassesNamed refuses to close a shift with deferred passes
// still open unless a supervisor names every one of them, and nothing
// else. It returns the passes to put in the Z-report and who named them.
func CheckOpenPassesNamed(open []UnsettledPass, n OpenPassNaming) ([]UnsettledPass, string, error) {
	// names lists the passes for a person; list adds the command line's
	// way to name them.
	names := func(us []UnsettledPass) string {
		var parts []string
		for _, u := range us {
			p := fmt.Sprintf("%d", u.Number)
			if u.Vehicle != "" {
				p += " " + u.Vehicle
			}
			if u.OperatorName != "" {
				p += ", " + u.OperatorName
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, "; ")
	}
	list := func(us []UnsettledPass) string {
		var nums []string
		for _, u := range us {
			nums = append(nums, fmt.Sprintf("%d", u.Number))
		}
		return names(us) + " (--open-passes " + strings.Join(nums, ",") + ")"
	}
	if n.Supervisor != nil && (n.Supervisor.Role != RoleSupervisor || !n.Supervisor.DisabledAt.IsZero()) {
		return nil, "", Errorf(EUNAUTHORIZED, "%s is not a supervisor: only a supervisor lets a shift close with passes still owed", n.Supervisor.Name)
	}
	byKey := map[string]int{}
	for i, u := range open {
		byKey[u.SaleID] = i
		byKey[fmt.Sprintf("%d", u.Number)] = i
	}
	named := map[int]bool{}
	for _, p := range n.Passes {
		k := strings.ToLower(strings.TrimSpace(p))
		if k == "" {
			continue
		}
		i, ok := byKey[k]
		if !ok {
			return nil, "", Errorf(EINVALID, "%q is not a deferred pass of this shift still owed", p).WithID("open_pass_unknown", map[string]any{"Pass": p})
		}
		named[i] = true
	}
	if len(named) > 0 && n.Supervisor == nil {
		return nil, "", Errorf(EINVALID, "open passes are named by a supervisor: give --supervisor NAME too")
	}
	if len(open) == 0 {
		return nil, "", nil
	}
	if n.Supervisor == nil {
		return nil, "", Errorf(ECONFLICT, "%d deferred passes of this shift are still owed: %s; a supervisor closes the shift naming each of them", len(open), list(open)).
			WithID("shift_open_passes", map[string]any{"N": len(open), "Passes": names(open)})
	}
	var missing []UnsettledPass
	for i, u := range open {
		if !named[i] {
			missing = append(missing, u)
		}
	}
	if len(missing) > 0 {
		return nil, "", Errorf(ECONFLICT, "the supervisor must name every pass still owed: not named %s", list(missing)).
			WithID("shift_open_passes_unnamed", map[string]any{"Passes": names(missing)})
	}
	return open, n.Supervisor.Name, nil
}
