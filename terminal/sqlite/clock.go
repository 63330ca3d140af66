package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
)

// clockWindow is when this terminal's clock may be for it to write events:
// inside the range the hub takes (terminal.MinEventTime–MaxEventTime) and
// inside its certificates' validity (a pass signed outside it verifies
// nowhere).
type clockWindow struct{ from, to time.Time }

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

// checkClock refuses now when it is outside the clock window: a flat RTC
// battery (1970) or a clock set a century ahead. Every event goes through
// it, so an event the hub would refuse is never written (issue 12: no
// poison events).
func (db *DB) checkClock(ctx context.Context, q querier, now time.Time) error {
	w, err := db.clockWindow(ctx, q)
	if err != nil {
		return err
	}
	if !now.Before(w.from) && now.Before(w.to) {
		return nil
	}
	return terminal.Errorf(terminal.EINVALID, "this terminal's clock reads %s, outside %s – %s when it may record: set the date and time, then try again (nothing was recorded)",
		now.UTC().Format("2006-01-02 15:04 MST"), w.from.UTC().Format("2006-01-02"), w.to.UTC().Format("2006-01-02"))
}

func (db *DB) clockWindow(ctx context.Context, q querier) (clockWindow, error) {
	db.mu.Lock()
	cached := db.window
	db.mu.Unlock()
	if cached != nil {
		return *cached, nil
	}
	w := clockWindow{from: terminal.MinEventTime, to: terminal.MaxEventTime}
	rows, err := q.QueryContext(ctx, `SELECT cert FROM keys WHERE kind = 'terminal' AND cert IS NOT NULL`)
	if err != nil {
		return w, fmt.Errorf("clock window: %w", err)
	}
	defer rows.Close()
	var from, to time.Time
	for rows.Next() {
		var pem []byte
		if err := rows.Scan(&pem); err != nil {
			return w, err
		}
		certs, err := pass.ParseCertificatesPEM(pem)
		if err != nil {
			return w, fmt.Errorf("clock window: %w", err)
		}
		for _, c := range certs {
			if from.IsZero() || c.NotBefore.Before(from) {
				from = c.NotBefore
			}
			if c.NotAfter.After(to) {
				to = c.NotAfter
			}
		}
	}
	if err := rows.Err(); err != nil {
		return w, err
	}
	if !from.IsZero() { // none before Init has made the keys
		if from.After(w.from) {
			w.from = from
		}
		if to.Before(w.to) {
			w.to = to
		}
		db.mu.Lock()
		db.window = &w
		db.mu.Unlock()
	}
	return w, nil
}

func (db *DB) resetClockWindow() {
	db.mu.Lock()
	db.window = nil
	db.issuer = nil
	db.mu.Unlock()
}
