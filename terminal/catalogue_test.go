package terminal_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal"
)

func loadCatalogue(t testing.TB, name string) *terminal.Catalogue {
	t.Helper()
	b, err := os.ReadFile("../testdata/catalogues/" + name)
	if err != nil {
		t.Fatal(err)
	}
	c, err := terminal.ParseCatalogue(b)
	if err != nil {
		t.Fatalf("ParseCatalogue(%s): %v", name, err)
	}
	return c
}

// nairobi returns a time given as Nairobi wall-clock time.
func nairobi(t testing.TB, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Africa/Nairobi")
	if err != nil {
		t.Fatal(err)
	}
	tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func TestPrice(t *testing.T) {
	kws := loadCatalogue(t, "kws.json")
	gov := loadCatalogue(t, "counters.json")
	type want struct {
		totals terminal.Totals
		season string
		units  []int64 // unit price of each line, minor units
		err    string  // substring of the error message; "" for success
	}
	L := func(code string, qty int) terminal.LineRequest { return terminal.LineRequest{Code: code, Qty: qty} }
	tests := []struct {
		name  string
		cat   *terminal.Catalogue
		at    string // Nairobi wall-clock
		site  string
		lines []terminal.LineRequest
		want  want
	}{
		// Seasons: high season runs 1 July – 31 March; low 1 April – 30 June,
		// switching at local midnight, not UTC midnight (03:00 Nairobi is 00:00 UTC).
		{"last minute of high season", kws, "2024-03-31 23:59", "AMB", []terminal.LineRequest{L("EAC-ADULT", 1)},
			want{totals: terminal.Totals{"KES": 100000}, season: "HIGH"}},
		{"first minute of low season", kws, "2024-04-01 00:00", "AMB", []terminal.LineRequest{L("EAC-ADULT", 1)},
			want{totals: terminal.Totals{"KES": 80000}, season: "LOW"}},
		{"UTC date still March at 02:59 Nairobi", kws, "2024-04-01 02:59", "AMB", []terminal.LineRequest{L("EAC-ADULT", 1)},
			want{totals: terminal.Totals{"KES": 80000}, season: "LOW"}},
		{"last minute of low season", kws, "2024-06-30 23:59", "AMB", []terminal.LineRequest{L("INT-ADULT", 1)},
			want{totals: terminal.Totals{"USD": 8000}, season: "LOW"}},
		{"high season starts 1 July", kws, "2024-07-01 00:00", "AMB", []terminal.LineRequest{L("INT-ADULT", 1)},
			want{totals: terminal.Totals{"USD": 9000}, season: "HIGH"}},
		{"high season wraps the new year", kws, "2025-01-01 00:00", "AMB", []terminal.LineRequest{L("INT-CHILD", 1)},
			want{totals: terminal.Totals{"USD": 3500}, season: "HIGH"}},
		// Every visitor category and age band at Nairobi NP, high season.
		{"EAC adult", kws, "2024-01-03 06:00", "NNP", []terminal.LineRequest{L("EAC-ADULT", 1)}, want{totals: terminal.Totals{"KES": 200000}}},
		{"EAC child", kws, "2024-01-03 06:00", "NNP", []terminal.LineRequest{L("EAC-CHILD", 1)}, want{totals: terminal.Totals{"KES": 50000}}},
		{"EAC under five free", kws, "2024-01-03 06:00", "NNP", []terminal.LineRequest{L("EAC-UNDER5", 2)}, want{totals: terminal.Totals{"KES": 0}}},
		{"resident adult", kws, "2024-01-03 06:00", "NNP", []terminal.LineRequest{L("RES-ADULT", 1)}, want{totals: terminal.Totals{"KES": 200000}}},
		{"resident child", kws, "2024-01-03 06:00", "NNP", []terminal.LineRequest{L("RES-CHILD", 3)}, want{totals: terminal.Totals{"KES": 150000}}},
		{"rest of Africa adult", kws, "2024-01-03 06:00", "NNP", []terminal.LineRequest{L("AFR-ADULT", 1)}, want{totals: terminal.Totals{"USD": 5000}}},
		{"rest of Africa child", kws, "2024-01-03 06:00", "NNP", []terminal.LineRequest{L("AFR-CHILD", 1)}, want{totals: terminal.Totals{"USD": 2000}}},
		{"rest of Africa child low", kws, "2024-05-03 06:00", "NNP", []terminal.LineRequest{L("AFR-CHILD", 1)}, want{totals: terminal.Totals{"USD": 1000}}},
		{"international adult", kws, "2024-01-03 06:00", "NNP", []terminal.LineRequest{L("INT-ADULT", 2)}, want{totals: terminal.Totals{"USD": 16000}}},
		{"international child", kws, "2024-01-03 06:00", "NNP", []terminal.LineRequest{L("INT-CHILD", 1)}, want{totals: terminal.Totals{"USD": 3500}}},
		{"international under five", kws, "2024-01-03 06:00", "NNP", []terminal.LineRequest{L("INT-UNDER5", 1)}, want{totals: terminal.Totals{"USD": 0}}},
		{"lowercase code accepted", kws, "2024-01-03 06:00", "NNP", []terminal.LineRequest{L("eac-adult", 1)}, want{totals: terminal.Totals{"KES": 200000}}},
		// USD and KES in one sale: totals stay per currency, never summed.
		{"mixed currencies", kws, "2024-01-03 06:00", "NNP",
			[]terminal.LineRequest{L("EAC-ADULT", 2), L("INT-ADULT", 1), L("INT-CHILD", 2), L("CAR", 1)},
			want{totals: terminal.Totals{"KES": 430000, "USD": 15000}, units: []int64{200000, 8000, 3500, 30000}}},
		// Vehicles by seat band.
		{"private car", kws, "2024-01-03 06:00", "TSE", []terminal.LineRequest{L("CAR", 1)}, want{totals: terminal.Totals{"KES": 30000}}},
		{"private van", kws, "2024-01-03 06:00", "TSE", []terminal.LineRequest{L("VAN", 1)}, want{totals: terminal.Totals{"KES": 100000}}},
		{"tour van", kws, "2024-01-03 06:00", "TSE", []terminal.LineRequest{L("TOUR-VAN", 2)}, want{totals: terminal.Totals{"KES": 300000}}},
		{"bus", kws, "2024-01-03 06:00", "TSE", []terminal.LineRequest{L("BUS", 1)}, want{totals: terminal.Totals{"KES": 300000}}},
		// Exemptions are free but need the evidence seen.
		{"senior citizen exempt", kws, "2024-01-03 06:00", "NNP",
			[]terminal.LineRequest{{Code: "EAC-ADULT", Qty: 1, Exemption: "SENIOR70", Evidence: "ID 12345678"}, L("EAC-ADULT", 1)},
			want{totals: terminal.Totals{"KES": 200000}}},
		{"disability exempt, any category", kws, "2024-01-03 06:00", "NNP",
			[]terminal.LineRequest{{Code: "INT-ADULT", Qty: 1, Exemption: "disability", Evidence: "NCPWD 998"}},
			want{totals: terminal.Totals{"USD": 0}}},
		{"exemption without evidence", kws, "2024-01-03 06:00", "NNP",
			[]terminal.LineRequest{{Code: "EAC-ADULT", Qty: 1, Exemption: "SENIOR70"}}, want{err: "needs the evidence seen: National ID"}},
		{"exemption for the wrong category", kws, "2024-01-03 06:00", "NNP",
			[]terminal.LineRequest{{Code: "INT-ADULT", Qty: 1, Exemption: "SENIOR70", Evidence: "passport"}}, want{err: "does not apply"}},
		{"exemption on a vehicle", kws, "2024-01-03 06:00", "NNP",
			[]terminal.LineRequest{{Code: "CAR", Qty: 1, Exemption: "GUIDE", Evidence: "TRA 1"}}, want{err: "applies to people"}},
		{"unknown exemption", kws, "2024-01-03 06:00", "NNP",
			[]terminal.LineRequest{{Code: "EAC-ADULT", Qty: 1, Exemption: "VIP", Evidence: "x"}}, want{err: `unknown exemption "VIP"`}},
		{"evidence without exemption", kws, "2024-01-03 06:00", "NNP",
			[]terminal.LineRequest{{Code: "EAC-ADULT", Qty: 1, Evidence: "x"}}, want{err: "without an exemption"}},
		// Free-entry days: citizens and residents on World Tourism Day,
		// in Nairobi's calendar.
		{"world tourism day citizens free", kws, "2024-09-27 00:00", "NNP",
			[]terminal.LineRequest{L("EAC-ADULT", 2), L("RES-CHILD", 1), L("INT-ADULT", 1), L("CAR", 1)},
			want{totals: terminal.Totals{"KES": 30000, "USD": 8000}}},
		{"day before world tourism day", kws, "2024-09-26 23:59", "NNP",
			[]terminal.LineRequest{L("EAC-ADULT", 1)}, want{totals: terminal.Totals{"KES": 200000}}},
		{"day after world tourism day", kws, "2024-09-28 00:00", "NNP",
			[]terminal.LineRequest{L("EAC-ADULT", 1)}, want{totals: terminal.Totals{"KES": 200000}}},
		// Counter services.
		{"counter services", gov, "2024-01-03 09:00", "HUDUMA-GPO",
			[]terminal.LineRequest{L("BIRTH-CERT", 2), L("POLICE-CLR", 1)}, want{totals: terminal.Totals{"KES": 145000}}},
		{"service not at this counter", gov, "2024-01-03 09:00", "HUDUMA-KSM",
			[]terminal.LineRequest{L("GOOD-CONDUCT", 1)}, want{err: `unknown item "GOOD-CONDUCT"`}},
		{"service over its quantity", gov, "2024-01-03 09:00", "HUDUMA-GPO",
			[]terminal.LineRequest{L("POLICE-CLR", 2)}, want{err: "at most 1"}},
		// Unknown codes and absurd quantities.
		{"unknown item", kws, "2024-01-03 06:00", "NNP", []terminal.LineRequest{L("EAC-ELDER", 1)}, want{err: `unknown item "EAC-ELDER"`}},
		{"park item at a counter", gov, "2024-01-03 06:00", "HUDUMA-GPO", []terminal.LineRequest{L("EAC-ADULT", 1)}, want{err: "unknown item"}},
		{"counter item at a park", kws, "2024-01-03 06:00", "NNP", []terminal.LineRequest{L("BIRTH-CERT", 1)}, want{err: "unknown item"}},
		{"unknown site", kws, "2024-01-03 06:00", "MARA", []terminal.LineRequest{L("EAC-ADULT", 1)}, want{err: `unknown site "MARA"`}},
		{"quantity zero", kws, "2024-01-03 06:00", "NNP", []terminal.LineRequest{L("EAC-ADULT", 0)}, want{err: "at least 1"}},
		{"negative quantity", kws, "2024-01-03 06:00", "NNP", []terminal.LineRequest{L("EAC-ADULT", -2)}, want{err: "at least 1"}},
		{"absurd quantity", kws, "2024-01-03 06:00", "NNP", []terminal.LineRequest{L("EAC-ADULT", 100000)}, want{err: "at most 500"}},
		{"no lines", kws, "2024-01-03 06:00", "NNP", nil, want{err: "no items"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.cat.Price(nairobi(t, tt.at), tt.site, tt.lines)
			if tt.want.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want.err) {
					t.Fatalf("Price: err = %v; want one containing %q", err, tt.want.err)
				}
				if k := terminal.ErrorKind(err); k != terminal.EINVALID {
					t.Errorf("error kind = %q; want %q", k, terminal.EINVALID)
				}
				return
			}
			if err != nil {
				t.Fatalf("Price: %v", err)
			}
			if !equalTotals(p.Totals, tt.want.totals) {
				t.Errorf("totals = %v; want %v", p.Totals, tt.want.totals)
			}
			if tt.want.season != "" && p.Season != tt.want.season {
				t.Errorf("season = %q; want %q", p.Season, tt.want.season)
			}
			for i, u := range tt.want.units {
				if p.Lines[i].Unit != u {
					t.Errorf("line %d unit = %d; want %d", i, p.Lines[i].Unit, u)
				}
			}
		})
	}
}

func equalTotals(a, b terminal.Totals) bool {
	a, b = a.Clone().Clean(), b.Clone().Clean()
	if len(a) != len(b) {
		return false
	}
	for c, v := range a {
		if b[c] != v {
			return false
		}
	}
	return true
}

func TestPriceRecordsExemptionAndFreeDay(t *testing.T) {
	kws := loadCatalogue(t, "kws.json")
	p, err := kws.Price(nairobi(t, "2024-09-27 10:00"), "NNP", []terminal.LineRequest{
		{Code: "EAC-ADULT", Qty: 1},
		{Code: "RES-ADULT", Qty: 1, Exemption: "GUIDE", Evidence: " TRA-4411 "},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Lines[0].FreeDay; got != "WTD" {
		t.Errorf("line 0 free day = %q; want WTD", got)
	}
	if got := p.Lines[1]; got.Exemption != "GUIDE" || got.Evidence != "TRA-4411" || got.Unit != 200000 || got.Total != 0 {
		t.Errorf("line 1 = %+v; want GUIDE exemption with evidence TRA-4411, unit 200000, total 0", got)
	}
}

func TestConvert(t *testing.T) {
	kws := loadCatalogue(t, "kws.json")
	tests := []struct {
		usd, kes int64
	}{
		{8000, 1036000}, // USD 80.00 × 129.50 = KES 10,360.00
		{1, 130},        // USD 0.01 → KES 1.295 → 1.30 (half up)
		{3500, 453250},  // USD 35.00 → KES 4,532.50
		{0, 0},
	}
	for _, tt := range tests {
		got, rate, err := kws.Convert("USD", tt.usd)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.kes {
			t.Errorf("Convert(USD %d) = KES %d; want %d", tt.usd, got, tt.kes)
		}
		if rate.Rate != "129.50" || rate.Source == "" {
			t.Errorf("rate = %+v; want 129.50 with its source", rate)
		}
	}
	if _, _, err := kws.Convert("EUR", 100); err == nil {
		t.Error("Convert(EUR) succeeded; want an error: the catalogue has no EUR rate")
	}
}

func TestParseCatalogueRefusesCorruptFiles(t *testing.T) {
	good, err := os.ReadFile("../testdata/catalogues/kws.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data string
		want string
	}{
		{"empty", "", "not valid"},
		{"truncated", string(good[:len(good)/2]), "not valid"},
		{"not json", "schema: 1", "not valid"},
		{"unknown field", strings.Replace(string(good), `"pass_hours"`, `"pass_hourz"`, 1), "unknown field"},
		{"wrong schema", strings.Replace(string(good), `"schema": 1`, `"schema": 9`, 1), "schema 9"},
		{"bad zone", strings.Replace(string(good), `"Africa/Nairobi"`, `"Africa/Narnia"`, 1), "time zone"},
		{"float price", strings.Replace(string(good), `"KES": 30000}`, `"KES": 300.5}`, 1), "not valid"},
		{"negative price", strings.Replace(string(good), `"KES": 30000}`, `"KES": -30000}`, 1), "is negative"},
		{"two currencies in a price", strings.Replace(string(good), `"KES": 30000}`, `"KES": 30000, "USD": 1}`, 1), "exactly one currency"},
		{"unknown currency", strings.Replace(string(good), `"KES": 30000}`, `"XXX": 30000}`, 1), "unknown currency"},
		{"bad rate", strings.Replace(string(good), `"129.50"`, `"1/3"`, 1), "not a positive decimal"},
		{"bad season date", strings.Replace(string(good), `"07-01"`, `"07-32"`, 1), "MM-DD"},
		{"duplicate site", strings.Replace(string(good), `"code": "AMB"`, `"code": "NNP"`, 1), "appears twice"},
		{"site of unknown class", strings.Replace(string(good), `"class": "SCENIC"`, `"class": "NOPE"`, 1), "unknown tariff class"},
		{"lower-case bank code", strings.Replace(string(good), `"code": "KCB"`, `"code": "kcb"`, 1), `bank code "kcb"`},
		{"duplicate bank", strings.Replace(string(good), `"code": "EQTY"`, `"code": "KCB"`, 1), "bank KCB appears twice"},
		{"bank without a name", strings.Replace(string(good), `"name": "Equity Bank"`, `"name": " "`, 1), "bank EQTY: a name"},
		{"KRA PIN without its last letter", strings.Replace(string(good), `"P051234567X"`, `"P0512345678"`, 1), `KRA PIN "P0512345678"`},
		{"KRA PIN in lower case", strings.Replace(string(good), `"P051234567X"`, `"p051234567x"`, 1), "tour operator SAVANNA: KRA PIN"},
		{"KRA PIN of 8 digits", strings.Replace(string(good), `"P051234567X"`, `"P05123456X"`, 1), "a letter, 9 digits and a letter"},
		{"duplicate licence", strings.Replace(string(good), `"TRA/TO/1187"`, `"TRA/TO/0412"`, 1), `"TRA/TO/0412" is already the code or licence of SAVANNA`},
		{"tour operator code that is another's licence", strings.Replace(string(good), `"code": "KIBO"`, `"code": "NDOVU"`, 1), "is already the code or licence of NDOVU"},
		{"tour operator without a licence", strings.Replace(string(good), `"TRA/TO/2039"`, `""`, 1), "tour operator KIBO: licence"},
		{"tour operator without a name", strings.Replace(string(good), `"Kibo Overland Expeditions"`, `""`, 1), "tour operator KIBO: a name"},
		{"trailing data", string(good) + "{}", "after the catalogue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.data == string(good) {
				t.Fatal("test fixture did not change the catalogue: the replaced text is missing")
			}
			_, err := terminal.ParseCatalogue([]byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v; want one containing %q", err, tt.want)
			}
			if terminal.ErrorKind(err) != terminal.EINVALID {
				t.Errorf("kind = %q; want invalid", terminal.ErrorKind(err))
			}
			if strings.Contains(err.Error(), "internal error") {
				t.Errorf("err = %v; a bad file is not an internal error", err)
			}
		})
	}
}

func TestMoney(t *testing.T) {
	if got := (terminal.Money{Currency: "KES", Minor: 400000}).String(); got != "KES 4,000.00" {
		t.Errorf("got %q; want KES 4,000.00", got)
	}
	if got := (terminal.Money{Currency: "KES", Minor: -123456789}).String(); got != "KES -1,234,567.89" {
		t.Errorf("got %q; want KES -1,234,567.89", got)
	}
	if got := (terminal.Money{Currency: "UGX", Minor: 1500}).String(); got != "UGX 1,500" {
		t.Errorf("got %q; want UGX 1,500", got)
	}
	for _, tt := range []struct {
		in   string
		want int64
		err  bool
	}{
		{"5000", 500000, false}, {"5,000.5", 500050, false}, {"0.01", 1, false},
		{"1.001", 0, true}, {"-5", 0, true}, {"abc", 0, true}, {"", 0, true}, {"1e3", 0, true},
		{"99999999999999", 0, true}, {".5", 0, true}, {"5.", 0, true},
	} {
		got, err := terminal.ParseMajor("KES", tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseMajor(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}
