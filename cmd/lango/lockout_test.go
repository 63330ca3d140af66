package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Issue 11: "PIN lockout bypass". 40 `lango` processes started together
// sign in as kamau, 39 with wrong PINs and one with the right one. The
// lock, the PIN check and the failure count share one write lock, so at
// most MaxPINFailures (5) wrong PINs are checked before the lock (twice
// that if the right PIN signed in between and reset the count), and the
// right PIN signs in only if it came before the lock.
func TestPINLockoutHoldsAgainst40Processes(t *testing.T) {
	c := newCLI(t)
	c.initNNP("--printer", "none")
	c.env["LANGO_NEW_PIN"] = "2468"
	c.ok("operator", "add", "--as", "admin", "--name", "kamau", "--role", "attendant")

	type result struct {
		right  bool
		code   int
		stderr string
	}
	const n = 40
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		pin := fmt.Sprintf("%04d", 9000+i)
		if i == n/2 {
			pin = "2468"
		}
		cmd := exec.Command(os.Args[0], "--data", c.data, "shift", "open", "--as", "kamau", "--float", "KES=100")
		cmd.Env = append(os.Environ(), "LANGO_TEST_MAIN=1", "LANGO_PIN="+pin)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := cmd.Run()
			r := result{right: pin == "2468", stderr: errb.String()}
			if ee, ok := err.(*exec.ExitError); ok {
				r.code = ee.ExitCode()
			} else if err != nil {
				r.code = -1
				r.stderr = err.Error()
			}
			results[i] = r
		}()
	}
	close(start)
	wg.Wait()

	var wrongChecked, locked int
	rightSignedIn := false
	for _, r := range results {
		switch {
		case r.code == 0 && r.right:
			rightSignedIn = true
		case r.code == 0:
			t.Errorf("a wrong PIN signed in")
		case strings.Contains(r.stderr, "is locked after"):
			locked++
		case strings.Contains(r.stderr, "wrong PIN"):
			wrongChecked++
		default:
			t.Errorf("exit %d: %q; want a wrong-PIN or locked refusal", r.code, r.stderr)
		}
	}
	limit := 5
	if rightSignedIn {
		limit = 2*5 - 1
	}
	if wrongChecked > limit {
		t.Errorf("%d wrong PINs were checked; at most %d may be before the lock", wrongChecked, limit)
	}
	if wrongChecked+locked+btoi(rightSignedIn) != n {
		t.Errorf("%d wrong, %d locked, right signed in %v: want %d answers", wrongChecked, locked, rightSignedIn, n)
	}

	// The store agrees: one lock, and a shift opened (if at all) before it.
	db, err := sql.Open("sqlite", filepath.Join(c.data, "lango.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var locks int
	var lockSeq, shiftSeq sql.NullInt64
	db.QueryRow(`SELECT count(*), min(seq) FROM events WHERE type = 'operator.locked'`).Scan(&locks, &lockSeq)
	db.QueryRow(`SELECT min(seq) FROM events WHERE type = 'shift.opened' AND actor = 'kamau'`).Scan(&shiftSeq)
	if locks != 1 {
		t.Errorf("%d operator.locked events; want 1", locks)
	}
	if shiftSeq.Valid != rightSignedIn {
		t.Errorf("kamau's shift opened: %v; the right PIN signed in: %v", shiftSeq.Valid, rightSignedIn)
	}
	if shiftSeq.Valid && lockSeq.Valid && shiftSeq.Int64 > lockSeq.Int64 {
		t.Errorf("kamau signed in at event %d, after the lock at %d", shiftSeq.Int64, lockSeq.Int64)
	}
	// And the right PIN is refused while the lock holds.
	c.env["LANGO_PIN"] = "2468"
	c.refused(1, "is locked", "shift", "open", "--as", "kamau", "--float", "KES=100")
	t.Logf("%d wrong PINs checked, %d refused as locked, right PIN signed in: %v", wrongChecked, locked, rightSignedIn)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
