package printer

import (
	"bytes"
	"testing"
)

// The Z-report prints the visitors admitted (free entries included) when
// the shift admitted any; a counter's shift has no such line.
func TestZReportPrintsVisitors(t *testing.T) {
	prof, err := LookupProfile("generic58")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lang, label string
	}{{"en", "Visitors"}, {"sw", "Wageni"}} {
		z := zreport(tc.lang)
		job, err := Layout{Profile: prof}.Render(z)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(job, []byte(tc.label)) {
			t.Errorf("%s: a Z-report without visitors prints %q", tc.lang, tc.label)
		}
		z.Visitors = 1234
		job, err = Layout{Profile: prof}.Render(z)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(job, []byte(tc.label)) || !bytes.Contains(job, []byte("1234")) {
			t.Errorf("%s: the Z-report of 1234 visitors does not print %q and 1234", tc.lang, tc.label)
		}
	}
}
