package printing_test

import (
	"context"
	"testing"

	"github.com/lango-pos/lango/printer"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/printing"
	"github.com/lango-pos/lango/terminal/sqlite/sqlitetest"
)

// TestQueueFollowsLanguageSetting: a queue with no fixed language lays out
// each job in the terminal's language setting when it prints, so a switch
// to Swahili in the kiosk shows on the next slip, not after a restart.
func TestQueueFollowsLanguageSetting(t *testing.T) {
	ctx := context.Background()
	db, admin := sqlitetest.NewTerminal(t, map[string]string{"printer": "emulator:" + t.TempDir()})
	if _, err := db.Sell(ctx, admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 1}},
		Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCash}}}, nil); err != nil {
		t.Fatal(err)
	}
	job, ok, err := db.NextPrintJob(ctx)
	if err != nil || !ok {
		t.Fatalf("no print job: %v", err)
	}
	prof, _ := printer.LookupProfile("")
	q := &printing.Queue{DB: db, Profile: prof}
	langOf := func() string {
		t.Helper()
		doc, err := q.Document(ctx, job)
		if err != nil {
			t.Fatal(err)
		}
		r, ok := doc.(*printer.Receipt)
		if !ok {
			t.Fatalf("a cash sale's document is a %T", doc)
		}
		return r.Lang
	}
	if got := langOf(); got != "en" {
		t.Errorf("before the switch: %q; want en", got)
	}
	if _, err := db.SetSetting(ctx, "admin", "language", "sw"); err != nil {
		t.Fatal(err)
	}
	if got := langOf(); got != "sw" {
		t.Errorf("after the switch to Swahili: %q; want sw", got)
	}
	q.Lang = "en"
	if got := langOf(); got != "en" {
		t.Errorf("with the queue's language fixed: %q; want en", got)
	}
}
