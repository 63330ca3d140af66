package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// SetCertificateHolds implements hub.Store.
func (s *Store) SetCertificateHolds(ctx context.Context, id string, keyIDs []string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM cert_holds WHERE terminal_id = ?`, id); err != nil {
			return fmt.Errorf("certificate holds: %w", err)
		}
		for _, k := range keyIDs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO cert_holds (terminal_id, key_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, k); err != nil {
				return fmt.Errorf("certificate holds: %w", err)
			}
		}
		return nil
	})
}

// CertificateHolds implements hub.Store.
func (s *Store) CertificateHolds(ctx context.Context, site string) (map[string][]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT h.terminal_id, h.key_id FROM cert_holds h JOIN terminals t ON t.id = h.terminal_id WHERE t.site = ? ORDER BY h.terminal_id, h.key_id`, site)
	if err != nil {
		return nil, fmt.Errorf("certificate holds: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var id, k string
		if err := rows.Scan(&id, &k); err != nil {
			return nil, err
		}
		out[id] = append(out[id], k)
	}
	return out, rows.Err()
}

// SiteHolds implements hub.Store.
func (s *Store) SiteHolds(ctx context.Context, site, id string, keys []string) ([]string, map[string][]string, error) {
	q := `SELECT h.terminal_id, h.key_id FROM cert_holds h JOIN terminals t ON t.id = h.terminal_id WHERE t.site = ? AND (h.terminal_id = ?`
	args := []any{site, id}
	if len(keys) > 0 {
		q += ` OR h.key_id IN (?` + strings.Repeat(`, ?`, len(keys)-1) + `)`
		for _, k := range keys {
			args = append(args, k)
		}
	}
	rows, err := s.r.QueryContext(ctx, q+`) ORDER BY h.terminal_id, h.key_id`, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate holds: %w", err)
	}
	defer rows.Close()
	var own []string
	held := map[string][]string{}
	for rows.Next() {
		var tid, k string
		if err := rows.Scan(&tid, &k); err != nil {
			return nil, nil, err
		}
		if tid == id {
			own = append(own, k)
		} else {
			held[tid] = append(held[tid], k)
		}
	}
	return own, held, rows.Err()
}
