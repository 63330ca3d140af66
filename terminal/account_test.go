package terminal_test

import (
	"os"
	"strings"
	"testing"

	"github.com/lango-pos/lango/terminal"
)

func TestNormalizePhone(t *testing.T) {
	good := []struct{ in, want string }{
		{"0712345678", "+254712345678"},
		{"0712 345 678", "+254712345678"},
		{"712345678", "+254712345678"},
		{"254712345678", "+254712345678"},
		{"+254 712-345-678", "+254712345678"},
		{"0110123456", "+254110123456"},
		{"+254110123456", "+254110123456"},
		{"", ""},
	}
	for _, tt := range good {
		got, err := terminal.NormalizePhone(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"0812345678", "071234567", "07123456789", "+255712345678", "07123456x8", "+254 212 345678", "2540712345678", "phone"} {
		got, err := terminal.NormalizePhone(in)
		if err == nil || terminal.ErrorKind(err) != terminal.EINVALID {
			t.Errorf("NormalizePhone(%q) = %q, %v; want an invalid-input error", in, got, err)
		}
	}
}

func kws(t *testing.T) *terminal.Catalogue {
	t.Helper()
	b, err := os.ReadFile("../testdata/catalogues/kws.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := terminal.ParseCatalogue(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestResolveOwed(t *testing.T) {
	c := kws(t)
	o, err := terminal.ResolveOwed(c, terminal.SaleDeferred, "tra/to/0412", "0722 000111")
	if err != nil {
		t.Fatal(err)
	}
	want := terminal.Owed{Operator: "SAVANNA", Name: "Savanna Trails Safaris Ltd", Licence: "TRA/TO/0412", KRAPIN: "P051234567X", Phone: "+254722000111"}
	if *o != want {
		t.Errorf("by licence: got %+v; want %+v", *o, want)
	}
	if o, err := terminal.ResolveOwed(c, terminal.SaleDeferred, "KIBO", ""); err != nil || o.Licence != "TRA/TO/2039" || o.Phone != "" {
		t.Errorf("by code: got %+v, %v; want KIBO's licence and no phone", o, err)
	}
	if o, err := terminal.ResolveOwed(c, terminal.SaleDeferred, "", ""); o != nil || err != nil {
		t.Errorf("nothing named: got %+v, %v; want nil, nil", o, err)
	}
	for _, tt := range []struct {
		name         string
		state        terminal.SaleState
		ref, phone   string
		wantContains string
	}{
		{"unknown operator", terminal.SaleDeferred, "TRA/TO/9999", "", `no tour operator has the code or licence "TRA/TO/9999"`},
		{"bad phone", terminal.SaleDeferred, "KIBO", "12345", `phone "12345" is not a Kenyan mobile number`},
		{"paid sale", terminal.SalePaid, "KIBO", "", "only a deferred sale"},
	} {
		_, err := terminal.ResolveOwed(c, tt.state, tt.ref, tt.phone)
		if terminal.ErrorKind(err) != terminal.EINVALID || !strings.Contains(err.Error(), tt.wantContains) {
			t.Errorf("%s: err = %v; want invalid, containing %q", tt.name, err, tt.wantContains)
		}
	}
}
