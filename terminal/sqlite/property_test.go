package sqlite_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
	"github.com/lango-pos/lango/terminal/sqlite/sqlitetest"
)

// notInternal fails if err is an internal error, by kind or by message.
func notInternal(t *testing.T, what string, err error, detail any) {
	t.Helper()
	if err == nil {
		return
	}
	if k := terminal.ErrorKind(err); k == terminal.EINTERNAL || k == "" || strings.Contains(terminal.ErrorMessage(err), "internal error") {
		t.Fatalf("%s: an internal error for input: %v\n%+v", what, err, detail)
	}
}

// TestRandomCataloguesAndSalesNeverInternal: random catalogues that pass
// validation (sqlitetest.RandomCatalogue) × random sale requests
// (sqlitetest.RandomSale: items, repeated lines, odd quantities, plates,
// exemptions, tenders in several currencies) never make Sell or Settle
// return an internal error, and every refusal leaves the store byte for
// byte as it was (a checksum of every row of every table).
func TestRandomCataloguesAndSalesNeverInternal(t *testing.T) {
	ctx := context.Background()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 7))
	const catalogues, salesEach = 12, 30
	var sold, refused, settled, settleRefused, bad int
	for used := 0; used < catalogues; {
		park := r.IntN(4) != 0
		body := sqlitetest.RandomCatalogue(r, "NNP", park)
		cat, err := terminal.ParseCatalogue(body)
		if err != nil {
			bad++
			notInternal(t, "ParseCatalogue", err, string(body))
			continue
		}
		path := filepath.Join(t.TempDir(), "lango.db")
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		db.Now = fakeClock()
		_, err = db.Init(ctx, terminal.InitRequest{Site: "NNP", Name: "gate-1", Catalogue: body, AdminPIN: "1234"})
		if err != nil {
			db.Close()
			bad++
			notInternal(t, "Init", err, string(body))
			continue
		}
		used++
		admin, err := db.Authenticate(ctx, "admin", "1234")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.OpenShift(ctx, admin, terminal.Totals{}); err != nil {
			t.Fatal(err)
		}
		iss, err := db.PassIssuer(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for range salesEach {
			req := sqlitetest.RandomSale(r, cat, "NNP")
			before := storeChecksum(t, path)
			res, err := db.Sell(ctx, admin, req, iss)
			notInternal(t, "Sell", err, req)
			if err != nil {
				refused++
				if testing.Verbose() && refused%10 == 0 {
					t.Logf("refused: %v", err)
				}
				if storeChecksum(t, path) != before {
					t.Fatalf("a refused sale (%v) changed the store: %+v", err, req)
				}
				continue
			}
			sold++
			if res.Sale.State != terminal.SaleDeferred || res.Sale.Pass == "" {
				continue
			}
			// Settle the deferred pass with tenders of the same generator.
			tenders := sqlitetest.RandomSale(r, cat, "NNP").Tenders
			before = storeChecksum(t, path)
			_, err = db.Settle(ctx, admin, res.Sale.Pass, tenders)
			notInternal(t, "Settle", err, tenders)
			if err != nil {
				settleRefused++
				if storeChecksum(t, path) != before {
					t.Fatalf("a refused settlement (%v) changed the store: %+v", err, tenders)
				}
				continue
			}
			settled++
		}
		db.Close()
	}
	t.Logf("%d catalogues refused; sales: %d sold, %d refused; settlements: %d, %d refused", bad, sold, refused, settled, settleRefused)
	if sold == 0 || refused == 0 {
		t.Fatalf("the generator made %d sales and %d refusals: it tests too little", sold, refused)
	}
}
