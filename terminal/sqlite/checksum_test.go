package sqlite_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lango-pos/lango/internal/sqlitefile"
	"github.com/lango-pos/lango/terminal"
)

// storeChecksum hashes every row of every table of the store file at path,
// through a connection of its own: equal sums mean the store is byte for
// byte the same, as far as any reader can tell.
func storeChecksum(t testing.TB, path string) string {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite", sqlitefile.DSN(path, true))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	h := sha256.New()
	for _, tb := range tables {
		r, err := db.QueryContext(ctx, `SELECT * FROM "`+tb+`"`)
		if err != nil {
			t.Fatalf("checksum %s: %v", tb, err)
		}
		cols, _ := r.Columns()
		var lines []string
		for r.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := r.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, v := range vals {
				switch v := v.(type) {
				case []byte:
					fmt.Fprintf(&b, "x%x|", v)
				default:
					fmt.Fprintf(&b, "%T:%v|", v, v)
				}
			}
			lines = append(lines, b.String())
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		r.Close()
		slices.Sort(lines) // row order: independent of the query plan
		fmt.Fprintf(h, "table %s %d\n", tb, len(lines))
		for _, l := range lines {
			fmt.Fprintln(h, l)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// refusedSale sells req and wants a refusal of kind whose message contains
// every one of want, with the store unchanged.
func refusedSale(t *testing.T, f *fixture, iss terminal.PassIssuer, req terminal.SaleRequest, kind string, want ...string) {
	t.Helper()
	before := storeChecksum(t, f.path)
	res, err := f.db.Sell(context.Background(), f.admin, req, iss)
	if err == nil {
		t.Fatalf("Sell succeeded (%v); want a refusal containing %q", res.Sale, want)
	}
	if k := terminal.ErrorKind(err); k != kind {
		t.Errorf("kind = %q (%v); want %q", k, err, kind)
	}
	msg := terminal.ErrorMessage(err)
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("message %q; want it to contain %q", msg, w)
		}
	}
	if strings.Contains(msg, "internal error") {
		t.Errorf("message %q is an internal error", msg)
	}
	if after := storeChecksum(t, f.path); after != before {
		t.Errorf("the store changed after a refused sale")
	}
}

func issuer(t testing.TB, f *fixture) terminal.PassIssuer {
	t.Helper()
	iss, err := f.db.PassIssuer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return iss
}
