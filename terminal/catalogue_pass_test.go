package terminal_test

import (
	"encoding/json"
	"fmt"
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

// Lines that are each valid but together exceed what one sale's pass holds
// are refused by pricing, naming the item and the limit: a pass has at most
// 32 kinds of visitor, an amount at most 10^13 minor units; a service's
// max_qty is per sale, over several lines.
func TestSaleBoundsOfThePass(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal([]byte(kwsJSON(t)), &doc); err != nil {
		t.Fatal(err)
	}
	var urban map[string]any
	for _, cl := range doc["classes"].([]any) {
		if cl.(map[string]any)["code"] == "URBAN" {
			urban = cl.(map[string]any)
		}
	}
	cats := doc["categories"].([]any)
	var lines []terminal.LineRequest
	for i := range 9 {
		code := fmt.Sprintf("C%d", i)
		cats = append(cats, map[string]any{"code": code, "name": map[string]any{"en": "Category " + code}})
		for _, b := range []string{"ADULT", "CHILD", "UNDER5"} {
			urban["fees"] = append(urban["fees"].([]any), map[string]any{"category": code, "band": b, "price": map[string]any{"KES": 100}})
		}
	}
	doc["categories"] = cats
	for _, c := range []string{"EAC", "RES", "AFR", "INT", "C0", "C1", "C2", "C3", "C4", "C5", "C6"} {
		for _, b := range []string{"ADULT", "CHILD", "UNDER5"} {
			lines = append(lines, terminal.LineRequest{Code: c + "-" + b, Qty: 1})
		}
	}
	for _, v := range doc["vehicle_bands"].([]any) {
		if v := v.(map[string]any); v["code"] == "BUS" {
			v["price"] = map[string]any{"KES": terminal.MaxMinor}
		}
	}
	b, _ := json.Marshal(doc)
	cat, err := terminal.ParseCatalogue(b)
	if err != nil {
		t.Fatal(err)
	}
	at := nairobi(t, "2024-10-15 10:00") // not a free day
	refused := func(lines []terminal.LineRequest, want ...string) {
		t.Helper()
		_, err := cat.Price(at, "NNP", lines)
		if terminal.ErrorKind(err) != terminal.EINVALID {
			t.Fatalf("Price: %v; want EINVALID", err)
		}
		for _, w := range want {
			if !strings.Contains(terminal.ErrorMessage(err), w) {
				t.Errorf("message %q; want it to contain %q", terminal.ErrorMessage(err), w)
			}
		}
	}
	refused(lines, "33 kinds of visitor", "at most 32")
	if _, err := cat.Price(at, "NNP", lines[:32]); err != nil {
		t.Errorf("32 kinds of visitor: %v", err)
	}
	refused([]terminal.LineRequest{{Code: "BUS", Qty: 1}, {Code: "EAC-ADULT", Qty: 1}}, "the total in KES is more than")
	if _, err := cat.Price(at, "NNP", []terminal.LineRequest{{Code: "BUS", Qty: 1}}); err != nil {
		t.Errorf("a total of exactly 10^13: %v", err)
	}

	// Overstay is priced from a pass's counts, past the per-sale limits,
	// but never past MaxMinor.
	if p, err := cat.PriceOverstay(at, "NNP", []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 9999}}, 3); err != nil || p.Lines[0].Qty != 29997 {
		t.Errorf("PriceOverstay(9999 for 3 days) = %+v, %v; want 29997 visitor-days", p, err)
	}
	if _, err := cat.PriceOverstay(at, "NNP", []terminal.LineRequest{{Code: "BUS", Qty: 1}}, 2); terminal.ErrorKind(err) != terminal.EINVALID || !strings.Contains(err.Error(), "comes to more than") {
		t.Errorf("PriceOverstay(BUS at 10^13 for 2 days) = %v; want EINVALID: more than the maximum", err)
	}

	counters := loadCatalogue(t, "counters.json")
	refused2 := func(lines []terminal.LineRequest, want string) {
		t.Helper()
		_, err := counters.Price(at, "HUDUMA-GPO", lines)
		if terminal.ErrorKind(err) != terminal.EINVALID || !strings.Contains(terminal.ErrorMessage(err), want) {
			t.Errorf("Price: %v; want EINVALID containing %q", err, want)
		}
	}
	refused2([]terminal.LineRequest{{Code: "BIRTH-CERT", Qty: 3}, {Code: "BIRTH-CERT", Qty: 3}}, "BIRTH-CERT: 6 in this sale; at most 5")
}
