package sqlite

import (
	"context"
	"fmt"

	"github.com/lango-pos/lango/sync/hub"
)

// ForwardStates implements hub.Store.
func (s *Store) ForwardStates(ctx context.Context) (map[string]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT sale_key, state FROM forwards WHERE kind IN ('bill', 'reversal')`)
	if err != nil {
		return nil, fmt.Errorf("forward states: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var key, state string
		if err := rows.Scan(&key, &state); err != nil {
			return nil, fmt.Errorf("forward states: %w", err)
		}
		out[key] = hub.ForwardStateOf(out[key], state)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("forward states: %w", err)
	}
	return out, nil
}
