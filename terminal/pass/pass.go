package pass

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/lango-pos/lango/terminal"
)

// Version1 is the only format version this package writes and reads.
const Version1 = 1

// Bounds of a v1 pass. A decoder refuses anything outside them as malformed;
// Issue refuses them as invalid.
const (
	MaxPartyLines   = terminal.PassMaxPartyLines
	MaxCount        = terminal.PassMaxCount
	MaxDue          = terminal.PassMaxDue
	MaxMinor        = terminal.MaxMinor
	MaxValidity     = terminal.PassMaxValidity
	maxCodeLen      = terminal.PassMaxCodeLen
	maxTerminalLen  = 32 // terminal names
	maxPlateLen     = terminal.PassMaxPlateLen
	maxCatalogueLen = terminal.PassMaxVersionLen
	maxValidityMin  = uint64(MaxValidity / time.Minute)
)

// ErrInvalid wraps every error Issue and Certify return for bad input: the
// caller maps it to its "invalid input" kind.
var ErrInvalid = errors.New("invalid pass")

// The content of a pass is the domain's (terminal/gatepass.go); this
// package encodes, signs and verifies it.
type (
	Pass      = terminal.Pass
	PartyLine = terminal.PartyLine
	Amount    = terminal.Amount
	Amounts   = terminal.Amounts
)

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

// NormalizePlate turns a plate as keyed into the form a pass carries (see
// terminal.CompactPlate).
func NormalizePlate(s string) string { return terminal.CompactPlate(s) }

var (
	isCode             = terminal.IsPassCode
	isPlate            = terminal.IsPassPlate
	isCatalogueVersion = terminal.IsPassCatalogueVersion
	isCurrency         = terminal.IsPassCurrency
)

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

func comparePartyLines(a, b PartyLine) int {
	if c := strings.Compare(a.Category, b.Category); c != 0 {
		return c
	}
	return strings.Compare(a.Band, b.Band)
}

// canonical checks the fields a pass carries (not Site, Terminal, KeyID,
// which come from the certificate) and returns a copy with the party lines
// and amounts in their canonical order.
func canonical(p Pass) (Pass, error) {
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

// ValidCatalogueVersion checks a catalogue version as a pass carries it.
func ValidCatalogueVersion(v string) error { return invalid(terminal.CheckPassCatalogueVersion(v)) }

// ValidCode checks a catalogue code as a pass carries it.
func ValidCode(s string) error { return invalid(terminal.CheckPassCode(s)) }

// ValidCurrency checks a currency as a pass carries it.
func ValidCurrency(s string) error { return invalid(terminal.CheckPassCurrency(s)) }

// ValidPlate checks a vehicle plate as NormalizePlate leaves it.
func ValidPlate(s string) error { return invalid(terminal.CheckPassPlate(s)) }

func invalid(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalid, err)
}
