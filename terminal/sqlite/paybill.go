package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/lango-pos/lango/terminal"
)

// The M-PESA paybill a lane's tenders are for: the settings mpesa_paybill
// (the site's paybill and its spare) and mpesa_paybill_use (main or
// spare). On an outage day a supervisor switches the lane to the spare;
// every M-PESA tender then records the paybill it was for, so the hub
// reconciles it against that paybill's payments.

// SwitchPaybill makes the lane's M-PESA tenders go to the site's spare
// paybill (use "spare") or back to its main one ("main"). Only a
// supervisor may, and the switch is a config.set event under the
// supervisor's name. It returns the paybill now in use.
func (db *DB) SwitchPaybill(ctx context.Context, sup *terminal.Operator, use string) (string, error) {
	if sup == nil || sup.Role != terminal.RoleSupervisor || !sup.DisabledAt.IsZero() {
		return "", terminal.Errorf(terminal.EUNAUTHORIZED, "only a supervisor can switch the M-PESA paybill")
	}
	v, err := terminal.ValidateSetting("mpesa_paybill_use", use)
	if err != nil {
		return "", err
	}
	if _, err := db.Identity(ctx); err != nil {
		return "", err
	}
	var inUse string
	err = db.record(ctx, "the paybill switch", func(tx *Tx) error {
		paybills, err := tx.setting(ctx, "mpesa_paybill")
		if err != nil {
			return err
		}
		f := terminal.PaybillInUse(paybills, "main")
		if f == "" {
			return terminal.Errorf(terminal.EINVALID, "no M-PESA paybill is set: lango config set mpesa_paybill \"PAYBILL SPARE\" first")
		}
		if v == "spare" && terminal.PaybillInUse(paybills, "spare") == f {
			return terminal.Errorf(terminal.EINVALID, "the site has no spare paybill: lango config set mpesa_paybill \"%s SPARE\" first", f)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('mpesa_paybill_use', ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, v, ts(tx.now)); err != nil {
			return fmt.Errorf("switch the paybill: %w", err)
		}
		inUse = terminal.PaybillInUse(paybills, v)
		_, err = tx.appendEvent(ctx, sup.Name, terminal.ConfigSet{"mpesa_paybill_use": v})
		return err
	})
	return inUse, err
}

// guardSetting refuses, through SetSetting, the settings that need a
// supervisor's own command.
func guardSetting(key string) error {
	if key == "mpesa_paybill_use" {
		return terminal.Errorf(terminal.EUNAUTHORIZED, "a supervisor switches the M-PESA paybill: lango config set --as SUPERVISOR mpesa_paybill_use main|spare")
	}
	return nil
}

// setting reads one setting in tx, or its default.
func (tx *Tx) setting(ctx context.Context, key string) (string, error) {
	var v string
	err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return terminal.DefaultSettings()[key], nil
	}
	if err != nil {
		return "", fmt.Errorf("setting %s: %w", key, err)
	}
	return v, nil
}

// stampPaybill records on each M-PESA tender the paybill in use.
func (tx *Tx) stampPaybill(ctx context.Context, ts []terminal.Tender) error {
	if !slices.ContainsFunc(ts, func(t terminal.Tender) bool { return t.Kind == terminal.TenderMpesa }) {
		return nil // the settings are read only for an M-PESA tender: not on every sale's path
	}
	paybills, err := tx.setting(ctx, "mpesa_paybill")
	if err != nil || paybills == "" {
		return err
	}
	use, err := tx.setting(ctx, "mpesa_paybill_use")
	if err != nil {
		return err
	}
	for i := range ts {
		if ts[i].Kind == terminal.TenderMpesa {
			ts[i].Paybill = terminal.PaybillInUse(paybills, use)
		}
	}
	return nil
}
