package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/lango-pos/lango/internal/pgtest"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/hub/hubtest"
	"github.com/lango-pos/lango/sync/hub/postgres"
)

// server is the PostgreSQL server of this package's tests (pgtest.Main).
var server *pgtest.Server

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m, &server)) }

// testKey seals the authority keys in tests.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// open opens a store on a fresh database.
func open(t testing.TB) (*postgres.Store, string) {
	t.Helper()
	url := server.NewDatabase(t)
	s, err := postgres.Open(context.Background(), url, postgres.Options{SealKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	return s, url
}

// TestConforms: the PostgreSQL store behaves as the Store interface says
// (hubtest.StoreSemantics, the suite every store runs), each subtest on a
// database of its own.
func TestConforms(t *testing.T) {
	hubtest.StoreSemantics(t, func(t *testing.T) hub.Store {
		s, _ := open(t)
		return s
	})
}
