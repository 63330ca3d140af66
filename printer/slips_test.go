package printer

import (
	"slices"
	"strings"
	"testing"

	"github.com/lango-pos/lango/terminal"
)

// slipText renders doc on the first golden profile and returns its printed
// lines, spaces folded, checking each fits the paper.
func slipText(t *testing.T, doc Document) []string {
	t.Helper()
	prof, _ := LookupProfile(goldenProfiles[0])
	job, err := Render(prof, doc)
	if err != nil {
		t.Fatal(err)
	}
	var text []string
	for _, l := range printedLines(t, job) {
		text = append(text, strings.Join(strings.Fields(l.text), " "))
		if l.cols > prof.Columns {
			t.Errorf("line %q is %d columns; the paper has %d", l.text, l.cols, prof.Columns)
		}
	}
	return text
}

func hasLine(t *testing.T, what string, text []string, want string) {
	t.Helper()
	if !slices.Contains(text, want) {
		t.Errorf("%s: no line %q in\n%s", what, want, strings.Join(text, "\n"))
	}
}

// TestPassSlipVehicleAndChange (issue 18's slips): the plate has a line of
// its own, as keyed, and the vehicle's band is its priced line, not a
// "Seats" label; a pass paid in cash prints the change given, and a
// tender taken in another currency its rate.
func TestPassSlipVehicleAndChange(t *testing.T) {
	for _, c := range []struct{ lang, vehicle, change, rate, seats string }{
		{"en", "Vehicle KDA 123A", "Change KES 5.00", "Rate 1 USD = 129.5 KES", "Seats"},
		{"sw", "Gari KDA 123A", "Chenji KES 5.00", "Kiwango 1 USD = 129.5 KES", "Viti"},
	} {
		doc := paidPass(c.lang)
		doc.Tenders = []Tender{{Kind: "cash", Amount: kes(6505)}, {Kind: "cash", Amount: kes(20720)}}
		doc.Change = terminal.Totals{"KES": 500}
		doc.Conversions = []Conversion{{From: usd(160), To: kes(20720), Rate: "129.5"}}
		text := slipText(t, &doc)
		hasLine(t, c.lang+" pass", text, c.vehicle)
		hasLine(t, c.lang+" pass", text, "1 x Tour van 7-12 KES 2,000.00") // the band, as the line item it is
		hasLine(t, c.lang+" pass", text, c.change)
		hasLine(t, c.lang+" pass", text, c.rate)
		hasLine(t, c.lang+" pass", text, "USD 160.00 = KES 20,720.00")
		for _, l := range text {
			if strings.HasPrefix(l, c.seats+" ") || strings.Contains(l, "KDA 123A "+c.seats) {
				t.Errorf("%s pass: the band is labelled as seats: %q", c.lang, l)
			}
		}
	}
}

// TestSettlementPrintsItsRate: the exit receipt of a USD due paid in
// shillings says the rate it was taken at, and what it came to.
func TestSettlementPrintsItsRate(t *testing.T) {
	doc := settlement("en")
	doc.Conversions = []Conversion{{From: usd(160), To: kes(20720), Rate: "129.5"}}
	text := slipText(t, &doc)
	hasLine(t, "exit receipt", text, "Rate 1 USD = 129.5 KES")
	hasLine(t, "exit receipt", text, "USD 160.00 = KES 20,720.00")
	hasLine(t, "exit receipt", text, "Vehicle KDA 123A")
	doc.Conversions = nil
	for _, l := range slipText(t, &doc) {
		if strings.HasPrefix(l, "Rate ") {
			t.Errorf("an exit receipt with no conversion printed %q", l)
		}
	}
}
