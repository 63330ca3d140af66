package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lango-pos/lango/terminal"
)

// ShiftSheet returns one shift's takings and its tenders sale by sale;
// shiftID "" is the shift opened last at this terminal. Its takings are
// the Z-report's tenders (the same reading, BuildZReport).
func (db *DB) ShiftSheet(ctx context.Context, shiftID string) (*terminal.ShiftSheet, error) {
	var out *terminal.ShiftSheet
	err := db.read(ctx, func(tx *Tx) error {
		q := `SELECT s.id, o.name, s.opened_at, s.closed_at, s.float FROM shifts s JOIN operators o ON o.id = s.operator_id WHERE s.id = ?`
		args := []any{shiftID}
		if shiftID == "" {
			q, args = `SELECT s.id, o.name, s.opened_at, s.closed_at, s.float FROM shifts s JOIN operators o ON o.id = s.operator_id ORDER BY s.opened_at DESC, s.rowid DESC LIMIT 1`, nil
		}
		var sh terminal.Shift
		var opened, fl string
		var closed sql.NullString
		switch err := tx.QueryRowContext(ctx, q, args...).Scan(&sh.ID, &sh.Operator, &opened, &closed, &fl); {
		case errors.Is(err, sql.ErrNoRows) && shiftID == "":
			return terminal.Errorf(terminal.ENOTFOUND, "no shift was ever opened at this terminal")
		case errors.Is(err, sql.ErrNoRows):
			return terminal.Errorf(terminal.ENOTFOUND, "no shift %q at this terminal", shiftID)
		case err != nil:
			return fmt.Errorf("shift: %w", err)
		}
		sh.OpenedAt = parseTS(opened)
		if err := json.Unmarshal([]byte(fl), &sh.Float); err != nil {
			return fmt.Errorf("shift float: %w", err)
		}
		tenders, err := tx.shiftTenders(ctx, sh.ID)
		if err != nil {
			return err
		}
		z := terminal.BuildZReport(sh, tenders, nil)
		out = &terminal.ShiftSheet{ShiftID: sh.ID, Terminal: tx.id.Name, Site: tx.id.Site, Operator: sh.Operator, OpenedAt: sh.OpenedAt,
			Takings: z.Tenders, Rows: []terminal.ShiftRow{}}
		if out.Takings == nil {
			out.Takings = []terminal.TenderTotal{}
		}
		if closed.Valid {
			t := parseTS(closed.String)
			out.ClosedAt = &t
		}
		return tx.shiftRows(ctx, sh.ID, out)
	})
	if err != nil {
		return nil, storeError("the shift report", err)
	}
	return out, nil
}

func (tx *Tx) shiftRows(ctx context.Context, shiftID string, out *terminal.ShiftSheet) error {
	rows, err := tx.QueryContext(ctx, `SELECT `+saleCols+saleFrom+` WHERE `+shiftSales+` ORDER BY s.number`, shiftID)
	if err != nil {
		return fmt.Errorf("shift sales: %w", err)
	}
	defer rows.Close()
	add := func(r terminal.ShiftRow, ts []terminal.Tender) {
		for _, t := range ts {
			tr := r
			tr.Tender, tr.Currency, tr.Amount, tr.Reference, tr.Bank = string(t.Kind), t.Currency, t.Net(), t.Reference, t.Bank
			out.Rows = append(out.Rows, tr)
		}
	}
	for rows.Next() {
		s, err := tx.db.scanSale(rows)
		if err != nil {
			return fmt.Errorf("shift sales: %w", err)
		}
		r := terminal.ShiftRow{At: s.At, Kind: s.Kind, SaleID: s.ID, Number: s.Number, State: string(s.State), Vehicle: s.Vehicle}
		if s.Kind == "refund" {
			r.State = "refund"
		}
		if o := s.Owed; o != nil {
			r.TourOperator, r.Phone = o.Operator, o.Phone
		}
		for _, c := range s.Due.Currencies() { // a deferred pass: what it owed
			dr := r
			dr.Tender, dr.Currency, dr.Due = string(terminal.TenderDefer), c, s.Due[c]
			out.Rows = append(out.Rows, dr)
		}
		add(r, s.Tenders)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	srows, err := tx.QueryContext(ctx, `SELECT doc FROM settlements WHERE `+shiftSettlements+` ORDER BY at`, shiftID)
	if err != nil {
		return fmt.Errorf("shift settlements: %w", err)
	}
	defer srows.Close()
	for srows.Next() {
		var doc string
		if err := srows.Scan(&doc); err != nil {
			return err
		}
		var st terminal.Settlement
		if err := json.Unmarshal([]byte(doc), &st); err != nil {
			return fmt.Errorf("shift settlements: %w", err)
		}
		add(terminal.ShiftRow{At: st.At, Kind: "settlement", SaleID: st.ID, Settles: st.PassID, State: string(terminal.SaleSettled), Vehicle: st.Plate}, st.Tenders)
	}
	return srows.Err()
}
