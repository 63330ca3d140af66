// Package sqlitetest makes terminal stores for the tests of the packages
// built on the store (printing, the card desk, the hub's command line).
package sqlitetest

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// AdminPIN is the PIN of the admin of every store NewTerminal makes.
const AdminPIN = "1234"

// Catalogue returns the KWS catalogue of the repository's testdata.
func Catalogue(t testing.TB) []byte {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "catalogues", "kws.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// NewTerminal makes a terminal named gate-1 at Nairobi National Park
// (site NNP, the KWS catalogue) with settings, and returns it with its
// admin signed in and the admin's shift open. The store closes when the
// test ends.
func NewTerminal(t testing.TB, settings map[string]string) (*sqlite.DB, *terminal.Operator) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "lango.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Init(ctx, terminal.InitRequest{Site: "NNP", Name: "gate-1", Catalogue: Catalogue(t), AdminPIN: AdminPIN, Settings: settings}); err != nil {
		t.Fatal(err)
	}
	admin, err := db.Authenticate(ctx, "admin", AdminPIN)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.OpenShift(ctx, admin, terminal.Totals{"KES": 0}); err != nil {
		t.Fatal(err)
	}
	return db, admin
}
