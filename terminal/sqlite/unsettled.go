package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/lango-pos/lango/terminal"
)

// sqlUnsettled selects this terminal's deferred sales whose pass no
// terminal of the site has settled or voided as far as this store knows
// (its own settlements and the site feed's both mark the pass).
const (
	sqlUnsettledWhere = `
	WHERE s.state = 'deferred' AND s.kind = 'sale'
	AND NOT EXISTS (SELECT 1 FROM pass_marks m WHERE m.pass_id = s.id AND m.mark IN ('settled', 'revoked'))`
	sqlUnsettled = `SELECT ` + saleCols + saleFrom + sqlUnsettledWhere + ` ORDER BY s.number`
	// A shift's: its range of the sales' rowid (shiftSales), not a scan of
	// every sale ever made, which at a million sales held the shift's
	// close (and the lane's next sale) for a second.
	sqlUnsettledShift = `SELECT ` + saleCols + saleFrom + sqlUnsettledWhere + ` AND ` + shiftSales + ` ORDER BY s.number`
)

// Unsettled lists the deferred passes of this terminal still owed, oldest
// first, with who owes them and their age at the store's clock.
func (db *DB) Unsettled(ctx context.Context) ([]terminal.UnsettledPass, error) {
	id, err := db.Identity(ctx)
	if err != nil {
		return nil, err
	}
	now := db.Now()
	rows, err := db.db.QueryContext(ctx, sqlUnsettled)
	if err != nil {
		return nil, fmt.Errorf("unsettled passes: %w", err)
	}
	return db.scanUnsettled(rows, id, now)
}

// openPasses lists the deferred passes of shift still owed, in tx.
func (tx *Tx) openPasses(ctx context.Context, shiftID string) ([]terminal.UnsettledPass, error) {
	rows, err := tx.QueryContext(ctx, sqlUnsettledShift, shiftID)
	if err != nil {
		return nil, fmt.Errorf("open passes of the shift: %w", err)
	}
	return tx.db.scanUnsettled(rows, tx.id, tx.now)
}

func (db *DB) scanUnsettled(rows *sql.Rows, id terminal.Identity, now time.Time) ([]terminal.UnsettledPass, error) {
	defer rows.Close()
	out := []terminal.UnsettledPass{}
	for rows.Next() {
		s, err := db.scanSale(rows)
		if err != nil {
			return nil, fmt.Errorf("unsettled passes: %w", err)
		}
		out = append(out, terminal.UnsettledOf(s, id.Site, id.Name, now))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("unsettled passes: %w", err)
	}
	return out, nil
}
