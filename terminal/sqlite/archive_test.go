package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// archiveFixture is a store with 20 sales made "long ago" and 5 made three
// days later, every event acknowledged by the hub, and the clock at the
// time of the last: with a retention of two days, the first 20 sales (and
// the events before them) are archived, the last 5 stay.
type archiveFixture struct {
	*fixture
	old, recent []*terminal.Sale
	now         time.Time
	chain       map[int64]string // seq → hash, before any archive
	head        int64
}

const archiveRetention = 2 * 24 * time.Hour

func newArchiveFixture(t *testing.T) *archiveFixture {
	t.Helper()
	ctx := context.Background()
	f := newTerminal(t, map[string]string{"printer": "emulator:" + t.TempDir()})
	clock := outageDay.Add(time.Hour)
	f.db.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
	a := &archiveFixture{fixture: f}
	sell := func(pay string) *terminal.Sale {
		res, err := f.db.SellSigned(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Vehicle: "KCB 123A", Tenders: mustTender(t, pay)})
		if err != nil {
			t.Fatal(err)
		}
		return res.Sale
	}
	for i := range 20 {
		a.old = append(a.old, sell([]string{"cash", "defer"}[i%2]))
	}
	if _, err := f.db.Void(ctx, f.admin, a.old[4].ID, "wrong party"); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(3 * 24 * time.Hour)
	for range 5 {
		a.recent = append(a.recent, sell("cash"))
	}
	if _, err := f.db.Void(ctx, f.admin, a.old[6].ID, "a void after the cutoff of a sale before it"); err != nil {
		t.Fatal(err)
	}
	a.now = clock
	f.db.Now = func() time.Time { return a.now }
	evs, err := f.db.Events(ctx, 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	a.chain = map[int64]string{}
	for _, e := range evs {
		a.chain[e.Seq] = e.Hash
		a.head = e.Seq
	}
	if err := f.db.SyncAcked(ctx, "hub-1", a.head); err != nil {
		t.Fatal(err)
	}
	return a
}

// checkWhole checks that the store and its archive hold every event of
// the chain exactly once, unchanged, and that the audit passes.
func (a *archiveFixture) checkWhole(t *testing.T, db *sqlite.DB) {
	t.Helper()
	ctx := context.Background()
	if ok, err := db.IntegrityCheck(ctx); err != nil || ok != "ok" {
		t.Fatalf("integrity_check = %q, %v", ok, err)
	}
	evs, err := db.Events(ctx, 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(evs)) != a.head {
		t.Fatalf("%d events in the store and its archive; want %d", len(evs), a.head)
	}
	for i, e := range evs {
		if e.Seq != int64(i+1) || e.Hash != a.chain[e.Seq] {
			t.Fatalf("event %d: seq %d hash %s; want seq %d hash %s", i, e.Seq, e.Hash, i+1, a.chain[int64(i+1)])
		}
	}
	if err := db.VerifyAudit(ctx); err != nil {
		t.Fatalf("audit: %v", err)
	}
}

func liveEvents(t *testing.T, db *sqlite.DB) (n int, first int64) {
	t.Helper()
	if err := db.SQL().QueryRow(`SELECT count(*), coalesce(min(seq), 0) FROM events`).Scan(&n, &first); err != nil {
		t.Fatal(err)
	}
	return n, first
}

// TestArchiveKeepsTheChain: an archive run moves the old, acknowledged
// events to a file and deletes them from the store; the audit still passes
// across the boundary, sync still reads the archived events, sales within
// the retention still reprint, and the sales before it keep their rows.
func TestArchiveKeepsTheChain(t *testing.T) {
	ctx := context.Background()
	a := newArchiveFixture(t)
	db := a.db

	// Nothing the hub does not hold is archived, however old.
	if err := db.SyncAcked(ctx, "hub-1", 3); err != nil {
		t.Fatal(err)
	}
	res, err := db.Archive(ctx, archiveRetention)
	if err != nil {
		t.Fatal(err)
	}
	if res.Through != 3 {
		t.Fatalf("with the hub holding 3 events, archived through %d; want 3", res.Through)
	}
	if err := db.SyncAcked(ctx, "hub-1", a.head); err != nil {
		t.Fatal(err)
	}
	res, err = db.Archive(ctx, archiveRetention)
	if err != nil {
		t.Fatal(err)
	}
	firstRecent := a.recent[0]
	var recentSeq int64
	db.SQL().QueryRow(`SELECT event_seq FROM sales WHERE id = ?`, firstRecent.ID).Scan(&recentSeq)
	if res.Through != recentSeq-1 || len(res.Files) != 1 {
		t.Fatalf("archived through %d in %v; want through %d (the event before the first recent sale) in one file", res.Through, res.Files, recentSeq-1)
	}
	if n, first := liveEvents(t, db); first != recentSeq || int64(n) != a.head-recentSeq+1 {
		t.Fatalf("the store holds %d events from %d; want %d from %d", n, first, a.head-recentSeq+1, recentSeq)
	}
	var rows int
	db.SQL().QueryRow(`SELECT count(*) FROM sales`).Scan(&rows)
	if rows != 25 {
		t.Fatalf("%d sale rows; want 25 (the archived sales keep a compact row)", rows)
	}
	a.checkWhole(t, db)
	// A hub restored from an old backup is reconciled against the
	// archived chain.
	if h, err := db.EventHash(ctx, 5); err != nil || h != a.chain[5] {
		t.Fatalf("hash of archived event 5: %q, %v; want %q", h, err, a.chain[5])
	}
	// A new store gives the freed pages back: the file shrank.
	var av int
	if err := db.SQL().QueryRow(`PRAGMA auto_vacuum`).Scan(&av); err != nil || av != 2 {
		t.Fatalf("auto_vacuum of a new store = %d, %v; want 2 (incremental)", av, err)
	}
	if res.Freed <= 0 {
		t.Errorf("the archive run freed %d bytes of the store's file; want some", res.Freed)
	}
	// The store's connection enforces foreign keys again.
	var fk int
	if err := db.SQL().QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys after an archive run = %d, %v; want 1", fk, err)
	}
	// A second run finds nothing more to do.
	if res, err := db.Archive(ctx, archiveRetention); err != nil || res.Events != 0 {
		t.Fatalf("second run: %+v, %v; want nothing archived", res, err)
	}

	// Within the retention a sale reprints; before it the sale is named as
	// archived, not as unknown.
	if _, err := db.Reprint(ctx, a.admin, firstRecent.ID); err != nil {
		t.Fatalf("reprint of a sale within the retention: %v", err)
	}
	// Before it, too: the document is read back from the archive file, the
	// state from the row.
	if _, err := db.Reprint(ctx, a.admin, a.old[0].ID); err != nil {
		t.Fatalf("reprint of an archived sale: %v", err)
	}
	for _, want := range []*terminal.Sale{a.old[0], a.old[6]} {
		got, err := db.Sale(ctx, want.ID)
		if err != nil || got.Pass != want.Pass || got.Number != want.Number || got.Totals.String() != want.Totals.String() {
			t.Fatalf("archived sale %d: %+v, %v; want it as sold", want.Number, got, err)
		}
	}
	if got, _ := db.Sale(ctx, a.old[6].ID); got.State != terminal.SaleVoided || got.Void == nil {
		t.Fatalf("archived sale voided since: state %s, void %v; want voided with its void", got.State, got.Void)
	}
	// The listing shows what the store holds.
	var listed int
	if err := db.EachSale(ctx, terminal.SaleQuery{}, func(*terminal.Sale) error { listed++; return nil }); err != nil || listed != 5 {
		t.Fatalf("listed %d sales (%v); want the 5 within the retention", listed, err)
	}
	// New events continue the chain from the head left in the store.
	if _, err := db.SellSigned(ctx, a.admin, terminal.SaleRequest{Lines: familyCar(), Vehicle: "KCB 124A", Tenders: mustTender(t, "cash")}); err != nil {
		t.Fatal(err)
	}
	if err := db.VerifyAudit(ctx); err != nil {
		t.Fatalf("audit after a sale past the archive: %v", err)
	}
	// From the signed checkpoint, too.
	if err := db.VerifyAuditSince(ctx, res.Through, nil); err != nil {
		t.Fatalf("audit --since %d: %v", res.Through, err)
	}
	if err := db.VerifyAuditSince(ctx, 2, nil); terminal.ErrorKind(err) != terminal.EINVALID {
		t.Fatalf("audit --since a seq with no checkpoint: %v; want EINVALID", err)
	}
	// Archived events are still deleted only by the archive.
	if _, err := db.SQL().Exec(`DELETE FROM events WHERE seq = ?`, recentSeq); err == nil {
		t.Fatal("a live event was deleted")
	}
}

// TestAuditNamesAnEditedArchive: a byte edited inside an archive file, a
// forged checkpoint, a missing file, or an archived sale's row edited is
// named by the audit.
func TestAuditNamesAnEditedArchive(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (*archiveFixture, string) {
		a := newArchiveFixture(t)
		res, err := a.db.Archive(ctx, archiveRetention)
		if err != nil || len(res.Files) != 1 {
			t.Fatalf("archive: %+v, %v", res, err)
		}
		if err := a.db.VerifyAudit(ctx); err != nil {
			t.Fatalf("audit of an untouched archive: %v", err)
		}
		return a, filepath.Join(sqlite.ArchiveDir(a.path), res.Files[0])
	}
	named := func(t *testing.T, db *sqlite.DB, table, row string) {
		t.Helper()
		var ae *terminal.AuditError
		if err := db.VerifyAudit(ctx); !errors.As(err, &ae) || ae.Table != table || ae.Row != row {
			t.Fatalf("audit = %v; want %s %s named", err, table, row)
		}
	}
	t.Run("byte edited in the file", func(t *testing.T) {
		a, file := setup(t)
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0x01
		if err := os.WriteFile(file, b, 0o600); err != nil {
			t.Fatal(err)
		}
		named(t, a.db, "archives", filepath.Base(file))
	})
	t.Run("file missing", func(t *testing.T) {
		a, file := setup(t)
		os.Remove(file)
		named(t, a.db, "archives", filepath.Base(file))
	})
	t.Run("checkpoint forged", func(t *testing.T) {
		a, file := setup(t)
		// The file and its digest rewritten together, the signature left:
		// the checkpoint no longer verifies.
		if _, err := a.db.SQL().Exec(`UPDATE archives SET sha256 = 'ab' || substr(sha256, 3)`); err != nil {
			t.Fatal(err)
		}
		named(t, a.db, "archives", filepath.Base(file))
	})
	t.Run("archived sale's row edited", func(t *testing.T) {
		a, _ := setup(t)
		if _, err := a.db.SQL().Exec(`UPDATE sales SET vehicle = 'KZZ 999Z' WHERE id = ?`, a.old[3].ID); err != nil {
			t.Fatal(err)
		}
		named(t, a.db, "sales", a.old[3].ID)
	})
	t.Run("archived sale's state edited", func(t *testing.T) {
		a, _ := setup(t)
		if _, err := a.db.SQL().Exec(`UPDATE sales SET state = 'paid' WHERE id = ?`, a.old[6].ID); err != nil {
			t.Fatal(err)
		}
		named(t, a.db, "sales", a.old[6].ID)
	})
}

// archiveChild runs one archive run on the store at path with the clock
// at LANGO_ARCHIVE_NOW, and kills itself with SIGKILL at the step
// LANGO_ARCHIVE_FAILPOINT names.
func archiveChild(path string) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ns, _ := strconv.ParseInt(os.Getenv("LANGO_ARCHIVE_NOW"), 10, 64)
	db.Now = func() time.Time { return time.Unix(0, ns) }
	step := os.Getenv("LANGO_ARCHIVE_FAILPOINT")
	sqlite.SetArchiveHook(db, func(s string) {
		if s == step {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	})
	if _, err := db.Archive(ctx, archiveRetention); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// TestArchiveSurvivesKill9: a process archiving is killed with SIGKILL at
// each step (the file written, synced, renamed, the rows deleted but not
// committed, committed); after each, the store opens intact, the audit
// passes, and the next run completes: every event is held once, in the
// store or the archive, unchanged.
func TestArchiveSurvivesKill9(t *testing.T) {
	ctx := context.Background()
	for _, step := range []string{sqlite.StepWritten, sqlite.StepSynced, sqlite.StepRenamed, sqlite.StepDeleted, sqlite.StepCommitted} {
		t.Run(step, func(t *testing.T) {
			a := newArchiveFixture(t)
			a.db.Close()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "LANGO_ARCHIVE_CHILD="+a.path, "LANGO_ARCHIVE_FAILPOINT="+step, fmt.Sprintf("LANGO_ARCHIVE_NOW=%d", a.now.UnixNano()))
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("the archiving child did not die by SIGKILL at %s: %v; stderr: %s", step, err, stderr.String())
			}
			db, err := sqlite.Open(ctx, a.path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			db.Now = func() time.Time { return a.now }
			a.checkWhole(t, db)
			res, err := db.Archive(ctx, archiveRetention)
			if err != nil {
				t.Fatalf("the archive run after the kill: %v", err)
			}
			var recentSeq int64
			db.SQL().QueryRow(`SELECT event_seq FROM sales WHERE id = ?`, a.recent[0].ID).Scan(&recentSeq)
			if res.Through != recentSeq-1 {
				t.Fatalf("after the kill and a run, archived through %d; want %d", res.Through, recentSeq-1)
			}
			if n, first := liveEvents(t, db); first != recentSeq || int64(n) != a.head-recentSeq+1 {
				t.Fatalf("the store holds %d events from %d; want %d from %d", n, first, a.head-recentSeq+1, recentSeq)
			}
			ents, _ := os.ReadDir(sqlite.ArchiveDir(a.path))
			if len(ents) != 1 || strings.HasSuffix(ents[0].Name(), ".tmp") {
				t.Errorf("archive folder holds %v; want one archive file", ents)
			}
			a.checkWhole(t, db)
		})
	}
}

// TestAuditAcrossArchiveFiles: runs of 7 events make several files, each
// continuing the one before; the audit passes across all of them and from
// each checkpoint, and a byte edited in a middle file names that file.
func TestAuditAcrossArchiveFiles(t *testing.T) {
	ctx := context.Background()
	a := newArchiveFixture(t)
	sqlite.SetArchiveBatch(a.db, 7)
	res, err := a.db.Archive(ctx, archiveRetention)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) < 3 {
		t.Fatalf("archived in %v; want several files of 7 events", res.Files)
	}
	a.checkWhole(t, a.db)
	for _, seq := range []int64{7, 14} {
		if err := a.db.VerifyAuditSince(ctx, seq, nil); err != nil {
			t.Fatalf("audit --since %d: %v", seq, err)
		}
	}
	middle := filepath.Join(sqlite.ArchiveDir(a.path), res.Files[1])
	b, err := os.ReadFile(middle)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-10] ^= 0x01
	if err := os.WriteFile(middle, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var ae *terminal.AuditError
	if err := a.db.VerifyAudit(ctx); !errors.As(err, &ae) || ae.Table != "archives" || ae.Row != res.Files[1] {
		t.Fatalf("audit = %v; want %s named", err, res.Files[1])
	}
	// From a checkpoint after the edited file, the chain still verifies.
	if err := a.db.VerifyAuditSince(ctx, 14, nil); err != nil {
		t.Fatalf("audit --since 14, after the edited file: %v", err)
	}
}
