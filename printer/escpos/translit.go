package escpos

import (
	"strings"
	"unicode"
)

// punctFold holds plain-ASCII stand-ins for typographic characters that
// names, catalogue entries and translations carry but code pages lack.
var punctFold = map[rune]string{
	'\u00A0': " ", '\u2007': " ", '\u2009': " ", '\u200A': " ", '\u202F': " ",
	'\u2002': " ", '\u2003': " ", '\u2004': " ", '\u2005': " ", '\u2006': " ",
	'\u200B': "", '\u200C': "", '\u200D': "", '\u2060': "", '\uFEFF': "", '\u00AD': "",
	'\u2010': "-", '\u2011': "-", '\u2012': "-", '\u2013': "-", '\u2014': "-",
	'\u2015': "-", '\u2212': "-",
	'\u2018': "'", '\u2019': "'", '\u201A': "'", '\u201B': "'", '\u2032': "'",
	'\u02BC': "'", '\u00B4': "'",
	'\u201C': "\"", '\u201D': "\"", '\u201E': "\"", '\u201F': "\"", '\u2033': "\"",
	'\u00AB': "\"", '\u00BB': "\"", '\u2039': "<", '\u203A': ">",
	'\u2026': "...", '\u2022': "*", '\u2023': ">", '\u2043': "-", '\u00B7': ".",
	'\u2219': ".", '\u00D7': "x", '\u00F7': "/", '\u2044': "/",
	'\u20AC': "EUR", '\u20B9': "Rs", '\u00A3': "GBP", '\u00A5': "JPY",
	'\u20A6': "NGN", '\u20B5': "GHS", '\u00A2': "c", '\u2122': "TM", '\u00A9': "(c)",
	'\u00AE': "(R)", '\u00B0': " deg", '\u2116': "No.", '\u00BD': "1/2", '\u00BC': "1/4",
	'\u00BE': "3/4", '\u00B2': "2", '\u00B3': "3", '\u00B9': "1", '\u00B5': "u",
	'\u2190': "<-", '\u2192': "->", '\u2194': "<->", '\u21D2': "=>", '\u2264': "<=",
	'\u2265': ">=", '\u2260': "!=", '\u2248': "~", '\u00B1': "+/-", '\u00A7': "S.",
	'\u00B6': "P.", '\u00BF': "?", '\u00A1': "!", '\u00AA': "a", '\u00BA': "o",
	'\u2713': "v", '\u2714': "v", '\u2717': "x", '\u2718': "x",
}

// Fold returns s with every character the page cannot print replaced by a
// readable ASCII stand-in ("₹" → "Rs", "—" → "-", "é" → "e", curly quotes →
// straight ones), control characters replaced by spaces and anything else
// unknown by "?". Every rune of the result encodes to exactly one byte in
// cp, so its rune count is its printed width.
func (cp CodePage) Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if _, ok := cp.Byte(r); ok {
			b.WriteRune(r)
			continue
		}
		if r == '\t' || r == '\n' || r == '\r' || unicode.IsControl(r) {
			b.WriteByte(' ')
			continue
		}
		if unicode.Is(unicode.Mn, r) { // combining accents: drop, the base letter stays
			continue
		}
		if a, ok := punctFold[r]; ok {
			b.WriteString(a)
			continue
		}
		if a, ok := latinFold[r]; ok {
			b.WriteString(a)
			continue
		}
		if unicode.IsSpace(r) {
			b.WriteByte(' ')
			continue
		}
		b.WriteByte('?')
	}
	return b.String()
}

// Encode folds s and encodes it: one byte per printed character.
func (cp CodePage) Encode(s string) []byte {
	f := cp.Fold(s)
	out := make([]byte, 0, len(f))
	for _, r := range f {
		c, _ := cp.Byte(r)
		out = append(out, c)
	}
	return out
}
