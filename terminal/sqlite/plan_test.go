package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestHistoryQueriesReadARange: the reads that once scanned every sale
// (the Z-report's, a listing since a time) search a range of the sales'
// rowid, as SQLite's own query plan says, so their cost follows what they
// answer, not the size of the store.
func TestHistoryQueriesReadARange(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "lango.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []struct{ name, sql string }{
		{"the shift's tenders", `SELECT s.state = 'voided', ` + saleCols + saleFrom + ` WHERE ` + shiftSales + ` ORDER BY s.number`},
		{"the shift's sales", `SELECT s.kind, s.state, e.payload FROM sales s JOIN events e ON e.seq = s.event_seq WHERE ` + shiftSales},
		{"the shift's settlements", `SELECT doc FROM settlements WHERE ` + shiftSettlements + ` ORDER BY at`},
		{"the shift's open passes", sqlUnsettledShift},
		{"the passes owed", sqlUnsettled},
		{"sales since", `SELECT ` + saleCols + saleFrom + ` WHERE s.number >= ? AND s.at >= ? AND s.at < ? ORDER BY s.number LIMIT ?`},
	} {
		rows, err := db.SQL().QueryContext(ctx, `EXPLAIN QUERY PLAN `+q.sql, "x", "x", "x", -1)
		if err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		all := strings.Join(plan, "; ")
		// The partial index of deferred sales holds only those: a scan
		// or a range of it reads no paid sale.
		rest := strings.ReplaceAll(all, "SCAN s USING INDEX sales_deferred", "")
		ranged := strings.Contains(all, "INTEGER PRIMARY KEY (rowid>?)") || strings.Contains(all, "USING INDEX sales_deferred")
		if !ranged || strings.Contains(rest, "SCAN s") || strings.Contains(all, "SCAN settlements") {
			t.Errorf("%s: the plan is %q; want a search of a rowid range or of the deferred sales", q.name, all)
		}
	}
}
