package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/hub/hubtest"
	"github.com/lango-pos/lango/sync/hub/sqlite"
)

// TestConforms: the embedded store behaves as the Store interface says
// (hubtest.StoreSemantics, the suite every store runs).
func TestConforms(t *testing.T) {
	hubtest.StoreSemantics(t, func(t *testing.T) hub.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hub.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
