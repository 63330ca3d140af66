package pass

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Version1 is the only format version this package writes and reads.
const Version1 = 1

// Bounds of a v1 pass. A decoder refuses anything outside them as malformed;
// Issue refuses them as invalid.
const (
	MaxPartyLines   = 32                   // distinct (category, band) lines
	MaxCount        = 9999                 // people in one line
	MaxDue          = 8                    // currencies owed
	MaxMinor        = int64(1e13)          // one amount, as terminal.MaxMinor
	MaxValidity     = 400 * 24 * time.Hour // issued-at to valid-until
	maxCodeLen      = 24                   // catalogue codes, as the catalogue's codeRE
	maxTerminalLen  = 32                   // terminal names
	maxPlateLen     = 12                   // vehicle plates, spaces removed
	maxCatalogueLen = 40                   // catalogue versions, as the catalogue
	maxValidityMin  = uint64(MaxValidity / time.Minute)
)

// ErrInvalid wraps every error Issue and Certify return for bad input: the
// caller maps it to its "invalid input" kind.
var ErrInvalid = errors.New("invalid pass")

// Pass is the content of a gate pass. Issue fills Version, Site, Terminal
// and KeyID from the issuer's certificate and IssuedAt from ID; Verify
// returns every field.
type Pass struct {
	Version int       `json:"version"`
	ID      uuid.UUID `json:"id"` // UUID v7; its timestamp is IssuedAt
	Site    string    `json:"site"`
	// Terminal is the issuing terminal's name from its certificate; empty
	// when a compact pass (no embedded certificate) is only parsed.
	Terminal string `json:"terminal,omitempty"`
	// KeyID names the issuing terminal's key (see KeyIDOf).
	KeyID KeyID `json:"key_id"`
	// IssuedAt has millisecond precision: it is the UUID v7 timestamp of ID.
	IssuedAt time.Time `json:"issued_at"`
	// ValidUntil is IssuedAt plus a whole number of minutes (Issue rounds
	// the validity down to the minute).
	ValidUntil       time.Time   `json:"valid_until"`
	CatalogueVersion string      `json:"catalogue_version"`
	Party            []PartyLine `json:"party"`
	Plate            string      `json:"plate,omitempty"`     // upper-case letters and digits, no spaces
	SeatBand         string      `json:"seat_band,omitempty"` // the catalogue's vehicle band code; "" for a vehicle that paid no vehicle fee
	// Paid is true when the sale was paid in full; otherwise payment was
	// deferred to the exit and Due holds what is owed per currency.
	Paid bool    `json:"paid"`
	Due  Amounts `json:"due,omitempty"`
}

// PartyLine counts visitors of one category and age band: the catalogue's
// codes, such as "INT" and "ADULT".
type PartyLine struct {
	Category string `json:"category"`
	Band     string `json:"band"`
	Count    int    `json:"count"`
}

// Amount is money owed: an ISO 4217 code and integer minor units.
type Amount struct {
	Currency string `json:"currency"`
	Minor    int64  `json:"minor"`
}

// Amounts is a list of amounts in distinct currencies. Its JSON form is the
// contract's money object, {"KES": 150000, "USD": 26500}.
type Amounts []Amount

// MarshalJSON writes the contract's money object.
func (a Amounts) MarshalJSON() ([]byte, error) {
	m := make(map[string]int64, len(a))
	for _, x := range a {
		m[x.Currency] = x.Minor
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads the contract's money object, sorted by currency.
func (a *Amounts) UnmarshalJSON(b []byte) error {
	var m map[string]int64
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	out := make(Amounts, 0, len(m))
	for c, v := range m {
		out = append(out, Amount{Currency: c, Minor: v})
	}
	slices.SortFunc(out, func(x, y Amount) int { return strings.Compare(x.Currency, y.Currency) })
	*a = out
	return nil
}

// State is "paid" or "deferred", as the contract's sale state.
func (p Pass) State() string {
	if p.Paid {
		return "paid"
	}
	return "deferred"
}

// People is the number of visitors on the pass.
func (p Pass) People() int {
	n := 0
	for _, l := range p.Party {
		n += l.Count
	}
	return n
}

// NewID returns a UUID v7 for a pass issued at t, with random bits from r
// (crypto/rand.Reader in production). Its timestamp is t in milliseconds,
// which the pass carries as its issue time.
func NewID(t time.Time, r io.Reader) (uuid.UUID, error) {
	var id uuid.UUID
	ms := t.UnixMilli()
	if ms < 0 || ms >= 1<<48 {
		return id, fmt.Errorf("%w: time %v out of range for a UUID v7", ErrInvalid, t)
	}
	if _, err := io.ReadFull(r, id[6:]); err != nil {
		return id, fmt.Errorf("pass id: %w", err)
	}
	for i := 0; i < 6; i++ {
		id[i] = byte(ms >> (40 - 8*i))
	}
	id[6] = 0x70 | id[6]&0x0f
	id[8] = 0x80 | id[8]&0x3f
	return id, nil
}

// idTime returns the UUID v7 timestamp of id, or false when id is not a
// UUID v7 of the RFC 9562 variant.
func idTime(id uuid.UUID) (time.Time, bool) {
	if id[6]>>4 != 7 || id[8]>>6 != 2 {
		return time.Time{}, false
	}
	var ms int64
	for i := 0; i < 6; i++ {
		ms = ms<<8 | int64(id[i])
	}
	return time.UnixMilli(ms).UTC(), true
}

// NormalizePlate turns a plate as keyed ("kda 123a", "KDA-123A") into the
// form a pass carries ("KDA123A"): upper case, spaces and hyphens removed.
// It does not validate; Issue does.
func NormalizePlate(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if !strings.ContainsAny(s, " -\t") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != ' ' && c != '-' && c != '\t' {
			b = append(b, c)
		}
	}
	return string(b)
}

func isCode(s string) bool {
	if len(s) == 0 || len(s) > maxCodeLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case (c == '-' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

func isTerminalName(s string) bool {
	if len(s) == 0 || len(s) > maxTerminalLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func isPlate(s string) bool {
	if len(s) == 0 || len(s) > maxPlateLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func isCatalogueVersion(s string) bool {
	if len(s) == 0 || len(s) > maxCatalogueLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func isCurrency(s string) bool {
	return len(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z'
}

func comparePartyLines(a, b PartyLine) int {
	if c := strings.Compare(a.Category, b.Category); c != 0 {
		return c
	}
	return strings.Compare(a.Band, b.Band)
}

// canonical checks the fields a pass carries (not Site, Terminal, KeyID,
// which come from the certificate) and returns a copy with the party lines
// and amounts in their canonical order.
func (p Pass) canonical() (Pass, error) {
	bad := func(format string, args ...any) (Pass, error) {
		return Pass{}, fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
	}
	if p.Version != 0 && p.Version != Version1 {
		return bad("format version %d; this terminal writes version %d", p.Version, Version1)
	}
	p.Version = Version1
	at, ok := idTime(p.ID)
	if !ok {
		return bad("pass id %s is not a UUID v7 (use pass.NewID)", p.ID)
	}
	if !p.IssuedAt.IsZero() && !p.IssuedAt.Truncate(time.Millisecond).Equal(at) {
		return bad("issued-at %s does not match the time in pass id %s (%s)", p.IssuedAt.Format(time.RFC3339Nano), p.ID, at.Format(time.RFC3339Nano))
	}
	p.IssuedAt = at
	mins := p.ValidUntil.Sub(at) / time.Minute
	if mins < 1 || p.ValidUntil.Sub(at) > MaxValidity {
		return bad("valid-until %s must be 1 minute to %d days after issue (%s)", p.ValidUntil.Format(time.RFC3339), MaxValidity/(24*time.Hour), at.Format(time.RFC3339))
	}
	p.ValidUntil = at.Add(mins * time.Minute)
	if !isCatalogueVersion(p.CatalogueVersion) {
		return bad("catalogue version %q: 1–%d printable ASCII characters", p.CatalogueVersion, maxCatalogueLen)
	}
	if len(p.Party) > MaxPartyLines {
		return bad("%d party lines; at most %d", len(p.Party), MaxPartyLines)
	}
	p.Party = slices.Clone(p.Party)
	slices.SortFunc(p.Party, comparePartyLines)
	for i, l := range p.Party {
		if !isCode(l.Category) || !isCode(l.Band) {
			return bad("party line %s/%s: codes are A–Z, 0–9, '-' or '_' (at most %d)", l.Category, l.Band, maxCodeLen)
		}
		if l.Count < 1 || l.Count > MaxCount {
			return bad("party line %s/%s: count %d; 1 to %d", l.Category, l.Band, l.Count, MaxCount)
		}
		if i > 0 && comparePartyLines(p.Party[i-1], l) == 0 {
			return bad("party line %s/%s appears twice", l.Category, l.Band)
		}
	}
	if p.Plate != "" || p.SeatBand != "" {
		if !isPlate(p.Plate) {
			return bad("plate %q: 1–%d letters A–Z and digits (see NormalizePlate)", p.Plate, maxPlateLen)
		}
		// No seat band: a vehicle that pays no vehicle fee (exempt, a
		// government vehicle) is still named by its plate.
		if p.SeatBand != "" && !isCode(p.SeatBand) {
			return bad("seat band %q: a vehicle band code of the catalogue, or none", p.SeatBand)
		}
	}
	if len(p.Party) == 0 && p.Plate == "" {
		return bad("a pass needs visitors or a vehicle")
	}
	if p.Paid {
		if len(p.Due) != 0 {
			return bad("a paid pass has nothing due")
		}
		p.Due = nil
	} else {
		if len(p.Due) == 0 || len(p.Due) > MaxDue {
			return bad("a deferred pass owes 1 to %d amounts, got %d", MaxDue, len(p.Due))
		}
		p.Due = slices.Clone(p.Due)
		slices.SortFunc(p.Due, func(x, y Amount) int { return strings.Compare(x.Currency, y.Currency) })
		for i, a := range p.Due {
			if !isCurrency(a.Currency) {
				return bad("currency %q: three letters A–Z (ISO 4217)", a.Currency)
			}
			if a.Minor < 1 || a.Minor > MaxMinor {
				return bad("%s amount %d out of range 1 to %d minor units", a.Currency, a.Minor, MaxMinor)
			}
			if i > 0 && p.Due[i-1].Currency == a.Currency {
				return bad("currency %s appears twice", a.Currency)
			}
		}
	}
	return p, nil
}

// The rules below are the ones Issue applies to a pass's fields, exported so
// that what feeds a pass (the catalogue, a sale) is refused when it is read,
// not when a pass is issued for it. Each returns nil or a description of
// what is wrong, wrapping ErrInvalid.

// ValidCatalogueVersion checks a catalogue version as a pass carries it:
// 1 to 40 printable ASCII characters (0x20–0x7E).
func ValidCatalogueVersion(v string) error {
	if isCatalogueVersion(v) {
		return nil
	}
	if len(v) == 0 || len(v) > maxCatalogueLen {
		return fmt.Errorf("%w: %d characters; a pass carries 1–%d printable ASCII characters", ErrInvalid, utf8.RuneCountInString(v), maxCatalogueLen)
	}
	for i, r := range v {
		if r < 0x20 || r > 0x7e {
			return fmt.Errorf("%w: character %d is %U, not printable ASCII (a pass carries only 0x20–0x7E: type '-' for a dash)", ErrInvalid, utf8.RuneCountInString(v[:i])+1, r)
		}
	}
	return fmt.Errorf("%w: not printable ASCII", ErrInvalid)
}

// ValidCode checks a catalogue code as a pass carries it (site, visitor
// category, age band, seat band): 1 to 24 of A–Z, 0–9, '-' or '_', not
// starting with '-' or '_'.
func ValidCode(s string) error {
	if !isCode(s) {
		return fmt.Errorf("%w: a pass carries codes of 1–%d characters A–Z, 0–9, '-' or '_', starting with a letter or digit", ErrInvalid, maxCodeLen)
	}
	return nil
}

// ValidCurrency checks a currency as a pass carries it: three letters A–Z.
func ValidCurrency(s string) error {
	if !isCurrency(s) {
		return fmt.Errorf("%w: a pass carries currencies of three letters A–Z (ISO 4217)", ErrInvalid)
	}
	return nil
}

// ValidPlate checks a vehicle plate as NormalizePlate leaves it: 1 to 12
// letters A–Z and digits.
func ValidPlate(s string) error {
	if !isPlate(s) {
		return fmt.Errorf("%w: a pass carries plates of 1–%d letters A–Z and digits", ErrInvalid, maxPlateLen)
	}
	return nil
}
