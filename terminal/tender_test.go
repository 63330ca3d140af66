package terminal_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/lango-pos/lango/terminal"
)

func TestParseTenderBank(t *testing.T) {
	kes := func(v int64) *terminal.Money { return &terminal.Money{Currency: "KES", Minor: v} }
	tests := []struct {
		in   string
		want terminal.TenderRequest
		err  string
	}{
		{in: "bank:KCB:FT24003ABC12", want: terminal.TenderRequest{Kind: terminal.TenderBank, Bank: "KCB", Reference: "FT24003ABC12"}},
		{in: "BANK:eqty:ft 2400 3abc=1500", want: terminal.TenderRequest{Kind: terminal.TenderBank, Bank: "EQTY", Reference: "FT24003ABC", Amount: kes(150000)}},
		{in: "bank:COOP:DS/0042-17=KES=200.50", want: terminal.TenderRequest{Kind: terminal.TenderBank, Bank: "COOP", Reference: "DS/0042-17", Amount: kes(20050)}},
		{in: "bank:KCB", err: "bank:BANK:REFERENCE"},
		{in: "bank:", err: "bank:BANK:REFERENCE"},
		{in: "bank:K:FT24003ABC12", err: `bank code "K"`},
		{in: "bank:KCB!:FT24003ABC12", err: `bank code "KCB!"`},
		{in: "bank:KCB:AB1", err: `bank reference "AB1"`},
		{in: "bank:KCB:" + strings.Repeat("A", 31), err: "4–30"},
		{in: "bank:KCB:FT2400;DROP", err: "bank reference"},
		{in: "bank:KCB:FT24003ABC12=-5", err: "not"},
		{in: "bank:KCB:FT24003ABC12=abc", err: "not"},
	}
	for _, tt := range tests {
		got, err := terminal.ParseTender(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || terminal.ErrorKind(err) != terminal.EINVALID {
				t.Errorf("ParseTender(%q) = %+v, %v; want EINVALID containing %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseTender(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestApplyTendersBank(t *testing.T) {
	cat := loadCatalogue(t, "kws.json")
	due := terminal.Totals{"KES": 650000, "USD": 16000}
	bank := func(s string) terminal.TenderRequest {
		r, err := terminal.ParseTender(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name string
		reqs []terminal.TenderRequest
		want []terminal.Tender
		err  string
	}{
		{name: "the rest, USD converted", reqs: []terminal.TenderRequest{bank("bank:KCB:FT24003ABC12")},
			want: []terminal.Tender{{Kind: terminal.TenderBank, Currency: "KES", Amount: 650000 + 16000*12950/100, Bank: "KCB", Reference: "FT24003ABC12"}}},
		{name: "part bank, part cash", reqs: []terminal.TenderRequest{bank("bank:EQTY:FT0001=2000"), bank("cash")},
			want: []terminal.Tender{{Kind: terminal.TenderBank, Currency: "KES", Amount: 200000, Bank: "EQTY", Reference: "FT0001"}, {Kind: terminal.TenderCash, Currency: "KES", Amount: 450000}, {Kind: terminal.TenderCash, Currency: "USD", Amount: 16000}}},
		{name: "a bank the site does not take", reqs: []terminal.TenderRequest{bank("bank:DTB:FT24003ABC12")}, err: "bank DTB is not one the site accepts (KCB, EQTY"},
		{name: "more than due", reqs: []terminal.TenderRequest{bank("bank:KCB:FT24003ABC12=9000"), bank("cash:USD=160")}, err: "more than"},
		{name: "one reference twice", reqs: []terminal.TenderRequest{bank("bank:KCB:FT0001=100"), bank("bank:KCB:FT0001")}, err: "given twice"},
		{name: "same reference at two banks", reqs: []terminal.TenderRequest{bank("bank:KCB:FT0001=100"), bank("bank:NCBA:FT0001")},
			want: []terminal.Tender{{Kind: terminal.TenderBank, Currency: "KES", Amount: 10000, Bank: "KCB", Reference: "FT0001"}, {Kind: terminal.TenderBank, Currency: "KES", Amount: 650000 - 10000 + 16000*12950/100, Bank: "NCBA", Reference: "FT0001"}}},
	}
	for _, tt := range tests {
		got, err := terminal.ApplyTenders(cat, due, tt.reqs)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || terminal.ErrorKind(err) != terminal.EINVALID {
				t.Errorf("%s: %+v, %v; want EINVALID containing %q", tt.name, got.Tenders, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got.Tenders, tt.want) {
			t.Errorf("%s: %+v, %v; want %+v", tt.name, got.Tenders, err, tt.want)
		}
	}
	// A catalogue without banks takes no bank tender.
	noBanks := *cat
	noBanks.Banks = nil
	if _, err := terminal.ApplyTenders(&noBanks, due, []terminal.TenderRequest{bank("bank:KCB:FT24003ABC12")}); err == nil || !strings.Contains(err.Error(), "accepts no bank tenders") {
		t.Errorf("catalogue without banks: %v; want refused", err)
	}
}
