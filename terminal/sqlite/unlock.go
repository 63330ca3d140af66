package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/lango-pos/lango/terminal"
)

// Unlock lifts an operator's PIN lockout at this terminal (the failure
// count back to 0), so that the operator can sign in again at once; only
// a supervisor may. An operator who is not locked out is refused and
// nothing is written. It writes an operator.unlocked event whose actor is
// the supervisor.
func (db *DB) Unlock(ctx context.Context, sup *terminal.Operator, name string) (*terminal.Operator, error) {
	if sup == nil || sup.Role != terminal.RoleSupervisor {
		return nil, terminal.Errorf(terminal.EUNAUTHORIZED, "only a supervisor can unlock an operator")
	}
	n, err := terminal.ValidateName(name)
	if err != nil {
		return nil, err
	}
	var op *terminal.Operator
	err = db.record(ctx, "the unlock", func(tx *Tx) error {
		if op, _, err = tx.operatorNamed(ctx, n); err != nil {
			return err
		}
		if !tx.now.Before(op.LockedUntil) {
			return terminal.Errorf(terminal.EINVALID, "%s is not locked out", op.Name)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE operators SET failures = 0, locked_until = '' WHERE id = ?`, op.ID); err != nil {
			return fmt.Errorf("unlock %s: %w", op.Name, err)
		}
		op.Failures, op.LockedUntil = 0, time.Time{}
		_, err = tx.appendEvent(ctx, sup.Name, terminal.OperatorUnlocked{Operator: op.Name})
		return err
	})
	if err != nil {
		return nil, err
	}
	return op, nil
}
