package terminal

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// This file holds the content of a gate pass and the rules for its fields.
// terminal/pass encodes, signs and verifies a Pass; what a pass says, why
// one is refused, and which codes, plates and currencies it can carry are
// the domain's, so that a catalogue or a sale that could never be printed
// on a pass is refused when it is read.

// Bounds of a v1 pass.
const (
	PassMaxPartyLines = 32                   // distinct (category, band) lines
	PassMaxCount      = 9999                 // people in one line
	PassMaxDue        = 8                    // currencies owed
	PassMaxValidity   = 400 * 24 * time.Hour // issued-at to valid-until
	PassMaxCodeLen    = 24                   // catalogue codes, as the catalogue's codeRE
	PassMaxPlateLen   = 12                   // vehicle plates, spaces removed
	PassMaxVersionLen = 40                   // catalogue versions
)

// Pass is the content of a gate pass. The issuer fills Version, Site,
// Terminal and KeyID from its certificate and IssuedAt from ID; the
// verifier returns every field.
type Pass struct {
	Version int       `json:"version"`
	ID      uuid.UUID `json:"id"` // UUID v7; its timestamp is IssuedAt
	Site    string    `json:"site"`
	// Terminal is the issuing terminal's name from its certificate; empty
	// when a compact pass (no embedded certificate) is only parsed.
	Terminal string `json:"terminal,omitempty"`
	// KeyID names the issuing terminal's key.
	KeyID KeyID `json:"key_id"`
	// IssuedAt has millisecond precision: it is the UUID v7 timestamp of ID.
	IssuedAt time.Time `json:"issued_at"`
	// ValidUntil is IssuedAt plus a whole number of minutes (the issuer
	// rounds the validity down to the minute).
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

// Totals returns the amounts as totals by currency.
func (a Amounts) Totals() Totals {
	t := Totals{}
	for _, x := range a {
		t[Currency(x.Currency)] += x.Minor
	}
	return t
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

// KeyID names an Ed25519 public key: the first four bytes of its SHA-256,
// big-endian. Authorities and terminals alike are named by KeyID; a new key
// (rotation) has a new KeyID.
type KeyID uint32

// String is eight lower-case hex digits.
func (k KeyID) String() string { return fmt.Sprintf("%08x", uint32(k)) }

// MarshalText writes k as String does (JSON: "1a2b3c4d").
func (k KeyID) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads eight hex digits.
func (k *KeyID) UnmarshalText(b []byte) error {
	if len(b) != 8 {
		return fmt.Errorf("key id %q: want 8 hex digits", b)
	}
	v, err := strconv.ParseUint(string(b), 16, 32)
	if err != nil {
		return fmt.Errorf("key id %q: %w", b, err)
	}
	*k = KeyID(v)
	return nil
}

// PassReason is why a pass is refused: the codes of `lango pass verify`
// (shared/CONTRACT.md).
type PassReason string

// The contract's reason codes. A verifier returns the first six; revoked
// and already used need the store and are decided by the caller, which uses
// RefusePass to report them the same way.
const (
	PassBadSignature  PassReason = "bad_signature"  // altered or forged: a signature does not match
	PassUnknownIssuer PassReason = "unknown_issuer" // the terminal or its authority is not trusted here
	PassWrongSite     PassReason = "wrong_site"     // the pass is for another site
	PassExpired       PassReason = "expired"        // now is after valid-until
	PassNotYetValid   PassReason = "not_yet_valid"  // now is before issued-at, beyond the clock skew
	PassRevoked       PassReason = "revoked"        // the sale was voided
	PassAlreadyUsed   PassReason = "already_used"   // the pass was used already
	PassMalformed     PassReason = "malformed"      // not a readable v1 pass
)

// PassReasons lists every reason code, in the contract's order.
func PassReasons() []PassReason {
	return []PassReason{PassBadSignature, PassUnknownIssuer, PassWrongSite, PassExpired, PassNotYetValid, PassRevoked, PassAlreadyUsed, PassMalformed}
}

// Message is the reason in plain words for the attendant, in English or,
// when lang is "sw", Swahili.
func (r PassReason) Message(lang string) string {
	en, sw := r.messages()
	if lang == "sw" {
		return sw
	}
	return en
}

func (r PassReason) messages() (en, sw string) {
	switch r {
	case PassBadSignature:
		return "This pass is not genuine: it has been altered or forged.",
			"Pasi hii si halali: imebadilishwa au ni ya kughushi."
	case PassUnknownIssuer:
		return "This pass was issued by a terminal this gate does not recognise.",
			"Pasi hii imetolewa na mashine ambayo lango hili halitambui."
	case PassWrongSite:
		return "This pass is for another park or office.",
			"Pasi hii ni ya mbuga au ofisi nyingine."
	case PassExpired:
		return "This pass has expired.",
			"Pasi hii imeisha muda wake."
	case PassNotYetValid:
		return "This pass is not valid yet. Check this terminal's clock.",
			"Pasi hii bado haijaanza kutumika. Angalia saa ya mashine hii."
	case PassRevoked:
		return "This pass has been cancelled.",
			"Pasi hii imefutwa."
	case PassAlreadyUsed:
		return "This pass has already been used.",
			"Pasi hii imeshatumika."
	case PassMalformed:
		return "This code is not a readable Lango pass. Scan it again.",
			"Msimbo huu si pasi ya Lango inayosomeka. Uchanganue tena."
	}
	return "This pass was refused.", "Pasi hii imekataliwa."
}

// PassRefusal is a refused pass: a contract reason, and details for the
// log (which the attendant does not need).
type PassRefusal struct {
	Reason PassReason
	Detail string
	Err    error // the cause, if any
}

func (e *PassRefusal) Error() string {
	s := "pass refused: " + string(e.Reason)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *PassRefusal) Unwrap() error { return e.Err }

// Message is the reason for the attendant (see PassReason.Message).
func (e *PassRefusal) Message(lang string) string { return e.Reason.Message(lang) }

// RefusePass returns a refusal for reason with a formatted detail.
func RefusePass(reason PassReason, format string, args ...any) *PassRefusal {
	return &PassRefusal{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// PassReasonOf returns the reason of the first *PassRefusal in err's
// chain, or "" when there is none.
func PassReasonOf(err error) PassReason {
	var r *PassRefusal
	if errors.As(err, &r) {
		return r.Reason
	}
	return ""
}

// DisplayPlate writes a plate as a pass carries it ("KDA001X": no spaces)
// the way it is keyed and painted ("KDA 001X"): a space where the leading
// letters meet the digits, so every screen and slip says what the entry
// gate and the supervisor's list say. A plate with a space or a dash is
// kept as it is.
func DisplayPlate(plate string) string {
	if strings.ContainsAny(plate, " -") {
		return plate
	}
	for i := 1; i < len(plate); i++ {
		a, b := plate[i-1], plate[i]
		if a >= 'A' && a <= 'Z' && b >= '0' && b <= '9' {
			return plate[:i] + " " + plate[i:]
		}
	}
	return plate
}

// CompactPlate turns a plate as keyed ("kda 123a", "KDA-123A") into the
// form a pass carries ("KDA123A"): upper case, spaces and hyphens removed.
// It does not validate; IsPassPlate does.
func CompactPlate(s string) string {
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

// IsPassCode reports whether s is a code a pass can carry (site, visitor
// category, age band, seat band): 1 to 24 of A–Z, 0–9, '-' or '_', not
// starting with '-' or '_'.
func IsPassCode(s string) bool {
	if len(s) == 0 || len(s) > PassMaxCodeLen {
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

// IsPassPlate reports whether s is a plate as CompactPlate leaves it: 1 to
// 12 letters A–Z and digits.
func IsPassPlate(s string) bool {
	if len(s) == 0 || len(s) > PassMaxPlateLen {
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

// IsPassCatalogueVersion reports whether s is a catalogue version a pass
// can carry: 1 to 40 printable ASCII characters (0x20–0x7E).
func IsPassCatalogueVersion(s string) bool {
	if len(s) == 0 || len(s) > PassMaxVersionLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// IsPassCurrency reports whether s is a currency a pass can carry: three
// letters A–Z.
func IsPassCurrency(s string) bool {
	return len(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z'
}

// The rules below say what is wrong with a field a pass would carry, so
// that what feeds a pass (the catalogue, a sale) is refused when it is
// read, not when a pass is issued for it. Each returns nil or a
// description.

// CheckPassCatalogueVersion explains IsPassCatalogueVersion.
func CheckPassCatalogueVersion(v string) error {
	if IsPassCatalogueVersion(v) {
		return nil
	}
	if len(v) == 0 || len(v) > PassMaxVersionLen {
		return fmt.Errorf("%d characters; a pass carries 1–%d printable ASCII characters", utf8.RuneCountInString(v), PassMaxVersionLen)
	}
	for i, r := range v {
		if r < 0x20 || r > 0x7e {
			return fmt.Errorf("character %d is %U, not printable ASCII (a pass carries only 0x20–0x7E: type '-' for a dash)", utf8.RuneCountInString(v[:i])+1, r)
		}
	}
	return errors.New("not printable ASCII")
}

// CheckPassCode explains IsPassCode.
func CheckPassCode(s string) error {
	if !IsPassCode(s) {
		return fmt.Errorf("a pass carries codes of 1–%d characters A–Z, 0–9, '-' or '_', starting with a letter or digit", PassMaxCodeLen)
	}
	return nil
}

// CheckPassCurrency explains IsPassCurrency.
func CheckPassCurrency(s string) error {
	if !IsPassCurrency(s) {
		return errors.New("a pass carries currencies of three letters A–Z (ISO 4217)")
	}
	return nil
}

// CheckPassPlate explains IsPassPlate.
func CheckPassPlate(s string) error {
	if !IsPassPlate(s) {
		return fmt.Errorf("a pass carries plates of 1–%d letters A–Z and digits", PassMaxPlateLen)
	}
	return nil
}
