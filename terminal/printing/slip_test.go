package printing_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/lango-pos/lango/printer"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
	"github.com/lango-pos/lango/terminal/printing"
	"github.com/lango-pos/lango/terminal/sqlite/sqlitetest"
)

// TestReprintMatchesItsQRCode: a pass reprinted after sync switched to a
// catalogue with another pass validity prints the times its QR code
// carries, not ones computed from the catalogue active now.
func TestReprintMatchesItsQRCode(t *testing.T) {
	ctx := context.Background()
	db, admin := sqlitetest.NewTerminal(t, map[string]string{"printer": "emulator:" + t.TempDir()})
	iss, err := db.PassIssuer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := db.Sell(ctx, admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 2}},
		Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCash}}}, iss)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sale.Pass == "" {
		t.Fatal("the sale issued no pass")
	}
	signed, err := pass.ParseText(res.Sale.Pass)
	if err != nil {
		t.Fatal(err)
	}
	body := bytes.Replace(sqlitetest.Catalogue(t), []byte(`"version": "KWS-2024.1",`), []byte(`"version": "KWS-2024.2",`), 1)
	body = bytes.Replace(body, []byte(`"pass_hours": 24,`), []byte(`"pass_hours": 6,`), 1)
	cat, err := terminal.ParseCatalogue(body)
	if err != nil {
		t.Fatal(err)
	}
	if cat.PassHours != 6 {
		t.Fatalf("the new catalogue's pass hours: %d", cat.PassHours)
	}
	if err := db.LoadCatalogue(ctx, cat); err != nil {
		t.Fatal(err)
	}
	job, ok, err := db.NextPrintJob(ctx)
	if err != nil || !ok {
		t.Fatalf("no print job: %v", err)
	}
	prof, _ := printer.LookupProfile("")
	doc, err := (&printing.Queue{DB: db, Profile: prof}).Document(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	slip, ok := doc.(*printer.PassSlip)
	if !ok {
		t.Fatalf("the sale's document is a %T", doc)
	}
	if !slip.ValidUntil.Equal(signed.ValidUntil) || !slip.Issued.Equal(signed.IssuedAt) {
		t.Errorf("slip: issued %v, valid until %v; the QR code says %v, %v", slip.Issued, slip.ValidUntil, signed.IssuedAt, signed.ValidUntil)
	}
	if signed.ValidUntil.Sub(signed.IssuedAt) < 7*3600e9 {
		t.Fatalf("the pass was issued with %v of validity; the test needs the old catalogue's longer one", signed.ValidUntil.Sub(signed.IssuedAt))
	}
}
