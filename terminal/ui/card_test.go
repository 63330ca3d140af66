package ui

import (
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2/widget"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/carddesk"
	"github.com/lango-pos/lango/terminal/pay/zvt"
	"github.com/lango-pos/lango/terminal/pay/zvt/zvttest"
)

// TestCardThroughPDQ: with an integrated PDQ the card tender asks for no
// approval code: Complete asks the PDQ (a ZVT emulator on a pty) to charge
// the total, waits behind a modal, and the sale records the approval the
// PDQ gave; the pending record is gone. A declined card stores nothing
// and says so. The exit lane settles a deferred pass the same way.
func TestCardThroughPDQ(t *testing.T) {
	em, link := zvttest.OnPTY(t, zvt.ModeApprove)
	prints := t.TempDir()
	db := newStore(t, "kws.json", "NNP", map[string]string{"printer": "emulator:" + prints, "pdq": "zvt:" + link})
	pending := filepath.Join(t.TempDir(), "pdq-pending.json")
	h := newHarnessOn(t, db, prints, func(o *Options) { o.Card = &carddesk.Desk{DB: db, Path: pending} })
	k := h.k
	h.login(attendant, attendantPIN)
	h.openShift("5000")
	e := k.entry

	h.plus("EAC-ADULT", 2)
	h.tap(e.tender.btn[terminal.TenderCard])
	for _, o := range e.tender.fields.Objects {
		if l, ok := o.(*widget.Label); !ok || l.Text != T("tender.card_pdq") {
			t.Errorf("the card tender shows %T with an integrated PDQ; want only the note that the PDQ charges", o)
		}
	}
	h.tap(e.complete)
	k.cards.Wait()
	if e.last == nil {
		t.Fatalf("no sale: %s", e.msg.Text)
	}
	charges := em.Charges()
	if len(charges) != 1 {
		t.Fatalf("the PDQ charged %d times; want once", len(charges))
	}
	s := e.last.Sale
	if len(s.Tenders) != 1 || s.Tenders[0].Kind != terminal.TenderCard || s.Tenders[0].Reference != charges[0].Approval ||
		s.Tenders[0].Amount != charges[0].Amount || s.Totals["KES"] != charges[0].Amount {
		t.Errorf("sale tenders %+v, totals %v; the PDQ charged %+v", s.Tenders, s.Totals, charges[0])
	}
	if _, err := os.Stat(pending); !os.IsNotExist(err) {
		t.Errorf("the pending card record is still there after the sale: %v", err)
	}

	// Declined: no sale, the reason shown, nothing stored.
	h.tap(e.next)
	em.SetMode(zvt.ModeDecline)
	before := h.counts()
	h.plus("EAC-ADULT", 1)
	h.tap(e.tender.btn[terminal.TenderCard])
	last := e.last
	h.tap(e.complete)
	k.cards.Wait()
	if e.last != last || !e.msg.isError() {
		t.Errorf("a declined card: sale %v, message %q", e.last != last, e.msg.Text)
	}
	sameCounts(t, "a declined card", before, h.counts())
	if n := len(em.Charges()); n != 1 {
		t.Errorf("the PDQ shows %d charges after a decline; want still 1", n)
	}

	// The exit lane: a deferred pass settled by card through the PDQ.
	em.SetMode(zvt.ModeApprove)
	h.tap(e.tender.btn[terminal.TenderDefer])
	h.tap(e.complete)
	if e.last == last || e.last.Sale.State != terminal.SaleDeferred {
		t.Fatalf("no deferred sale: %s", e.msg.Text)
	}
	passText := e.last.Sale.Pass
	h.tap(k.nav.exit)
	x := k.exit
	h.typeIn(x.scan, passText)
	h.enter(x.scan)
	h.tap(x.tender.btn[terminal.TenderCard])
	h.tap(x.settle)
	k.cards.Wait()
	if n := len(em.Charges()); n != 2 {
		t.Fatalf("the PDQ charged %d times; want 2 (%s)", n, x.msg.Text)
	}
	if x.msg.isError() {
		t.Errorf("settlement by card: %s", x.msg.Text)
	}
}
