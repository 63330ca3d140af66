package sqlite

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/hub/hubtest"
)

// TestMigrateReportState: a hub written before migration 0015 (its events,
// no report state) opens with the state filled from its events, and its
// report is byte for byte the one the old code made by reading them all.
// reportNow is the hub's clock in the report tests: the unsettled
// passes' age is the same before and after.
func reportNow() time.Time { return time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC) }

func TestMigrateReportState(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hub.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	hubtest.ReportScenario(t, s)
	// The report as the old code made it, reading every event.
	before := hubtest.ReportJSON(t, hub.New(s, hub.Options{Now: reportNow}).RescanReport)
	// Back to the schema before 0015: the events stay, the state goes.
	for _, q := range []string{`DROP TABLE report_facts`, `DROP TABLE report_hot`, `DROP TABLE report_takings`, `DROP TABLE report_unsettled`,
		`DROP TABLE report_refused`, `DROP TABLE forward_counts`, `DROP TRIGGER forward_counted`, `DROP TRIGGER forward_recounted`, `DROP TRIGGER forward_uncounted`,
		`DROP INDEX forwards_refused`, `DELETE FROM meta WHERE key = 'report_state'`, `DELETE FROM schema_migrations WHERE name LIKE '%0015_report_state.sql'`} {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("open the store of before 0015: %v", err)
	}
	defer s.Close()
	after := hubtest.ReportJSON(t, hub.New(s, hub.Options{Now: reportNow}).Report)
	if !bytes.Equal(before, after) {
		t.Fatalf("report before the migration:\n%s\nafter:\n%s", before, after)
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM report_facts`).Scan(&n); err != nil || n == 0 {
		t.Fatalf("report facts after the migration: %d, %v", n, err)
	}
}
