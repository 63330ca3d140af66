package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lango-pos/lango/terminal"
)

func validateCash(what string, t terminal.Totals) error {
	for c, v := range t {
		if !c.Valid() {
			return terminal.Errorf(terminal.EINVALID, "%s: unknown currency %q", what, c)
		}
		if v < 0 || v > terminal.MaxMinor {
			return terminal.Errorf(terminal.EINVALID, "%s: %s is out of range", what, terminal.Money{Currency: c, Minor: v})
		}
	}
	return nil
}

const sqlOpenShift = `SELECT s.id, o.name, s.opened_at, s.float FROM shifts s JOIN operators o ON o.id = s.operator_id
	WHERE s.operator_id = ? AND s.closed_at IS NULL`

// openShift returns the operator's open shift in tx, or nil.
func (tx *Tx) openShift(ctx context.Context, opID string) (*terminal.Shift, error) {
	var sh terminal.Shift
	var opened, float string
	err := tx.QueryRowContext(ctx, sqlOpenShift, opID).Scan(&sh.ID, &sh.Operator, &opened, &float)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open shift: %w", err)
	}
	sh.OpenedAt = parseTS(opened)
	if err := json.Unmarshal([]byte(float), &sh.Float); err != nil {
		return nil, fmt.Errorf("shift %s float: %w", sh.ID, err)
	}
	return &sh, nil
}

// OpenShift opens the operator's shift with a cash float.
func (db *DB) OpenShift(ctx context.Context, op *terminal.Operator, float terminal.Totals) (*terminal.Shift, error) {
	if err := validateCash("float", float); err != nil {
		return nil, err
	}
	sh := &terminal.Shift{ID: newID(), Operator: op.Name, Float: float.Clone()}
	err := db.record(ctx, "the shift opening", func(tx *Tx) error {
		cur, err := tx.openShift(ctx, op.ID)
		if err != nil {
			return err
		}
		if cur != nil {
			return terminal.Errorf(terminal.ECONFLICT, "%s already has a shift open since %s", op.Name, db.SiteTime(cur.OpenedAt, "2006-01-02 15:04"))
		}
		sh.OpenedAt = tx.now
		fl, _ := json.Marshal(sh.Float)
		// The shift's sales and settlements will be numbered from where the
		// tables stand: its Z-report reads from there (0009_history.sql).
		if _, err := tx.ExecContext(ctx, `INSERT INTO shifts (id, operator_id, opened_at, float, first_sale, first_settlement)
			VALUES (?, ?, ?, ?, (SELECT coalesce(max(number), 0) + 1 FROM sales), (SELECT coalesce(max(rowid), 0) + 1 FROM settlements))`,
			sh.ID, op.ID, ts(sh.OpenedAt), string(fl)); err != nil {
			return fmt.Errorf("open shift: %w", err)
		}
		_, err = tx.appendEvent(ctx, op.Name, terminal.ShiftOpened{Shift: *sh})
		return err
	})
	if err != nil {
		return nil, err
	}
	return sh, nil
}

// CurrentShift returns the operator's open shift, or ECONFLICT if none.
func (db *DB) CurrentShift(ctx context.Context, op *terminal.Operator) (*terminal.Shift, error) {
	var sh *terminal.Shift
	err := db.read(ctx, func(tx *Tx) error {
		var err error
		sh, err = tx.openShift(ctx, op.ID)
		return err
	})
	if err == nil && sh == nil {
		err = terminal.Errorf(terminal.ECONFLICT, "%s has no open shift", op.Name)
	}
	return sh, err
}

// A shift's sales and settlements (?1: its id) are read from the range of
// rowids that starts where the tables stood when it opened, so a shift
// close costs what the shift sold, not what the terminal ever sold.
const (
	shiftSales       = `s.number >= (SELECT first_sale FROM shifts WHERE id = ?1) AND s.shift_id = ?1`
	shiftSettlements = `rowid >= (SELECT first_settlement FROM shifts WHERE id = ?1) AND shift_id = ?1`
)

// shiftTenders reads the tenders taken in a shift from the documents of its
// sales (their events) and settlements, marking those of voided sales.
func (tx *Tx) shiftTenders(ctx context.Context, shiftID string) ([]terminal.ShiftTender, error) {
	var out []terminal.ShiftTender
	rows, err := tx.QueryContext(ctx, `SELECT s.state = 'voided', `+saleCols+saleFrom+` WHERE `+shiftSales+` ORDER BY s.number`, shiftID)
	if err != nil {
		return nil, fmt.Errorf("shift tenders: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var voided bool
		s, err := tx.db.scanSale(rows, &voided)
		if err != nil {
			return nil, fmt.Errorf("shift tenders: %w", err)
		}
		for _, t := range s.Tenders {
			out = append(out, terminal.ShiftTender{Tender: t, Voided: voided})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	srows, err := tx.QueryContext(ctx, `SELECT doc FROM settlements WHERE `+shiftSettlements+` ORDER BY at`, shiftID)
	if err != nil {
		return nil, fmt.Errorf("shift settlements: %w", err)
	}
	defer srows.Close()
	for srows.Next() {
		var doc string
		if err := srows.Scan(&doc); err != nil {
			return nil, err
		}
		var st terminal.Settlement
		if err := json.Unmarshal([]byte(doc), &st); err != nil {
			return nil, fmt.Errorf("shift settlements: %w", err)
		}
		for _, t := range st.Tenders {
			out = append(out, terminal.ShiftTender{Tender: t})
		}
	}
	return out, srows.Err()
}

// zReport builds the Z-report of a shift as it stands in tx.
func (tx *Tx) zReport(ctx context.Context, sh *terminal.Shift, counted terminal.Totals) (terminal.ZReport, error) {
	tenders, err := tx.shiftTenders(ctx, sh.ID)
	if err != nil {
		return terminal.ZReport{}, err
	}
	z := terminal.BuildZReport(*sh, tenders, counted)
	rows, err := tx.QueryContext(ctx, `SELECT s.kind, s.state, e.payload FROM sales s JOIN events e ON e.seq = s.event_seq WHERE `+shiftSales, sh.ID)
	if err != nil {
		return z, fmt.Errorf("shift sales: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, state string
		var stored []byte
		if err := rows.Scan(&kind, &state, &stored); err != nil {
			return z, err
		}
		switch {
		case state == string(terminal.SaleVoided):
			z.Voided++
		case kind == "refund":
			z.Refunds++
		default:
			z.Sales++
			s, err := tx.db.saleDoc(kind, stored)
			if err != nil {
				return z, fmt.Errorf("shift sale: %w", err)
			}
			z.Visitors += s.People()
			if state == string(terminal.SaleDeferred) {
				z.Deferred++
				z.DeferredDue.AddAll(s.Due)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return z, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM settlements WHERE `+shiftSettlements, sh.ID).Scan(&z.Settlements); err != nil {
		return z, fmt.Errorf("shift settlements: %w", err)
	}
	z.Terminal, z.Site = tx.id.Name, tx.id.Site
	return z, nil
}

// CloseShift closes the operator's open shift with the cash counted per
// currency and returns its Z-report.
//
// The report is read first in a read transaction, so sales at this
// terminal (another process: the kiosk beside the command line) go on
// while it is computed; the close then takes the write lock and, if any
// event was written meanwhile, computes it again there, so the report
// stored is the shift as it closes.
//
// A shift with deferred passes still owed does not close this way
// (ECONFLICT, naming them): see CloseShiftNaming.
func (db *DB) CloseShift(ctx context.Context, op *terminal.Operator, counted terminal.Totals) (*terminal.ZReport, error) {
	return db.CloseShiftNaming(ctx, op, counted, terminal.OpenPassNaming{})
}

// CloseShiftNaming closes the operator's open shift as CloseShift does;
// when deferred passes of the shift are still owed, only with a
// supervisor naming every one of them, and the Z-report lists them.
func (db *DB) CloseShiftNaming(ctx context.Context, op *terminal.Operator, counted terminal.Totals, naming terminal.OpenPassNaming) (*terminal.ZReport, error) {
	if err := validateCash("counted cash", counted); err != nil {
		return nil, err
	}
	var z terminal.ZReport
	var shiftID string
	var seen int64 // the last event when the report was read
	report := func(tx *Tx) error {
		sh, err := tx.openShift(ctx, op.ID)
		if err != nil {
			return err
		}
		if sh == nil {
			return terminal.Errorf(terminal.ECONFLICT, "%s has no open shift to close (already closed?)", op.Name)
		}
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM events`).Scan(&seen); err != nil {
			return err
		}
		shiftID = sh.ID
		if z, err = tx.zReport(ctx, sh, counted); err != nil {
			return err
		}
		open, err := tx.openPasses(ctx, sh.ID)
		if err != nil {
			return err
		}
		z.OpenPasses, z.OpenPassesBy, err = terminal.CheckOpenPassesNamed(open, naming)
		return err
	}
	if err := db.read(ctx, report); err != nil {
		return nil, storeError("the shift closing", err)
	}
	if db.afterReport != nil {
		db.afterReport()
	}
	err := db.record(ctx, "the shift closing", func(tx *Tx) error {
		var last int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM events`).Scan(&last); err != nil {
			return err
		}
		if last != seen {
			if err := report(tx); err != nil {
				return err
			}
		}
		for _, c := range z.Expected.Currencies() {
			if _, ok := counted[c]; !ok && z.Expected[c] != 0 {
				return terminal.Errorf(terminal.EINVALID, "count the %s cash too: %s is expected in the drawer", c, terminal.Money{Currency: c, Minor: z.Expected[c]})
			}
		}
		z.ClosedAt = tx.now
		zj, _ := json.Marshal(z)
		cj, _ := json.Marshal(counted)
		if _, err := tx.ExecContext(ctx, `UPDATE shifts SET closed_at = ?, counted = ?, zreport = ? WHERE id = ?`, ts(tx.now), string(cj), string(zj), shiftID); err != nil {
			return fmt.Errorf("close shift: %w", err)
		}
		_, err := tx.appendEvent(ctx, op.Name, terminal.ShiftClosed{ZReport: z})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &z, nil
}

// read runs fn in a transaction that is always rolled back.
func (db *DB) read(ctx context.Context, fn func(tx *Tx) error) error {
	id, _ := db.Identity(ctx)
	stx, err := db.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer stx.Rollback()
	tx := &Tx{Tx: stx, db: db, now: db.Now(), terminal: id.TerminalID, id: id}
	return fn(tx)
}
