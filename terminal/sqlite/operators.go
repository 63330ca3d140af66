package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lango-pos/lango/terminal"
)

// Operator scopes, in operator.added events: a site operator (added by a
// supervisor) travels to the other terminals of the site through the site
// feed, with its PIN hash; a terminal operator (the admin made by init)
// stays on its terminal.
const (
	scopeSite     = terminal.ScopeSite
	scopeTerminal = terminal.ScopeTerminal
)

// operatorAdded is the operator events' payload as the store reads it.
type operatorAdded = terminal.OperatorRecord

func (tx *Tx) addOperator(ctx context.Context, actor, name string, role terminal.Role, hash, scope string) (*terminal.Operator, error) {
	op := &terminal.Operator{ID: newID(), Name: name, Role: role, PINHash: hash, CreatedAt: tx.now}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM operators WHERE name = ?`, name).Scan(&n); err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, terminal.Errorf(terminal.ECONFLICT, "an operator named %s already exists", name)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO operators (id, name, role, pin_hash, created_at, scope, pin_set_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		op.ID, op.Name, op.Role, op.PINHash, ts(op.CreatedAt), scope, ts(op.CreatedAt)); err != nil {
		return nil, fmt.Errorf("add operator: %w", err)
	}
	payload := operatorAdded{ID: op.ID, Name: op.Name, Role: op.Role, Scope: scope}
	if scope == scopeSite {
		payload.PINHash = op.PINHash
	}
	if _, err := tx.appendEvent(ctx, actor, terminal.OperatorAdded(payload)); err != nil {
		return nil, err
	}
	return op, nil
}

// supervised checks what AddOperator and SetOperatorPIN both need: a
// supervisor doing it (what says what, for the refusal), a valid name,
// and a PIN, hashed.
func supervised(by *terminal.Operator, what, name, pin string) (n, hash string, err error) {
	if by == nil || by.Role != terminal.RoleSupervisor {
		return "", "", terminal.Errorf(terminal.EUNAUTHORIZED, "only a supervisor can %s", what)
	}
	if n, err = terminal.ValidateName(name); err != nil {
		return "", "", err
	}
	if hash, err = terminal.HashPIN(pin); err != nil {
		return "", "", err
	}
	return n, hash, nil
}

// AddOperator adds an operator of the site; only a supervisor may. Once
// synced, the other terminals of the site know the operator and the PIN.
func (db *DB) AddOperator(ctx context.Context, by *terminal.Operator, name, role, pin string) (*terminal.Operator, error) {
	n, hash, err := supervised(by, "add operators", name, pin)
	if err != nil {
		return nil, err
	}
	r, err := terminal.ValidateRole(role)
	if err != nil {
		return nil, err
	}
	var op *terminal.Operator
	err = db.record(ctx, "the new operator", func(tx *Tx) error {
		op, err = tx.addOperator(ctx, by.Name, n, r, hash, scopeSite)
		return err
	})
	return op, err
}

// SetOperatorPIN gives an operator a new PIN; only a supervisor may. A
// site operator's new PIN reaches the other terminals of the site through
// the feed (after a terminal is lost, every PIN it held should change).
// The operator's lockout, if any, ends.
func (db *DB) SetOperatorPIN(ctx context.Context, by *terminal.Operator, name, pin string) (*terminal.Operator, error) {
	n, hash, err := supervised(by, "change an operator's PIN", name, pin)
	if err != nil {
		return nil, err
	}
	var op *terminal.Operator
	err = db.record(ctx, "the new PIN", func(tx *Tx) error {
		var scope string
		if op, scope, err = tx.operatorNamed(ctx, n); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE operators SET pin_hash = ?, pin_set_at = ?, failures = 0, locked_until = '' WHERE id = ?`,
			hash, ts(tx.now), op.ID); err != nil {
			return fmt.Errorf("set PIN: %w", err)
		}
		op.PINHash, op.Failures, op.LockedUntil = hash, 0, time.Time{}
		payload := operatorAdded{ID: op.ID, Name: op.Name, Role: op.Role, Scope: scope, AddedAt: op.CreatedAt}
		if scope == scopeSite {
			payload.PINHash = hash
		}
		_, err = tx.appendEvent(ctx, by.Name, terminal.OperatorPINChanged(payload))
		return err
	})
	if err != nil {
		return nil, err
	}
	return op, nil
}

// DisableOperator stops an operator signing in (a clerk who left); only a
// supervisor may, not for themselves, and not while the operator has a
// shift open here (close it first). A site operator is disabled at every
// terminal of the site once synced. The operator's shifts and sales stay.
func (db *DB) DisableOperator(ctx context.Context, by *terminal.Operator, name string) (*terminal.Operator, error) {
	if by == nil || by.Role != terminal.RoleSupervisor {
		return nil, terminal.Errorf(terminal.EUNAUTHORIZED, "only a supervisor can disable an operator")
	}
	n, err := terminal.ValidateName(name)
	if err != nil {
		return nil, err
	}
	if n == by.Name {
		return nil, terminal.Errorf(terminal.EINVALID, "a supervisor cannot disable themselves: ask another")
	}
	var op *terminal.Operator
	err = db.record(ctx, "disabling the operator", func(tx *Tx) error {
		var scope string
		if op, scope, err = tx.operatorNamed(ctx, n); err != nil {
			return err
		}
		if !op.DisabledAt.IsZero() {
			return terminal.Errorf(terminal.ECONFLICT, "%s is already disabled", n)
		}
		if sh, err := tx.openShift(ctx, op.ID); err != nil {
			return err
		} else if sh != nil {
			return terminal.Errorf(terminal.ECONFLICT, "%s has a shift open since %s: close it first", n, db.SiteTime(sh.OpenedAt, "2006-01-02 15:04"))
		}
		if _, err := tx.ExecContext(ctx, `UPDATE operators SET disabled_at = ? WHERE id = ?`, ts(tx.now), op.ID); err != nil {
			return fmt.Errorf("disable operator: %w", err)
		}
		op.DisabledAt = tx.now
		_, err = tx.appendEvent(ctx, by.Name, terminal.OperatorDisabled{ID: op.ID, Name: op.Name, Role: op.Role, Scope: scope, AddedAt: op.CreatedAt})
		return err
	})
	if err != nil {
		return nil, err
	}
	return op, nil
}

// applyFeedDisable disables here a site operator another terminal of the
// site disabled (operator.disabled from the feed), by id. An operator not
// known here yet is recorded disabled, so that its operator.added, arriving
// later from another terminal, does not bring it back.
func (tx *Tx) applyFeedDisable(ctx context.Context, e *terminal.FeedEvent, origin string) error {
	var p operatorAdded
	if json.Unmarshal(e.Payload, &p) != nil || !p.FromFeed(false) {
		return nil
	}
	if origin == "" {
		origin = e.Terminal
	}
	r, err := tx.ExecContext(ctx, `UPDATE operators SET disabled_at = ? WHERE id = ? AND disabled_at = ''`, ts(e.At), p.ID)
	if err != nil {
		return wrapFeedErr(err)
	}
	if n, _ := r.RowsAffected(); n > 0 {
		return nil
	}
	added := ts(e.At)
	if !p.AddedAt.IsZero() {
		added = ts(p.AddedAt)
	}
	// Unknown here (or already disabled): a disabled record, with no PIN,
	// unless this terminal has another operator of that name.
	_, err = tx.ExecContext(ctx, `INSERT INTO operators (id, name, role, pin_hash, created_at, origin, scope, pin_set_at, disabled_at)
		VALUES (?, ?, ?, '', ?, ?, ?, '', ?) ON CONFLICT DO NOTHING`, p.ID, p.Name, p.Role, added, origin, scopeSite, ts(e.At))
	return wrapFeedErr(err)
}

// operatorNamed reads an operator, and its scope, in tx.
func (tx *Tx) operatorNamed(ctx context.Context, name string) (*terminal.Operator, string, error) {
	var scope string
	op, err := scanOperator(tx.QueryRowContext(ctx, `SELECT `+operatorCols+`, scope FROM operators WHERE name = ?`, name), &scope)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", terminal.Errorf(terminal.ENOTFOUND, "no operator named %q", name)
	}
	return op, scope, err
}

func scanOperator(row interface{ Scan(...any) error }, extra ...any) (*terminal.Operator, error) {
	var op terminal.Operator
	var created, locked, disabled string
	if err := row.Scan(append([]any{&op.ID, &op.Name, &op.Role, &op.PINHash, &op.Failures, &locked, &created, &disabled}, extra...)...); err != nil {
		return nil, err
	}
	op.CreatedAt = parseTS(created)
	if disabled != "" {
		op.DisabledAt = parseTS(disabled)
	}
	if locked != "" {
		op.LockedUntil = parseTS(locked)
	}
	return &op, nil
}

const operatorCols = `id, name, role, pin_hash, failures, locked_until, created_at, disabled_at`

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

// Operators lists the operators who may sign in (not the disabled).
func (db *DB) Operators(ctx context.Context) ([]*terminal.Operator, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+operatorCols+` FROM operators WHERE disabled_at = '' ORDER BY name`)
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
	refused := terminal.Errorf(terminal.EUNAUTHORIZED, "unknown operator or wrong PIN").WithID("wrong_pin", nil)
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
	if !op.DisabledAt.IsZero() {
		terminal.CheckPIN(op.PINHash, pin) // the same cost as any refusal
		return nil, terminal.Errorf(terminal.EUNAUTHORIZED, "%s was disabled by a supervisor and can no longer sign in", op.Name).
			WithID("operator_disabled", map[string]any{"Name": op.Name})
	}
	// The lock, the PIN check and the failure count are read and written
	// under the one write lock (BEGIN IMMEDIATE), so that processes
	// signing in at once cannot try more wrong PINs than the lockout
	// allows, and no PIN, right or wrong, signs in once the lock is set.
	// The check costs ~25 ms under that lock: a sale waits at most that.
	var result error
	err = db.bookkeep(ctx, func(tx *Tx) error {
		var failures int
		var hash, lockedUntil string
		if err := tx.QueryRowContext(ctx, `SELECT failures, pin_hash, locked_until FROM operators WHERE id = ?`, op.ID).Scan(&failures, &hash, &lockedUntil); err != nil {
			return err
		}
		lock := terminal.PINLock{Failures: failures, LockedUntil: parseTS(lockedUntil)}
		ok := !tx.now.Before(lock.LockedUntil) && terminal.CheckPIN(hash, pin) // no PIN is checked while locked
		next, lockedNow, refused := lock.SignIn(op.Name, ok, tx.now, db.location())
		result = refused
		if next != lock {
			until := ""
			if !next.LockedUntil.IsZero() {
				until = ts(next.LockedUntil)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE operators SET failures = ?, locked_until = ? WHERE id = ?`, next.Failures, until, op.ID); err != nil {
				return err
			}
		}
		if lockedNow {
			if _, err := tx.appendEvent(ctx, op.Name, terminal.OperatorLocked{Operator: op.Name, Until: next.LockedUntil}); err != nil {
				return err
			}
		}
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

// applyFeedOperator applies a site operator that another terminal of the
// site (named origin) added, or gave a new PIN: an operator.added or
// operator.pin_changed event from the feed.
//
// A new PIN replaces the one held if it was set later; an operator this
// terminal does not know yet is added, from either event. If this terminal
// knows another operator of that name, its own stays; one from elsewhere
// gives way to an earlier one (then a smaller id), so that the other
// terminals end with the same whatever the feed's order, unless it has
// opened a shift here. The hub's report names the clash
// (operator_added_twice). A payload that is not a well-formed site
// operator with a PIN hash exactly as HashPIN makes is ignored.
func (tx *Tx) applyFeedOperator(ctx context.Context, e *terminal.FeedEvent, origin string) error {
	var p operatorAdded
	if json.Unmarshal(e.Payload, &p) != nil || !p.FromFeed(true) {
		return nil
	}
	if origin == "" {
		origin = e.Terminal
	}
	pinSet, added := ts(e.At), ts(e.At)
	if e.Type == terminal.EventOperatorPIN && !p.AddedAt.IsZero() {
		added = ts(p.AddedAt)
	}
	var heldPIN string
	err := tx.QueryRowContext(ctx, `SELECT pin_set_at FROM operators WHERE id = ?`, p.ID).Scan(&heldPIN)
	switch {
	case err == nil: // known here: a later PIN replaces the one held
		if e.Type == terminal.EventOperatorPIN && heldPIN < pinSet {
			_, err = tx.ExecContext(ctx, `UPDATE operators SET pin_hash = ?, pin_set_at = ?, failures = 0, locked_until = '' WHERE id = ?`,
				p.PINHash, pinSet, p.ID)
		}
		return wrapFeedErr(err)
	case !errors.Is(err, sql.ErrNoRows):
		return wrapFeedErr(err)
	}
	var id, held, heldAt string
	err = tx.QueryRowContext(ctx, `SELECT id, origin, created_at FROM operators WHERE name = ?`, p.Name).Scan(&id, &held, &heldAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.ExecContext(ctx, `INSERT INTO operators (id, name, role, pin_hash, created_at, origin, scope, pin_set_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.Name, p.Role, p.PINHash, added, origin, scopeSite, pinSet)
	case err != nil:
	default:
		h := terminal.HeldOperator{ID: id, Own: held == "", AddedAt: parseTS(heldAt)}
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM shifts WHERE operator_id = ?)`, id).Scan(&h.Worked); err != nil {
			return wrapFeedErr(err)
		}
		if h.KeepsName(p.ID, parseTS(added)) {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE operators SET id = ?, role = ?, pin_hash = ?, created_at = ?, origin = ?, pin_set_at = ?, failures = 0, locked_until = ''
			WHERE name = ?`, p.ID, p.Role, p.PINHash, added, origin, pinSet, p.Name)
	}
	return wrapFeedErr(err)
}

func wrapFeedErr(err error) error {
	if err != nil {
		return fmt.Errorf("feed operator: %w", err)
	}
	return nil
}
