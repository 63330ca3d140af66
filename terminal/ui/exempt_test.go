package ui

import (
	"testing"

	"github.com/lango-pos/lango/terminal"
)

// TestEntryExemptVisitor: a citizen of 70 and over enters free on showing
// an ID: the attendant picks the exemption, then who (only the categories
// it covers are offered), types the evidence, and the sale records the line
// at zero with the evidence; a paying adult beside them pays as before.
// Missing choices or evidence are refused beside the panel and add nothing;
// an exempt visitor added by mistake is taken off again.
func TestEntryExemptVisitor(t *testing.T) {
	h := newHarness(t)
	k := h.k
	h.login(attendant, attendantPIN)
	h.openShift("5000")
	e := k.entry
	x := e.exempt

	h.tap(x.add)
	if !x.msg.isError() || len(x.lines) != 0 {
		t.Errorf("add with nothing chosen: %q, %d lines", x.msg.Text, len(x.lines))
	}
	h.tap(x.exBtn["SENIOR70"])
	if x.whoBtn["INT-ADULT"].Visible() || !x.whoBtn["EAC-ADULT"].Visible() {
		t.Errorf("SENIOR70 offers INT-ADULT %v, EAC-ADULT %v; want citizens only", x.whoBtn["INT-ADULT"].Visible(), x.whoBtn["EAC-ADULT"].Visible())
	}
	h.tap(x.whoBtn["EAC-ADULT"])
	h.tap(x.add)
	if !x.msg.isError() || len(x.lines) != 0 {
		t.Errorf("add with no evidence: %q, %d lines", x.msg.Text, len(x.lines))
	}

	h.plus("EAC-ADULT", 1)
	paying := e.total.Text
	h.typeIn(x.evidence, "ID 12345678")
	h.tap(x.add)
	if len(x.lines) != 1 || x.msg.isError() {
		t.Fatalf("exempt visitor not added: %q", x.msg.Text)
	}
	if e.total.Text != paying {
		t.Errorf("total with the exempt senior %q; want the paying adult's alone, %q", e.total.Text, paying)
	}
	// A guide added by mistake, and taken off.
	h.tap(x.exBtn["GUIDE"])
	h.tap(x.whoBtn["EAC-ADULT"])
	h.typeIn(x.evidence, "TL-0042")
	h.tap(x.add)
	if len(x.lines) != 2 {
		t.Fatalf("guide not added: %q", x.msg.Text)
	}
	x.remove(1)
	if len(x.lines) != 1 || x.lines[0].Exemption != "SENIOR70" {
		t.Fatalf("after taking the guide off: %+v", x.lines)
	}

	h.tap(e.tender.btn[terminal.TenderCash])
	h.tap(e.complete)
	if e.last == nil {
		t.Fatalf("no sale: %s", e.msg.Text)
	}
	s := e.last.Sale
	var exempt, paid int
	for _, l := range s.Lines {
		switch {
		case l.Exemption == "SENIOR70" && l.Evidence == "ID 12345678" && l.Total == 0 && l.Code == "EAC-ADULT" && l.Qty == 1:
			exempt++
		case l.Exemption == "" && l.Code == "EAC-ADULT" && l.Total > 0:
			paid++
		default:
			t.Errorf("unexpected line %+v", l)
		}
	}
	if exempt != 1 || paid != 1 {
		t.Errorf("sale lines %+v; want one paying adult and one exempt senior with the ID seen", s.Lines)
	}
	if len(x.lines) != 0 {
		t.Errorf("the exempt visitor is still keyed for the next vehicle")
	}
}
