package sqlite_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
)

func TestMain(m *testing.M) {
	if path := os.Getenv("LANGO_CRASH_CHILD"); path != "" {
		crashChild(path)
		return
	}
	if path := os.Getenv("LANGO_MIGRATE_CHILD"); path != "" {
		migrateChild(path)
		return
	}
	if path := os.Getenv("LANGO_ARCHIVE_CHILD"); path != "" {
		archiveChild(path)
		return
	}
	os.Exit(m.Run())
}

// startChild starts this test binary as a child with env set (one of the
// children of TestMain), and returns it, its stdout and its stderr.
func startChild(t *testing.T, env ...string) (*exec.Cmd, io.Reader, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, out, stderr
}

// crashChild sells in a loop until killed, printing "SOLD id" after each
// commit returns: a sale it reports is one the attendant was shown.
func crashChild(path string) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	admin, err := db.Operator(ctx, "admin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tenders := [][]terminal.TenderRequest{
		{{Kind: terminal.TenderCash}},
		{{Kind: terminal.TenderDefer}},
		nil, // M-PESA with a fresh code
	}
	if os.Getenv("LANGO_CRASH_CHILD_PAID") != "" {
		tenders[1] = tenders[0] // no pass left owed: a shift closes without naming any
	}
	for i := 0; ; i++ {
		tr := tenders[i%3]
		if tr == nil {
			code := fmt.Sprintf("C%09d", rand.IntN(1e9))
			tr = []terminal.TenderRequest{{Kind: terminal.TenderMpesa, Reference: code}}
		}
		res, err := db.Sell(ctx, admin, terminal.SaleRequest{
			Lines:   []terminal.LineRequest{{Code: "EAC-ADULT", Qty: 1 + i%3}, {Code: "INT-CHILD", Qty: 1}, {Code: "CAR", Qty: 1}},
			Tenders: tr,
		}, nil)
		if terminal.ErrorKind(err) == terminal.ECONFLICT { // an M-PESA code drawn twice
			continue
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Stdout.WriteString("SOLD " + res.Sale.ID + "\n")
	}
}

// TestCrashDurability kills a selling process with SIGKILL at random moments,
// at least 50 times, and checks that every sale it reported is in the store,
// that the file is intact, that event numbers have no gaps, and that the
// audit chain verifies.
func TestCrashDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process 50 times")
	}
	f := newTerminal(t, map[string]string{"printer": "emulator:/tmp/unused"})
	f.db.Close()
	killSelling(t, f.path, 50)
}

// TestCrashDurabilityFromAnOldStore is the same from a store the code
// before compressed payloads made (testdata/pre0017.db.gz): the kills
// fall among sales that compress while the old rows stay as they were,
// and the chain verifies across both.
func TestCrashDurabilityFromAnOldStore(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process 20 times")
	}
	path := oldStore(t)
	killSelling(t, path, 20)
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if old, compressed := storedForms(t, db); old != 17 || compressed < 20 {
		t.Errorf("%d old-form and %d compressed events; want the 17 old ones and the sales since compressed", old, compressed)
	}
}

// killSelling kills a process selling into the store at path with SIGKILL
// at random moments, kills times, and checks that every sale it reported
// is in the store, that the file is intact, that event numbers have no
// gaps, and that the audit chain verifies.
func killSelling(t *testing.T, path string, kills int) {
	f := &fixture{path: path}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	reported := map[string]bool{}
	for i := 0; i < kills; i++ {
		cmd, out, stderr := startChild(t, "LANGO_CRASH_CHILD="+f.path)
		done := make(chan []string)
		selling := make(chan struct{})
		go func() {
			var ids []string
			sc := bufio.NewScanner(out)
			for sc.Scan() { // only whole lines: a line cut by the kill is not a report
				if id, ok := strings.CutPrefix(sc.Text(), "SOLD "); ok && len(id) == 36 {
					if ids = append(ids, id); len(ids) == 1 {
						close(selling)
					}
				}
			}
			done <- ids
		}()
		// The kill falls at a random moment of the selling, whatever the
		// child's start costs on a loaded machine (the race detector).
		select {
		case <-selling:
		case <-time.After(30 * time.Second):
		}
		time.Sleep(time.Duration(rng.IntN(180)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		ids := <-done
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("child %d did not die by SIGKILL: %v; stderr: %s", i, err, stderr.String())
		}
		for _, id := range ids {
			reported[id] = true
		}
	}
	if len(reported) < kills {
		t.Fatalf("only %d sales reported over %d runs: the child barely sold", len(reported), kills)
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if ok, err := db.IntegrityCheck(ctx); err != nil || ok != "ok" {
		t.Fatalf("integrity_check = %q, %v", ok, err)
	}
	for id := range reported {
		if _, err := db.Sale(ctx, id); err != nil {
			t.Errorf("reported sale %s lost: %v", id, err)
		}
	}
	var maxSeq, count int64
	if err := db.SQL().QueryRow(`SELECT max(seq), count(*) FROM events`).Scan(&maxSeq, &count); err != nil {
		t.Fatal(err)
	}
	if maxSeq != count {
		t.Errorf("events: max seq %d but %d rows: a gap", maxSeq, count)
	}
	var jobs, sales int
	db.SQL().QueryRow(`SELECT count(*) FROM print_jobs`).Scan(&jobs)
	db.SQL().QueryRow(`SELECT count(*) FROM sales`).Scan(&sales)
	if jobs != sales {
		t.Errorf("%d sales but %d print jobs: a sale committed without its job", sales, jobs)
	}
	if err := db.VerifyAudit(ctx); err != nil {
		t.Errorf("audit: %v", err)
	}
	t.Logf("%d kills, %d sales reported, %d in store, %d events", kills, len(reported), sales, count)
}

// TestAuditFindsTampering alters stored rows the way someone with the sqlite3
// shell could (dropping the append-only triggers first) and checks that the
// audit names the altered record.
func TestAuditFindsTampering(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (*fixture, []*terminal.Sale) {
		f := newTerminal(t, nil)
		var sales []*terminal.Sale
		for i := 0; i < 5; i++ {
			res, err := f.db.Sell(ctx, f.admin, terminal.SaleRequest{Lines: familyCar(), Tenders: mustTender(t, "cash")}, nil)
			if err != nil {
				t.Fatal(err)
			}
			sales = append(sales, res.Sale)
		}
		if err := f.db.VerifyAudit(ctx); err != nil {
			t.Fatalf("audit of an untouched store: %v", err)
		}
		if _, err := f.db.SQL().Exec(`DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete`); err != nil {
			t.Fatal(err)
		}
		return f, sales
	}
	t.Run("append-only triggers", func(t *testing.T) {
		f := newTerminal(t, nil)
		if _, err := f.db.SQL().Exec(`UPDATE events SET actor = 'x' WHERE seq = 1`); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("UPDATE events: %v; want refused as append-only", err)
		}
		if _, err := f.db.SQL().Exec(`DELETE FROM events WHERE seq = 1`); err == nil {
			t.Error("DELETE FROM events succeeded")
		}
	})
	t.Run("event payload edited", func(t *testing.T) {
		f, _ := setup(t)
		var seq int64
		var stored []byte
		f.db.SQL().QueryRow(`SELECT seq, payload FROM events WHERE type = 'sale.created' ORDER BY seq LIMIT 1 OFFSET 2`).Scan(&seq, &stored)
		// The payload is stored compressed: the edit is made to its
		// decoded bytes, stored again as the store would.
		if len(stored) == 0 || stored[0] != 0x01 {
			t.Fatalf("event %d's payload is stored as %.20q; want compressed (0x01…)", seq, stored)
		}
		raw, err := sqlite.DecodePayload(f.db, stored)
		if err != nil {
			t.Fatal(err)
		}
		edited, err := sqlite.EncodePayload(f.db, bytes.ReplaceAll(raw, []byte("530000"), []byte("130000")))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.SQL().Exec(`UPDATE events SET payload = ? WHERE seq = ?`, edited, seq); err != nil {
			t.Fatal(err)
		}
		var ae *terminal.AuditError
		if err := f.db.VerifyAudit(ctx); !errors.As(err, &ae) || ae.Seq != seq {
			t.Fatalf("audit = %v; want a break at event %d", err, seq)
		}
	})
	t.Run("stored payload damaged", func(t *testing.T) {
		f, _ := setup(t)
		var seq int64
		var stored []byte
		f.db.SQL().QueryRow(`SELECT seq, payload FROM events WHERE type = 'sale.created' ORDER BY seq LIMIT 1 OFFSET 3`).Scan(&seq, &stored)
		// A byte of the DEFLATE stream flipped: it decodes to other bytes
		// or not at all; either way the event is named.
		stored[10] ^= 0x5a
		if _, err := f.db.SQL().Exec(`UPDATE events SET payload = ? WHERE seq = ?`, stored, seq); err != nil {
			t.Fatal(err)
		}
		var ae *terminal.AuditError
		if err := f.db.VerifyAudit(ctx); !errors.As(err, &ae) || ae.Seq != seq {
			t.Fatalf("audit = %v; want a break at event %d", err, seq)
		}
	})
	t.Run("payload dictionary edited", func(t *testing.T) {
		f, _ := setup(t)
		if _, err := f.db.SQL().Exec(`UPDATE payload_dicts SET content = x'00'`); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("UPDATE payload_dicts: %v; want refused as append-only", err)
		}
		if _, err := f.db.SQL().Exec(`DROP TRIGGER payload_dicts_no_update`); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.SQL().Exec(`UPDATE payload_dicts SET content = CAST(replace(CAST(content AS TEXT), 'Adult', 'Child') AS BLOB)`); err != nil {
			t.Fatal(err)
		}
		// A fresh process reads the edited dictionary; the first event
		// compressed with it is named.
		db, err := sqlite.Open(ctx, f.db.Path())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var first int64
		db.SQL().QueryRow(`SELECT min(seq) FROM events WHERE substr(payload, 1, 1) = x'01'`).Scan(&first)
		var ae *terminal.AuditError
		if err := db.VerifyAudit(ctx); !errors.As(err, &ae) || ae.Seq != first || first == 0 {
			t.Fatalf("audit = %v; want a break at event %d, the first compressed", err, first)
		}
	})
	t.Run("event deleted", func(t *testing.T) {
		f, _ := setup(t)
		f.db.SQL().Exec(`DELETE FROM events WHERE seq = 4`)
		var ae *terminal.AuditError
		if err := f.db.VerifyAudit(ctx); !errors.As(err, &ae) || ae.Seq != 5 {
			t.Fatalf("audit = %v; want a break at event 5", err)
		}
	})
	t.Run("sale row edited", func(t *testing.T) {
		f, sales := setup(t)
		victim := sales[3]
		if _, err := f.db.SQL().Exec(`UPDATE sales SET vehicle = 'KZZ 999Z' WHERE id = ?`, victim.ID); err != nil {
			t.Fatal(err)
		}
		var ae *terminal.AuditError
		if err := f.db.VerifyAudit(ctx); !errors.As(err, &ae) || ae.Table != "sales" || ae.Row != victim.ID {
			t.Fatalf("audit = %v; want sale %s named", err, victim.ID)
		}
	})
	t.Run("sale pointed at another event", func(t *testing.T) {
		f, sales := setup(t)
		f.db.SQL().Exec(`UPDATE sales SET event_seq = (SELECT event_seq FROM sales WHERE id = ?) WHERE id = ?`, sales[0].ID, sales[4].ID)
		var ae *terminal.AuditError
		if err := f.db.VerifyAudit(ctx); !errors.As(err, &ae) || ae.Table != "sales" {
			t.Fatalf("audit = %v; want a sales row named", err)
		}
	})
	t.Run("sale state edited", func(t *testing.T) {
		f, sales := setup(t)
		f.db.SQL().Exec(`UPDATE sales SET state = 'voided' WHERE id = ?`, sales[1].ID)
		var ae *terminal.AuditError
		if err := f.db.VerifyAudit(ctx); !errors.As(err, &ae) || ae.Row != sales[1].ID {
			t.Fatalf("audit = %v; want sale %s named", err, sales[1].ID)
		}
	})
}
