package printing_test

import (
	"context"
	"testing"

	"github.com/lango-pos/lango/printer"
	"github.com/lango-pos/lango/printer/escpos"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/printing"
	"github.com/lango-pos/lango/terminal/sqlite"
	"github.com/lango-pos/lango/terminal/sqlite/sqlitetest"
)

// TestQueueKeepsResumePoint: where an interrupted job stopped is kept in
// the store, across a reopen, and used only while the job lays out to the
// same bytes (a switch of language prints it whole).
func TestQueueKeepsResumePoint(t *testing.T) {
	ctx := context.Background()
	db, admin := sqlitetest.NewTerminal(t, map[string]string{"printer": "emulator:" + t.TempDir()})
	if _, err := db.Sell(ctx, admin, terminal.SaleRequest{Lines: []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 1}},
		Tenders: []terminal.TenderRequest{{Kind: terminal.TenderCash}}}, nil); err != nil {
		t.Fatal(err)
	}
	prof, _ := printer.LookupProfile("")
	q := &printing.Queue{DB: db, Profile: prof}
	job, ok, err := q.NextJob(ctx)
	if err != nil || !ok || job.From != 0 {
		t.Fatalf("next job: %+v %v %v; want a job from 0", job.From, ok, err)
	}
	at := escpos.StopPoint(job.Data, len(job.Data)/2)
	if err := q.MarkInterrupted(ctx, job, at); err != nil {
		t.Fatal(err)
	}
	path := db.Path()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db2.Close() })
	q = &printing.Queue{DB: db2, Profile: prof}
	again, ok, err := q.NextJob(ctx)
	if err != nil || !ok {
		t.Fatalf("next job after reopen: %v %v", ok, err)
	}
	if again.ID != job.ID || again.From != at || again.Attempts != 1 {
		t.Errorf("after reopen: job %s from %d, %d attempts; want %s from %d, 1 attempt", again.ID, again.From, again.Attempts, job.ID, at)
	}
	if _, err := db2.SetSetting(ctx, "admin", "language", "sw"); err != nil {
		t.Fatal(err)
	}
	sw, _, err := q.NextJob(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sw.From != 0 {
		t.Errorf("laid out in Swahili, the job resumes at %d; want 0 (other bytes)", sw.From)
	}
}
