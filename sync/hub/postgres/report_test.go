package postgres_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/hub/hubtest"
	"github.com/lango-pos/lango/sync/hub/postgres"
)

// TestMigrateReportState: a database written before migration 0007 (its
// events, no report state) migrates with the state filled from its
// events, and its report is byte for byte the one the old code made by
// reading them all.
// reportNow is the hub's clock in the report tests: the unsettled
// passes' age is the same before and after.
func reportNow() time.Time { return time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC) }

func TestMigrateReportState(t *testing.T) {
	ctx := context.Background()
	s, url := open(t)
	hubtest.ReportScenario(t, s)
	// The report as the old code made it, reading every event.
	before := hubtest.ReportJSON(t, hub.New(s, hub.Options{Now: reportNow}).RescanReport)
	// Back to the schema before 0007: the events stay, the state goes.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TABLE report_facts, report_hot, report_takings, report_unsettled, report_refused, forward_counts`,
		`DROP TRIGGER forward_counted ON forwards`, `DROP FUNCTION forward_count`, `DROP INDEX forwards_refused`,
		`DELETE FROM meta WHERE key = 'report_state'`, `DELETE FROM schema_migrations WHERE name = '0007_report_state.sql'`} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn.Close(ctx)
	s.Close()

	s, err = postgres.Open(ctx, url, postgres.Options{SealKey: testKey})
	if err != nil {
		t.Fatalf("migrate the database of before 0007: %v", err)
	}
	defer s.Close()
	after := hubtest.ReportJSON(t, hub.New(s, hub.Options{Now: reportNow}).Report)
	if !bytes.Equal(before, after) {
		t.Fatalf("report before the migration:\n%s\nafter:\n%s", before, after)
	}
}
