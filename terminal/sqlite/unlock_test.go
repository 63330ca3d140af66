package sqlite_test

import (
	"context"
	"testing"

	"github.com/lango-pos/lango/terminal"
)

// TestUnlock: a supervisor lifts a lockout, which writes its event and
// lets the right PIN in at once; an attendant, an unknown name and an
// operator who is not locked are refused and write nothing.
func TestUnlock(t *testing.T) {
	ctx := context.Background()
	f := newTerminal(t, nil)
	db, admin := f.db, f.admin
	att, err := db.AddOperator(ctx, admin, "kamau", "attendant", "8642")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Unlock(ctx, admin, "kamau"); terminal.ErrorKind(err) != terminal.EINVALID {
		t.Errorf("unlocking an operator who is not locked: %v; want EINVALID", err)
	}
	for range terminal.MaxPINFailures {
		db.Authenticate(ctx, "kamau", "0000")
	}
	if _, err := db.Authenticate(ctx, "kamau", "8642"); err == nil {
		t.Fatalf("kamau is not locked out after %d wrong PINs", terminal.MaxPINFailures)
	}
	count := func() int {
		evs, err := db.Events(ctx, 0, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range evs {
			if e.Type == terminal.EventOperatorUnlock {
				n++
				if e.Actor != "admin" || string(e.Payload) != `{"operator":"kamau"}` {
					t.Errorf("unlock event by %q with %s; want by admin for kamau", e.Actor, e.Payload)
				}
			}
		}
		return n
	}
	for _, c := range []struct {
		by   *terminal.Operator
		name string
		kind string
	}{{att, "kamau", terminal.EUNAUTHORIZED}, {admin, "nobody", terminal.ENOTFOUND}, {admin, "", terminal.EINVALID}} {
		if _, err := db.Unlock(ctx, c.by, c.name); terminal.ErrorKind(err) != c.kind {
			t.Errorf("Unlock by %s of %q: %v; want %s", c.by.Name, c.name, err, c.kind)
		}
	}
	if n := count(); n != 0 {
		t.Fatalf("%d unlock events after refusals; want 0", n)
	}
	op, err := db.Unlock(ctx, admin, "kamau")
	if err != nil {
		t.Fatal(err)
	}
	if op.Failures != 0 || !op.LockedUntil.IsZero() {
		t.Errorf("unlocked operator: failures %d, locked until %v", op.Failures, op.LockedUntil)
	}
	if n := count(); n != 1 {
		t.Errorf("%d unlock events; want 1", n)
	}
	if _, err := db.Authenticate(ctx, "kamau", "8642"); err != nil {
		t.Errorf("after the unlock the right PIN is refused: %v", err)
	}
}
