package carddesk_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/carddesk"
	"github.com/lango-pos/lango/terminal/pay/zvt"
	"github.com/lango-pos/lango/terminal/pay/zvt/zvttest"
	"github.com/lango-pos/lango/terminal/sqlite"
	"github.com/lango-pos/lango/terminal/sqlite/sqlitetest"
)

func newDesk(t *testing.T, mode zvt.Mode) (*carddesk.Desk, *zvt.Emulator, *terminal.Operator) {
	t.Helper()
	em, link := zvttest.OnPTY(t, mode)
	db, admin := sqlitetest.NewTerminal(t, map[string]string{"pdq": "zvt:" + link})
	return &carddesk.Desk{DB: db, Path: filepath.Join(t.TempDir(), "pdq-pending.json")}, em, admin
}

var adults = terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 2}}, Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCard}}}

// TestChargeThenCrash: the PDQ charges, and the till dies before the sale
// is committed: the pending record is on disk, and Recover completes the
// sale once, with the PDQ's approval; a second Recover finds nothing.
func TestChargeThenCrash(t *testing.T) {
	ctx := context.Background()
	d, em, admin := newDesk(t, zvt.ModeApprove)
	var announced terminal.Money
	bound, done, err := d.ChargeSale(ctx, admin, adults, func(m terminal.Money) { announced = m })
	if err != nil {
		t.Fatal(err)
	}
	charges := em.Charges()
	if len(charges) != 1 || announced.Minor != charges[0].Amount || bound.Tenders[0].Reference != charges[0].Approval || done == nil {
		t.Fatalf("charges %+v, announced %v, tenders %+v", charges, announced, bound.Tenders)
	}
	if _, err := os.Stat(d.Path); err != nil {
		t.Fatalf("no pending record while the sale is not committed: %v", err)
	}
	// The till dies here: the sale was never committed, done never called.
	rec, err := d.Recover(ctx)
	if err != nil || rec.Outcome != "charged" || rec.Sale == nil || rec.Sale.Tenders[0].Reference != charges[0].Approval {
		t.Fatalf("recover: %+v %v", rec, err)
	}
	if got, want := rec.Sale.Tenders[0].Amount, charges[0].Amount; got != want {
		t.Errorf("recovered sale's card tender %d; want the PDQ's charge %d", got, want)
	}
	if rec, err := d.Recover(ctx); err != nil || rec.Outcome != "none" {
		t.Errorf("a second recover: %+v %v; want none", rec, err)
	}
	if n := len(em.Charges()); n != 1 {
		t.Errorf("the PDQ charged %d times; want once", n)
	}
	n, _ := store(d).Counts(ctx)
	if n["sales"] != 1 {
		t.Errorf("%d sales; want the one the card paid", n["sales"])
	}
}

// TestChargeDeclined: a declined card leaves no pending record and an
// error; nothing else is stored.
func TestChargeDeclined(t *testing.T) {
	ctx := context.Background()
	d, _, admin := newDesk(t, zvt.ModeDecline)
	before, _ := store(d).Counts(ctx)
	if _, _, err := d.ChargeSale(ctx, admin, adults, nil); err == nil {
		t.Fatal("a declined card was taken")
	}
	if _, err := os.Stat(d.Path); !os.IsNotExist(err) {
		t.Errorf("a pending record after a decline: %v", err)
	}
	after, _ := store(d).Counts(ctx)
	for k, n := range before {
		if after[k] != n {
			t.Errorf("%s: %d → %d rows after a decline", k, n, after[k])
		}
	}
}

// TestNoIntegratedPDQ: with the PDQ keyed by hand, a card tender without a
// code is refused with what to do.
func TestNoIntegratedPDQ(t *testing.T) {
	ctx := context.Background()
	d, _, admin := newDesk(t, zvt.ModeApprove)
	if _, err := store(d).SetSetting(ctx, "admin", "pdq", "manual"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.ChargeSale(ctx, admin, adults, nil); terminal.ErrorKind(err) != terminal.EINVALID {
		t.Errorf("no integrated PDQ: %v; want a refusal", err)
	}
}

// switchCatalogue installs, as sync would, a catalogue whose KES 2,000
// prices are KES 2,500.
func switchCatalogue(t *testing.T, d *carddesk.Desk) {
	t.Helper()
	raw := strings.ReplaceAll(string(sqlitetest.Catalogue(t)), `"KES": 200000}`, `"KES": 250000}`)
	raw = strings.Replace(raw, `"KWS-2024.1"`, `"KWS-2024.2"`, 1)
	cat, err := terminal.ParseCatalogue([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := store(d).ApplyHubCatalogue(context.Background(), cat, 1); err != nil {
		t.Fatal(err)
	}
}

// Issue 12: "The card charge is not bound to the recorded tender." The
// tender a card sale records is what the PDQ answered it charged, amount
// and currency, and a request bound to that charge is refused rather
// than recorded at a price that changed after it.
func TestCardChargeIsBoundToTheRecordedTender(t *testing.T) {
	ctx := context.Background()
	d, em, admin := newDesk(t, zvt.ModeApprove)
	iss, err := store(d).PassIssuer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Sell(ctx, admin, adults, nil)
	if err != nil {
		t.Fatal(err)
	}
	charges := em.Charges()
	if len(charges) != 1 {
		t.Fatalf("got %d charges; want 1", len(charges))
	}
	tender := res.Sale.Tenders[0]
	if got, want := (terminal.Money{Currency: tender.Currency, Minor: tender.Amount}), (terminal.Money{Currency: charges[0].Currency, Minor: charges[0].Amount}); got != want {
		t.Errorf("card tender %v; want the PDQ's charge %v", got, want)
	}
	if got, want := tender.Amount, res.Sale.Totals[tender.Currency]; got != want {
		t.Errorf("card tender %d; want the sale's total %d", got, want)
	}
	if _, err := os.Stat(d.Path); !os.IsNotExist(err) {
		t.Errorf("pending record after the sale committed: %v", err)
	}

	// Charged, then the catalogue switches before the commit: the bound
	// request is refused (ECONFLICT), never recorded at the new price.
	bound, _, err := d.ChargeSale(ctx, admin, adults, nil)
	if err != nil {
		t.Fatal(err)
	}
	switchCatalogue(t, d)
	before, _ := store(d).Counts(ctx)
	if _, err := store(d).Sell(ctx, admin, bound, iss); terminal.ErrorKind(err) != terminal.ECONFLICT {
		t.Errorf("bound request after a price change: %v; want ECONFLICT", err)
	}
	// The till dies here; recovery finds the charge and says it cannot be
	// recorded at the new price, keeping the pending record.
	_, err = d.Recover(ctx)
	if terminal.ErrorKind(err) != terminal.ECONFLICT || !strings.Contains(terminal.ErrorMessage(err), "the card was charged KES") {
		t.Errorf("recover after a price change: %v; want ECONFLICT saying the card was charged", err)
	}
	if _, err := os.Stat(d.Path); err != nil {
		t.Errorf("pending record gone while the charge is not recorded: %v", err)
	}
	after, _ := store(d).Counts(ctx)
	for k, n := range before {
		if after[k] != n {
			t.Errorf("%s: %d → %d rows after the refusal", k, n, after[k])
		}
	}
}

// A price that changed between the quote the customer was given and the
// charge is refused before the PDQ is asked for anything.
func TestCardPriceChangeRefusedBeforeCharge(t *testing.T) {
	ctx := context.Background()
	d, em, admin := newDesk(t, zvt.ModeApprove)
	cat, err := store(d).Catalogue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id, err := store(d).Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	quote, err := cat.Price(store(d).Now(), id.Site, adults.Lines)
	if err != nil {
		t.Fatal(err)
	}
	req := adults
	req.Quoted = quote.Totals
	switchCatalogue(t, d)
	before, _ := store(d).Counts(ctx)
	_, err = d.Sell(ctx, admin, req, nil)
	if terminal.ErrorKind(err) != terminal.ECONFLICT || !strings.Contains(terminal.ErrorMessage(err), "prices changed") {
		t.Errorf("sell after a price change: %v; want ECONFLICT saying the prices changed", err)
	}
	if n := len(em.Journal()); n != 0 {
		t.Errorf("the PDQ saw %d authorisations; want none", n)
	}
	if _, err := os.Stat(d.Path); !os.IsNotExist(err) {
		t.Errorf("a pending record for a refused sale: %v", err)
	}
	after, _ := store(d).Counts(ctx)
	for k, n := range before {
		if after[k] != n {
			t.Errorf("%s: %d → %d rows after the refusal", k, n, after[k])
		}
	}
	// Quoted again at the new price, it sells.
	quote2, err := func() (terminal.Priced, error) {
		c, err := store(d).Catalogue(ctx)
		if err != nil {
			return terminal.Priced{}, err
		}
		return c.Price(store(d).Now(), id.Site, adults.Lines)
	}()
	if err != nil {
		t.Fatal(err)
	}
	if quote2.Totals.String() == quote.Totals.String() {
		t.Fatalf("the switched catalogue prices %v like the old one", quote2.Totals)
	}
	req.Quoted = quote2.Totals
	if _, err := d.Sell(ctx, admin, req, nil); err != nil {
		t.Errorf("sell at the new quote: %v", err)
	}
	if n := len(em.Charges()); n != 1 {
		t.Errorf("got %d charges; want 1", n)
	}
}

// A sale or settlement with no card to charge that Sell or Settle refuses
// is refused with their message: no card was charged, so nothing says one
// was ("the card but the payment could not be recorded: …" came before
// every refusal of the command line).
func TestRefusalWithoutCardIsNotAChargedCard(t *testing.T) {
	ctx := context.Background()
	d, _, admin := newDesk(t, zvt.ModeApprove)
	_, err := d.Sell(ctx, admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "NOPE", Qty: 1}}, Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCash}}}, nil)
	if msg := terminal.ErrorMessage(err); !strings.HasPrefix(msg, `unknown item "NOPE"`) || terminal.ErrorKind(err) != terminal.EINVALID {
		t.Errorf("cash sale of an unknown item: %q (%s); want Sell's own refusal", msg, terminal.ErrorKind(err))
	}
	_, err = d.Settle(ctx, admin, "LG1:123", []terminal.TenderRequest{{Kind: terminal.TenderCash}}, nil)
	if msg := terminal.ErrorMessage(err); err == nil || strings.Contains(msg, "card") {
		t.Errorf("cash settlement of a bad pass: %v; want a refusal that names no card", err)
	}
}

// store is the desk's store as the tests made it.
func store(d *carddesk.Desk) *sqlite.DB { return d.DB.(*sqlite.DB) }
