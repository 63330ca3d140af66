package printing_test

import (
	"testing"
	"time"

	"github.com/lango-pos/lango/printer"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/printing"
)

// TestDocumentsCarryWhatTheSlipsPrint (issue 18's slips): the exit
// receipt names the plate as it is keyed, not as the pass carries it, and
// carries the rate a USD due was paid at in shillings; a pass paid in cash
// carries the change given.
func TestDocumentsCarryWhatTheSlipsPrint(t *testing.T) {
	at := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	st := &terminal.Settlement{ID: "0190a3d9-77aa-7bcd-8e0f-112233445566", PassID: "0190a3c4-5e6f-7abc-8d9e-f0123456789a", At: at,
		Plate: "KDA001X", Totals: terminal.Totals{"USD": 2000},
		Tenders:     []terminal.Tender{{Kind: terminal.TenderCash, Currency: "KES", Amount: 259000}},
		Conversions: []terminal.Conversion{{From: "USD", To: "KES", Amount: 2000, Converted: 259000, Rate: "129.5"}}}
	doc := printing.SettlementDocument(st, "Nairobi National Park", "exit-1", "en", false).(*printer.Settlement)
	if doc.Vehicle != "KDA 001X" {
		t.Errorf("exit receipt's vehicle %q; want KDA 001X, as the pass slip and the screens write it", doc.Vehicle)
	}
	if len(doc.Conversions) != 1 || doc.Conversions[0].Rate != "129.5" || doc.Conversions[0].From != (terminal.Money{Currency: "USD", Minor: 2000}) ||
		doc.Conversions[0].To != (terminal.Money{Currency: "KES", Minor: 259000}) {
		t.Errorf("exit receipt's conversions %+v; want USD 20.00 = KES 2,590.00 at 129.5", doc.Conversions)
	}

	s := &terminal.Sale{ID: "0190a3c4-5e6f-7abc-8d9e-f0123456789a", At: at, State: terminal.SalePaid, Vehicle: "KDA 001X", Pass: "LG1:…",
		Totals:  terminal.Totals{"KES": 530000},
		Tenders: []terminal.Tender{{Kind: terminal.TenderCash, Currency: "KES", Amount: 530000, Change: 20000}}}
	cat := &terminal.Catalogue{PassHours: 24}
	pass := printing.SaleDocument(s, cat, "Nairobi National Park", "gate-1", "en", false).(*printer.PassSlip)
	if pass.Change["KES"] != 20000 || pass.Vehicle != "KDA 001X" {
		t.Errorf("pass slip's change %v, vehicle %q; want KES 200.00 and KDA 001X", pass.Change, pass.Vehicle)
	}
}
