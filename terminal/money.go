package terminal

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Currency is an ISO 4217 alphabetic code such as "KES" or "USD".
type Currency string

// minorDigits holds the number of minor-unit digits of the currencies Lango
// prices in. A currency missing here is refused rather than guessed.
var minorDigits = map[Currency]int{
	"KES": 2, "USD": 2, "EUR": 2, "GBP": 2, "UGX": 0, "TZS": 2, "RWF": 0,
}

// Valid reports whether c is a currency Lango knows the minor units of.
func (c Currency) Valid() bool { _, ok := minorDigits[c]; return ok }

// Digits is the number of minor-unit digits of c (2 for KES).
func (c Currency) Digits() int { return minorDigits[c] }

// MaxMinor bounds any single amount: 10^13 minor units (KES 100 billion)
// is far beyond any sale and keeps sums far from int64 overflow.
const MaxMinor = int64(1e13)

// Money is an exact amount: integer minor units of one currency.
type Money struct {
	Currency Currency `json:"currency"`
	Minor    int64    `json:"minor"`
}

// String formats m for people: "KES 4,000.00".
func (m Money) String() string {
	return string(m.Currency) + " " + FormatMinor(m.Currency, m.Minor)
}

// FormatMinor formats minor units with thousands separators: 400000 KES →
// "4,000.00".
func FormatMinor(c Currency, minor int64) string {
	neg := minor < 0
	if neg {
		minor = -minor
	}
	d := c.Digits()
	p := int64(math.Pow10(d))
	whole := strconv.FormatInt(minor/p, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if d > 0 {
		fmt.Fprintf(&b, ".%0*d", d, minor%p)
	}
	return b.String()
}

// ParseMajor parses an amount in major units ("5000", "5,000.50") of c into
// minor units, refusing more decimals than the currency has, signs and
// absurd sizes.
func ParseMajor(c Currency, s string) (int64, error) {
	if !c.Valid() {
		return 0, Errorf(EINVALID, "unknown currency %q", c)
	}
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	if s == "" {
		return 0, Errorf(EINVALID, "amount is empty")
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || !allDigits(whole) || (hasDot && (frac == "" || !allDigits(frac))) {
		return 0, Errorf(EINVALID, "%q is not an amount: use digits, e.g. 5000 or 5000.50", s)
	}
	d := c.Digits()
	if len(frac) > d {
		return 0, Errorf(EINVALID, "%q has more than %d decimals for %s", s, d, c)
	}
	if len(whole) > 13 {
		return 0, Errorf(EINVALID, "%q is too large", s)
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	f := int64(0)
	if frac != "" {
		f, _ = strconv.ParseInt(frac+strings.Repeat("0", d-len(frac)), 10, 64)
	}
	v := w*int64(math.Pow10(d)) + f
	if v > MaxMinor {
		return 0, Errorf(EINVALID, "%q is too large", s)
	}
	return v, nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Totals holds amounts per currency, in minor units. Its JSON form is the
// contract's money object: {"KES": 400000}.
type Totals map[Currency]int64

// Add adds minor units of c, dropping a currency whose sum is zero only when
// asked by Clean.
func (t Totals) Add(c Currency, minor int64) { t[c] += minor }

// AddAll adds every amount of o to t.
func (t Totals) AddAll(o Totals) {
	for c, v := range o {
		t[c] += v
	}
}

// Clone returns a copy of t.
func (t Totals) Clone() Totals {
	o := make(Totals, len(t))
	for c, v := range t {
		o[c] = v
	}
	return o
}

// Clean removes zero entries.
func (t Totals) Clean() Totals {
	for c, v := range t {
		if v == 0 {
			delete(t, c)
		}
	}
	return t
}

// Currencies lists the currencies of t in sorted order.
func (t Totals) Currencies() []Currency {
	cs := make([]Currency, 0, len(t))
	for c := range t {
		cs = append(cs, c)
	}
	slices.Sort(cs)
	return cs
}

// String formats t as "KES 4,000.00 + USD 35.00", sorted by currency.
func (t Totals) String() string {
	if len(t) == 0 {
		return "0"
	}
	var parts []string
	for _, c := range t.Currencies() {
		parts = append(parts, Money{c, t[c]}.String())
	}
	return strings.Join(parts, " + ")
}
