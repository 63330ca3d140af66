package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lango-pos/lango/terminal"
)

func (tx *Tx) addOperator(ctx context.Context, actor, name string, role terminal.Role, hash string) (*terminal.Operator, error) {
	op := &terminal.Operator{ID: newID(), Name: name, Role: role, PINHash: hash, CreatedAt: tx.now}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM operators WHERE name = ?`, name).Scan(&n); err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, terminal.Errorf(terminal.ECONFLICT, "an operator named %s already exists", name)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO operators (id, name, role, pin_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
		op.ID, op.Name, op.Role, op.PINHash, ts(op.CreatedAt)); err != nil {
		return nil, fmt.Errorf("add operator: %w", err)
	}
	if _, err := tx.appendEvent(ctx, terminal.EventOperatorAdded, actor, map[string]any{"id": op.ID, "name": op.Name, "role": op.Role}); err != nil {
		return nil, err
	}
	return op, nil
}

// AddOperator adds an operator; only a supervisor may.
func (db *DB) AddOperator(ctx context.Context, by *terminal.Operator, name, role, pin string) (*terminal.Operator, error) {
	if by == nil || by.Role != terminal.RoleSupervisor {
		return nil, terminal.Errorf(terminal.EUNAUTHORIZED, "only a supervisor can add operators")
	}
	n, err := terminal.ValidateName(name)
	if err != nil {
		return nil, err
	}
	r, err := terminal.ValidateRole(role)
	if err != nil {
		return nil, err
	}
	hash, err := terminal.HashPIN(pin)
	if err != nil {
		return nil, err
	}
	var op *terminal.Operator
	err = db.update(ctx, func(tx *Tx) error {
		op, err = tx.addOperator(ctx, by.Name, n, r, hash)
		return err
	})
	return op, err
}

func scanOperator(row interface{ Scan(...any) error }) (*terminal.Operator, error) {
	var op terminal.Operator
	var created, locked string
	if err := row.Scan(&op.ID, &op.Name, &op.Role, &op.PINHash, &op.Failures, &locked, &created); err != nil {
		return nil, err
	}
	op.CreatedAt = parseTS(created)
	if locked != "" {
		op.LockedUntil = parseTS(locked)
	}
	return &op, nil
}

const operatorCols = `id, name, role, pin_hash, failures, locked_until, created_at`

// Operator returns an operator by name.
func (db *DB) Operator(ctx context.Context, name string) (*terminal.Operator, error) {
	op, err := scanOperator(db.db.QueryRowContext(ctx, `SELECT `+operatorCols+` FROM operators WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, terminal.Errorf(terminal.ENOTFOUND, "no operator named %q", name)
	}
	if err != nil {
		return nil, fmt.Errorf("operator %s: %w", name, err)
	}
	return op, nil
}

// Operators lists every operator.
func (db *DB) Operators(ctx context.Context) ([]*terminal.Operator, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+operatorCols+` FROM operators ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*terminal.Operator
	for rows.Next() {
		op, err := scanOperator(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, op)
	}
	return out, rows.Err()
}

// Authenticate checks an operator's PIN. Wrong PINs count towards a lockout
// (MaxPINFailures in a row lock the operator for LockoutPeriod); the count is
// the only thing a wrong PIN changes, and reaching the lockout writes an
// event. The PIN is checked outside the write transaction: argon2id is slow
// on purpose and must not hold the writer.
func (db *DB) Authenticate(ctx context.Context, name, pin string) (*terminal.Operator, error) {
	refused := terminal.Errorf(terminal.EUNAUTHORIZED, "unknown operator or wrong PIN")
	n, err := terminal.ValidateName(name)
	if err != nil {
		return nil, refused
	}
	op, err := db.Operator(ctx, n)
	if terminal.ErrorKind(err) == terminal.ENOTFOUND {
		terminal.CheckPIN("$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", pin) // same cost as a real check
		return nil, refused
	}
	if err != nil {
		return nil, err
	}
	now := db.Now()
	if now.Before(op.LockedUntil) {
		return nil, terminal.Errorf(terminal.EUNAUTHORIZED, "%s is locked after %d wrong PINs until %s; try later or ask a supervisor",
			op.Name, terminal.MaxPINFailures, op.LockedUntil.Local().Format("15:04"))
	}
	ok := terminal.CheckPIN(op.PINHash, pin)
	var result error
	err = db.update(ctx, func(tx *Tx) error {
		var failures int
		if err := tx.QueryRowContext(ctx, `SELECT failures FROM operators WHERE id = ?`, op.ID).Scan(&failures); err != nil {
			return err
		}
		if ok {
			if failures > 0 {
				_, err := tx.ExecContext(ctx, `UPDATE operators SET failures = 0, locked_until = '' WHERE id = ?`, op.ID)
				return err
			}
			return nil
		}
		failures++
		if failures >= terminal.MaxPINFailures {
			until := tx.now.Add(terminal.LockoutPeriod)
			if _, err := tx.ExecContext(ctx, `UPDATE operators SET failures = 0, locked_until = ? WHERE id = ?`, ts(until), op.ID); err != nil {
				return err
			}
			if _, err := tx.appendEvent(ctx, terminal.EventOperatorLocked, op.Name, map[string]any{"operator": op.Name, "until": until}); err != nil {
				return err
			}
			result = terminal.Errorf(terminal.EUNAUTHORIZED, "wrong PIN: %s is now locked for %d minutes", op.Name, int(terminal.LockoutPeriod/time.Minute))
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE operators SET failures = ? WHERE id = ?`, failures, op.ID); err != nil {
			return err
		}
		result = terminal.Errorf(terminal.EUNAUTHORIZED, "wrong PIN (%d tries left before a %d-minute lockout)",
			terminal.MaxPINFailures-failures, int(terminal.LockoutPeriod/time.Minute))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if result != nil {
		return nil, result
	}
	op.Failures = 0
	return op, nil
}
