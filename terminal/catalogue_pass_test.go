package terminal_test

import (
	"os"
	"strings"
	"testing"

	"github.com/lango-pos/lango/terminal"
)

func kwsJSON(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../testdata/catalogues/kws.json")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// refusedCatalogue parses data, which must be refused as EINVALID with a
// one-line message containing every one of want, and never as an internal
// error.
func refusedCatalogue(t *testing.T, data string, want ...string) {
	t.Helper()
	_, err := terminal.ParseCatalogue([]byte(data))
	if err == nil {
		t.Fatalf("ParseCatalogue accepted the file; want a refusal containing %q", want)
	}
	if k := terminal.ErrorKind(err); k != terminal.EINVALID {
		t.Errorf("kind = %q; want %q", k, terminal.EINVALID)
	}
	msg := terminal.ErrorMessage(err)
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("message %q; want it to contain %q", msg, w)
		}
	}
	if strings.Contains(msg, "internal error") || strings.Contains(msg, "\n") {
		t.Errorf("message %q; want one line, not an internal error", msg)
	}
}

// Issue 12: "KWS–2024.1" (an en dash) was accepted by lango init and by the
// hub's catalogue publish, and then every sale failed with "internal error:
// invalid pass: catalogue version". The catalogue parser (which both use)
// now applies the pass's own rule.
func TestCatalogueVersionWithEnDashDoesNotStopASite(t *testing.T) {
	good := kwsJSON(t)
	bad := strings.Replace(good, `"version": "KWS-2024.1"`, `"version": "KWS–2024.1"`, 1)
	if bad == good {
		t.Fatal("fixture: the version was not replaced")
	}
	refusedCatalogue(t, bad, `catalogue file is not valid: version "KWS–2024.1"`, "U+2013", "printable ASCII")
	for name, v := range map[string]string{
		"41 characters":   strings.Repeat("v", 41),
		"empty":           "",
		"control":         `KWS\t2024`,
		"curly quote":     "KWS’24",
		"non-break space": "KWS\u00a02024",
	} {
		t.Run(name, func(t *testing.T) {
			refusedCatalogue(t, strings.Replace(good, `"version": "KWS-2024.1"`, `"version": "`+v+`"`, 1), "version")
		})
	}
	// The bounds themselves are accepted: 40 printable ASCII characters.
	v40 := strings.Repeat("K", 20) + " ~!@#$%^&*()_+{}|:<>?"[:20]
	if _, err := terminal.ParseCatalogue([]byte(strings.Replace(good, `"version": "KWS-2024.1"`, `"version": "`+strings.ReplaceAll(v40, `"`, "")+`"`, 1))); err != nil {
		t.Errorf("a 40-character ASCII version was refused: %v", err)
	}
}

// Issue 12: a negative price gave "catalogue file is not valid: internal
// error: …"; it is an EINVALID naming the item and the field.
func TestNegativePriceRefusedAtLoad(t *testing.T) {
	good := kwsJSON(t)
	cases := []struct {
		name, old, new string
		want           []string
	}{
		{"vehicle band", `"max_seats": 6,
      "price": {"KES": 30000}`, `"max_seats": 6,
      "price": {"KES": -30000}`, []string{"item CAR (vehicle band)", "price -30000", "negative"}},
		{"entry fee", `{"category": "EAC", "band": "ADULT", "season": "HIGH", "price": {"KES": 100000}}`, `{"category": "EAC", "band": "ADULT", "season": "HIGH", "price": {"KES": -1}}`, []string{"item EAC-ADULT", "price -1", "negative"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(good, tc.old, tc.new, 1)
			if bad == good {
				t.Fatalf("fixture: %q is not in kws.json", tc.old)
			}
			refusedCatalogue(t, bad, tc.want...)
		})
	}
	counters, err := os.ReadFile("../testdata/catalogues/counters.json")
	if err != nil {
		t.Fatal(err)
	}
	c := loadCatalogue(t, "counters.json")
	sv := c.Services[0]
	old := `"code": "` + sv.Code + `"`
	i := strings.Index(string(counters), old)
	j := strings.Index(string(counters)[i:], `"price": {"`)
	if i < 0 || j < 0 {
		t.Fatalf("fixture: service %s has no price in counters.json", sv.Code)
	}
	k := i + j + len(`"price": {"`) + 3 + len(`": `)
	bad := string(counters)[:k] + "-" + string(counters)[k:]
	refusedCatalogue(t, bad, "item "+sv.Code+" (service)", "negative")
}

// Everything else a pass carries is refused when the catalogue is read,
// naming the field: codes (a pass carries 24 characters at most), names,
// currencies.
func TestCatalogueRefusesWhatAPassCannotCarry(t *testing.T) {
	good := kwsJSON(t)
	cases := []struct {
		name, old, new string
		want           []string
	}{
		{"vehicle code too long", `"code": "TOUR-VAN"`, `"code": "TOUR-VAN-WITH-A-VERY-LONG-CODE"`, []string{"item code", "TOUR-VAN-WITH-A-VERY-LONG-CODE", "at most 24"}},
		{"lower-case category", `"code": "EAC"`, `"code": "eac"`, []string{"category code", `"eac"`}},
		{"band code starting with a dash", `"code": "UNDER5"`, `"code": "-U5"`, []string{"age band code", `"-U5"`}},
		{"site code with a dash of another kind", `"code": "AMB"`, `"code": "AMB–1"`, []string{"site code", "AMB–1"}},
		{"category without an English name", `"name": {"en": "EAC citizen"`, `"name": {"en": ""`, []string{"category EAC", "English name"}},
		{"vehicle name with a control character", `"en": "Private car, up to 6 seats"`, `"en": "Private car\u0007"`, []string{"item CAR (vehicle band)", "name"}},
		{"lower-case currency", `"max_seats": 6,
      "price": {"KES": 30000}`, `"max_seats": 6,
      "price": {"kes": 30000}`, []string{"item CAR (vehicle band)", "unknown currency"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := strings.Replace(good, tc.old, tc.new, 1)
			if bad == good {
				t.Fatalf("fixture: %q is not in kws.json", tc.old)
			}
			refusedCatalogue(t, bad, tc.want...)
		})
	}
	// A band of 22 characters is a valid code, but its entry items
	// (EAC-UNDER-FIVE-…) are longer than a pass's 24.
	bad := strings.ReplaceAll(good, `"UNDER5"`, `"UNDER-FIVE-YEARS-OLD-X"`)
	refusedCatalogue(t, bad, "item code", "EAC-UNDER-FIVE-YEARS-OLD-X", "at most 24")
}
