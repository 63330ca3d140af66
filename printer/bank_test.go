package printer

import (
	"slices"
	"strings"
	"testing"
)

// TestReceiptShowsBankTender: a bank tender prints its kind, its bank and
// its reference, in each language, within the paper's width.
func TestReceiptShowsBankTender(t *testing.T) {
	for _, c := range []struct{ lang, kind, ref string }{
		{"en", "Bank", "KCB Ref: FT24003ABC12"},
		{"sw", "Benki", "KCB Kumb.: FT24003ABC12"},
	} {
		doc := settlement(c.lang)
		doc.Tenders = []Tender{{Kind: "bank", Amount: kes(6500), Reference: "FT24003ABC12", Bank: "KCB"}, {Kind: "card", Amount: usd(160), Reference: "771203"}}
		doc.Change = nil
		prof, _ := LookupProfile(goldenProfiles[0])
		job, err := Render(prof, doc)
		if err != nil {
			t.Fatal(err)
		}
		var text []string
		for _, l := range printedLines(t, job) {
			text = append(text, strings.TrimSpace(l.text))
			if l.cols > prof.Columns {
				t.Errorf("%s: line %q is %d columns; paper has %d", c.lang, l.text, l.cols, prof.Columns)
			}
		}
		if !slices.ContainsFunc(text, func(l string) bool { return strings.HasPrefix(l, c.kind+" ") && strings.Contains(l, "6,500.00") }) {
			t.Errorf("%s: no %q tender line of 6,500.00 in %q", c.lang, c.kind, text)
		}
		if !slices.Contains(text, c.ref) {
			t.Errorf("%s: no line %q in %q", c.lang, c.ref, text)
		}
	}
}
