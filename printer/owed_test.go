package printer

import (
	"slices"
	"strings"
	"testing"

	"github.com/lango-pos/lango/terminal"
)

// TestDeferredPassShowsWhoOwes: a deferred pass on account prints the tour
// operator, its licence and the driver's phone, in each language, within
// the paper's width; a pass with no account prints none of it.
func TestDeferredPassShowsWhoOwes(t *testing.T) {
	for _, c := range []struct{ lang, account, licence, phone string }{
		{"en", "Account", "Licence", "Driver's phone"},
		{"sw", "Akaunti", "Leseni", "Simu ya dereva"},
	} {
		doc := duePass(c.lang)
		doc.Owed = &terminal.Owed{Operator: "NDOVU", Name: "Ndovu Tours & Travel", Licence: "TRA/TO/1187", KRAPIN: "P052468013K", Phone: "+254722111222"}
		prof, _ := LookupProfile(goldenProfiles[0])
		lines := func(d PassSlip) []string {
			job, err := Render(prof, &d)
			if err != nil {
				t.Fatal(err)
			}
			var text []string
			for _, l := range printedLines(t, job) {
				text = append(text, strings.Join(strings.Fields(l.text), " "))
				if l.cols > prof.Columns {
					t.Errorf("%s: line %q is %d columns; paper has %d", c.lang, l.text, l.cols, prof.Columns)
				}
			}
			return text
		}
		text := lines(doc)
		for _, want := range []string{c.account + " Ndovu Tours & Travel", c.licence + " TRA/TO/1187", c.phone + " +254722111222"} {
			if !slices.Contains(text, want) {
				t.Errorf("%s: no line %q in %q", c.lang, want, text)
			}
		}
		doc.Owed = nil
		for _, l := range lines(doc) {
			if strings.Contains(l, "+254") || strings.Contains(l, c.licence) {
				t.Errorf("%s: a pass with no account printed %q", c.lang, l)
			}
		}
	}
}

// TestZReportListsOpenPasses: a Z-report closed with passes still owed
// lists each (number, plate, due, operator, phone) and the supervisor who
// named them; one closed without lists none.
func TestZReportListsOpenPasses(t *testing.T) {
	prof, _ := LookupProfile(goldenProfiles[0])
	lines := func(z ZReport) []string {
		job, err := Render(prof, &z)
		if err != nil {
			t.Fatal(err)
		}
		var text []string
		for _, l := range printedLines(t, job) {
			text = append(text, strings.Join(strings.Fields(l.text), " "))
			if l.cols > prof.Columns {
				t.Errorf("line %q is %d columns; paper has %d", l.text, l.cols, prof.Columns)
			}
		}
		return text
	}
	z := zreport("en")
	plain := lines(z)
	z.OpenPasses = []terminal.UnsettledPass{{Number: 12, Vehicle: "KDA 123A", Due: terminal.Totals{"KES": 650000}, OperatorName: "Ndovu Tours & Travel", Phone: "+254722111222"}}
	z.OpenPassesBy = "Achieng"
	text := lines(z)
	for _, want := range []string{"STILL OWED (1)", "12 KDA 123A KES 6,500.00", "Ndovu Tours & Travel", "+254722111222", "Named by Achieng"} {
		if !slices.Contains(text, want) {
			t.Errorf("no line %q in %q", want, text)
		}
		if slices.Contains(plain, want) {
			t.Errorf("a Z-report with no open passes printed %q", want)
		}
	}
}
