package printer

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal"
)

// Fixtures: illustrative KWS fees (shared/reference/kws-fees.md).

var (
	issued = time.Date(2024, 1, 3, 3, 12, 0, 0, time.UTC) // 06:12 EAT
	// passText is the typical pass of docs/PASS-FORMAT.md (2 adults, 3
	// children, a tour van, deferred): a copy of testdata/pass/typical.txt,
	// so the printer is tested with the real size and alphabet of a pass.
	passText      = "LG1:0028918575676231741038799165669716194714683839774155882985520310494021513634933015583409893069994337771293553986695867940808501710435080363522062896371901694661855347866734030722269215261660269825833015521835124106879190223106676747342076087187226983796805346206211070259209607454668754689441232725997942324547032953880425545211965551499091127215565340790250070755295451673902053081360577075184476159435949924138708365033595100500984965508597672091255939643756466217470178654118003551857932416189840967901217111152016553452997514215969551072907339722450539883191193236298948884905382"
	fixturePassID = "0190a3c4-5e6f-7abc-8d9e-f0123456789a"
)

func kes(major int64) terminal.Money { return terminal.Money{Currency: "KES", Minor: major * 100} }
func usd(major int64) terminal.Money { return terminal.Money{Currency: "USD", Minor: major * 100} }

func passLines() []Line {
	return []Line{
		{Qty: 2, Description: "Adult, EAC citizen", Amount: kes(4000)},
		{Qty: 1, Description: "Child, EAC citizen", Amount: kes(500)},
		{Qty: 2, Description: "Adult, international (non-resident)", Amount: usd(160)},
		{Qty: 1, Description: "Tour van 7–12 seats", Amount: kes(2000)},
	}
}

func paidPass(lang string) PassSlip {
	return PassSlip{
		Lang: lang, Site: "Nairobi National Park", Gate: "Main Gate · lane 2",
		Terminal: "NNP-MAIN-02", Operator: "Wanjiru K.", PassID: fixturePassID,
		Issued: issued, ValidUntil: issued.Add(24 * time.Hour),
		Lines: passLines(), Vehicle: "KDA 123A",
		Totals: terminal.Totals{"KES": 650000, "USD": 16000},
		Tenders: []Tender{
			{Kind: "mpesa", Amount: kes(6500), Reference: "SAB3K2L9PQ"},
			{Kind: "card", Amount: usd(160), Reference: "004512"},
		},
		QR: passText,
	}
}

func duePass(lang string) PassSlip {
	p := paidPass(lang)
	p.Tenders = nil
	p.Due = terminal.Totals{"KES": 650000, "USD": 16000}
	return p
}

func receipt(lang string) Receipt {
	return Receipt{
		Lang: lang, Site: "Huduma Centre GPO", Terminal: "GPO-COUNTER-3", Operator: "Otieno",
		SaleID: "0190a3c5-0a1b-7c2d-9e3f-a0b1c2d3e4f5", Time: issued.Add(2 * time.Hour),
		Lines: []Line{
			{Qty: 1, Description: "Certificate of good conduct", Amount: kes(1050)},
			{Qty: 2, Description: "Certified copy — birth certificate (“long form”)", Amount: kes(100)},
		},
		Totals:     terminal.Totals{"KES": 115000},
		Tenders:    []Tender{{Kind: "cash", Amount: kes(2000)}},
		Change:     terminal.Totals{"KES": 85000},
		OpenDrawer: true,
	}
}

func settlement(lang string) Settlement {
	return Settlement{
		Lang: lang, Site: "Nairobi National Park", Terminal: "NNP-EXIT-01", Operator: "Chebet",
		ReceiptID: "0190a3d9-77aa-7bcd-8e0f-112233445566", Time: issued.Add(9 * time.Hour),
		PassID: fixturePassID, IssuedBy: "NNP-MAIN-02", IssuedAt: issued, Vehicle: "KDA 123A",
		Lines:   passLines(),
		Totals:  terminal.Totals{"KES": 650000, "USD": 16000},
		Tenders: []Tender{{Kind: "cash", Amount: kes(7000)}, {Kind: "card", Amount: usd(160), Reference: "771203"}},
		Change:  terminal.Totals{"KES": 50000},
	}
}

func zreport(lang string) ZReport {
	return ZReport{
		Lang: lang, Site: "Nairobi National Park", Terminal: "NNP-MAIN-02", Operator: "Wanjiru K.",
		ShiftID: "0190a3b0-0000-7000-8000-000000000001",
		Opened:  issued.Add(-15 * time.Minute), Closed: issued.Add(11 * time.Hour), Sales: 214, Voids: 2,
		ByTender: []TenderTotal{
			{Kind: "cash", Count: 61, Totals: terminal.Totals{"KES": 18250000, "USD": 48000}},
			{Kind: "mpesa", Count: 120, Totals: terminal.Totals{"KES": 40120000}},
			{Kind: "card", Count: 25, Totals: terminal.Totals{"KES": 4500000, "USD": 412000}},
			{Kind: "defer", Count: 8, Totals: terminal.Totals{"KES": 5200000}},
		},
		Float:    terminal.Totals{"KES": 500000},
		Expected: terminal.Totals{"KES": 18750000, "USD": 48000},
		Counted:  terminal.Totals{"KES": 18745000, "USD": 48000},
		Printed:  issued.Add(11*time.Hour + time.Minute),
	}
}

func testPage(lang string) TestPage {
	return TestPage{Lang: lang, Terminal: "NNP-MAIN-02", Printed: issued}
}

// zbarDecode returns the QR texts zbarimg reads in the PNG file name,
// skipping the test when zbarimg is not installed.
func zbarDecode(t *testing.T, name string) []string {
	t.Helper()
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Skip("zbarimg not installed (apt-get install zbar-tools)")
	}
	out, err := exec.Command(zbar, "--raw", "-q", "-Sdisable", "-Sqrcode.enable", name).Output()
	if err != nil {
		t.Logf("zbarimg %s: %v", name, err)
		return nil
	}
	return strings.Split(strings.TrimRight(string(out), "\n"), "\n")
}

func writePNG(t *testing.T, name string, img image.Image) {
	t.Helper()
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
