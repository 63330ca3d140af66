package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
)

// RevocationCursor is the number of the last revocation applied.
func (db *DB) RevocationCursor(ctx context.Context) (int64, error) {
	var n int64
	if err := db.db.QueryRowContext(ctx, `SELECT coalesce(max(n), 0) FROM revoked_issuers`).Scan(&n); err != nil {
		return 0, fmt.Errorf("revocation cursor: %w", err)
	}
	return n, nil
}

// ApplyRevocations records revocations from the site feed, in one
// transaction; applying one again changes nothing.
func (db *DB) ApplyRevocations(ctx context.Context, rs []terminal.Revocation) error {
	if len(rs) == 0 {
		return nil
	}
	return db.bookkeep(ctx, func(tx *Tx) error {
		for _, r := range rs {
			for _, k := range r.KeyIDs {
				if _, err := tx.ExecContext(ctx, `INSERT INTO revoked_issuers (key_id, name, terminal, revoked_at, n) VALUES (?, ?, ?, ?, ?)
					ON CONFLICT DO NOTHING`, k.String(), r.Name, r.TerminalID, ts(r.RevokedAt), r.N); err != nil {
					return fmt.Errorf("revocation: %w", err)
				}
			}
			for _, id := range r.Honoured {
				if _, err := tx.ExecContext(ctx, `INSERT INTO honoured_passes (pass_id, terminal) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, r.TerminalID); err != nil {
					return fmt.Errorf("revocation: %w", err)
				}
			}
		}
		return nil
	})
}

// issuerRevoked refuses p if its issuing key was revoked at the hub and the
// hub had not received its sale before.
func (db *DB) issuerRevoked(ctx context.Context, p *pass.Pass) (*pass.RefusedError, error) {
	var at string
	err := db.db.QueryRowContext(ctx, `SELECT revoked_at FROM revoked_issuers WHERE key_id = ? AND name = ?
		AND NOT EXISTS (SELECT 1 FROM honoured_passes WHERE pass_id = ?)`, p.KeyID.String(), p.Terminal, p.ID.String()).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("revoked issuers: %w", err)
	}
	return pass.Refuse(pass.Revoked, "issued by %s, a terminal revoked at the hub on %s, and not among the sales the hub holds from it",
		p.Terminal, db.SiteTime(parseTS(at), "2006-01-02 15:04")), nil
}
