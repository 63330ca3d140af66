package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
)

// CopyReport is what a copy did.
type CopyReport struct {
	HubID string `json:"hub_id"`
	// Terminals is how many terminals the source holds; Events how many
	// events were copied by this run (0 when run again).
	Terminals int `json:"terminals"`
	Events    int `json:"events_copied"`
	// Counts are the destination's row counts after the copy.
	Counts map[string]int `json:"counts"`
}

// copyLock serializes copies into one database.
const copyLock = 0x6c616e676f636f // "langoco"

// An embedded event's rowid k is its terminal's number shifted left by
// seqBits, or'd with its seq (sync/hub/sqlite).
const seqBits = 40

// CopyFromSQLite moves the whole history of an embedded hub (src, its
// SQLite file opened read-only and already migrated) into s: the hub id,
// authority keys (sealed as they go in), enrollments, terminals with
// their numbers, events, records, quarantine, conflicts, revocations,
// catalogues, the M-PESA ledger, and the tables of copiedAsIs (the
// certificates each terminal holds, the queue to the national platform,
// the prepaid ticket lists); the report's state is derived from the
// events as they go in. It loses and doubles nothing and is idempotent: rows are
// keyed as in the source, each terminal's events go across in one
// transaction with its last seq, and a second run copies only what the
// source gained since (nothing, if it did not change). A database that
// already holds another hub's records is refused.
func (s *Store) CopyFromSQLite(ctx context.Context, src *sql.DB) (CopyReport, error) {
	var rep CopyReport
	sl, err := s.sealer()
	if err != nil {
		return rep, err
	}
	if err := src.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'hub_id'`).Scan(&rep.HubID); err != nil {
		return rep, terminal.Errorf(terminal.EINVALID, "the embedded hub has no hub id: %v", err)
	}
	type term struct {
		id, lastHash, lastSeen string
		no, lastSeq, events    int64
	}
	var terms []term
	err = s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(copyLock)); err != nil {
			return unavailable(err)
		}
		var dstID string
		var held int
		if err := tx.QueryRow(ctx, `SELECT (SELECT value FROM meta WHERE key = 'hub_id'), (SELECT count(*) FROM terminals) + (SELECT count(*) FROM enrollments) + (SELECT count(*) FROM authorities)`).Scan(&dstID, &held); err != nil {
			return unavailable(err)
		}
		if dstID != rep.HubID && held > 0 {
			return terminal.Errorf(terminal.ECONFLICT, "the database already holds the records of another hub (hub id %s): copy into an empty database", dstID)
		}
		if _, err := tx.Exec(ctx, `UPDATE meta SET value = $1 WHERE key = 'hub_id'`, rep.HubID); err != nil {
			return unavailable(err)
		}
		// Authority keys: sealed as they go in.
		if err := eachRow(ctx, src, `SELECT kid, site, private, created_at FROM authorities`, func(r *sql.Rows) error {
			var kid, site, at string
			var priv []byte
			if err := r.Scan(&kid, &site, &priv, &at); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO authorities (kid, site, private, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
				kid, site, sl.seal(priv, authorityAD(kid, site)), at)
			return err
		}); err != nil {
			return fmt.Errorf("copy authority keys: %w", err)
		}
		if err := eachRow(ctx, src, `SELECT token_hash, site, name, created_at, expires_at, used_at, terminal_id, public_key, rekey_terminal, relay FROM enrollments`, func(r *sql.Rows) error {
			var hash, site, name, created, expires string
			var used, termID, rekey sql.NullString
			var pub []byte
			var relay bool
			if err := r.Scan(&hash, &site, &name, &created, &expires, &used, &termID, &pub, &rekey, &relay); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO enrollments (token_hash, site, name, created_at, expires_at, used_at, terminal_id, public_key, rekey_terminal, relay)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
				ON CONFLICT (token_hash) DO UPDATE SET used_at = excluded.used_at, terminal_id = excluded.terminal_id, public_key = excluded.public_key
				WHERE (enrollments.used_at, enrollments.terminal_id, enrollments.public_key) IS DISTINCT FROM (excluded.used_at, excluded.terminal_id, excluded.public_key)`,
				hash, site, name, created, expires, nullable(used), nullable(termID), pub, nullable(rekey), relay)
			return err
		}); err != nil {
			return fmt.Errorf("copy enrollments: %w", err)
		}
		// Terminals keep their numbers; their last seq stays where the
		// destination holds their events until those are copied.
		if err := eachRow(ctx, src, `SELECT no, id, site, name, public_key, certificate, enrolled_at, revoked_at, last_seq, last_hash, events, last_seen, relay FROM terminals ORDER BY no`, func(r *sql.Rows) error {
			var t term
			var site, name, cert, enrolled string
			var revoked sql.NullString
			var pub []byte
			var relay bool
			if err := r.Scan(&t.no, &t.id, &site, &name, &pub, &cert, &enrolled, &revoked, &t.lastSeq, &t.lastHash, &t.events, &t.lastSeen, &relay); err != nil {
				return err
			}
			terms = append(terms, t)
			_, err := tx.Exec(ctx, `INSERT INTO terminals (no, id, site, name, public_key, certificate, enrolled_at, revoked_at, relay) OVERRIDING SYSTEM VALUE
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
				ON CONFLICT (id) DO UPDATE SET public_key = excluded.public_key, certificate = excluded.certificate, enrolled_at = excluded.enrolled_at, revoked_at = excluded.revoked_at
				WHERE (terminals.public_key, terminals.certificate, terminals.enrolled_at, terminals.revoked_at) IS DISTINCT FROM (excluded.public_key, excluded.certificate, excluded.enrolled_at, excluded.revoked_at)`,
				t.no, t.id, site, name, pub, cert, enrolled, nullable(revoked), relay)
			return err
		}); err != nil {
			return fmt.Errorf("copy terminals: %w", err)
		}
		if err := eachRow(ctx, src, `SELECT site, seq, version, body, signature, kid, published_at FROM catalogues`, func(r *sql.Rows) error {
			var site, version, kid, at string
			var seq int64
			var body, sig []byte
			if err := r.Scan(&site, &seq, &version, &body, &sig, &kid, &at); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO catalogues (site, seq, version, body, signature, kid, published_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
				site, seq, version, body, sig, kid, at)
			return err
		}); err != nil {
			return fmt.Errorf("copy catalogues: %w", err)
		}
		if err := eachRow(ctx, src, `SELECT n, site, terminal, name, key_ids, revoked_at, honoured, digest FROM revocations`, func(r *sql.Rows) error {
			var n int64
			var site, termID, name, kids, at, honoured, digest string
			if err := r.Scan(&n, &site, &termID, &name, &kids, &at, &honoured, &digest); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO revocations (n, site, terminal, name, key_ids, revoked_at, honoured, digest) OVERRIDING SYSTEM VALUE
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`, n, site, termID, name, kids, at, honoured, digest)
			return err
		}); err != nil {
			return fmt.Errorf("copy revocations: %w", err)
		}
		if err := eachRow(ctx, src, `SELECT id, kind, site, terminal, seq, reason, at FROM conflicts`, func(r *sql.Rows) error {
			var id, seq int64
			var kind, site, termID, reason, at string
			if err := r.Scan(&id, &kind, &site, &termID, &seq, &reason, &at); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO conflicts (id, kind, site, terminal, seq, reason, at) OVERRIDING SYSTEM VALUE
				VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`, id, kind, site, termID, seq, reason, at)
			return err
		}); err != nil {
			return fmt.Errorf("copy conflicts: %w", err)
		}
		if err := copyMpesa(ctx, tx, src); err != nil {
			return err
		}
		if err := copyTables(ctx, tx, src); err != nil {
			return err
		}
		// New rows numbered after the copied ones.
		for _, q := range []string{
			`SELECT setval(pg_get_serial_sequence('terminals', 'no'), greatest((SELECT max(no) FROM terminals), 1))`,
			`SELECT setval(pg_get_serial_sequence('revocations', 'n'), greatest((SELECT max(n) FROM revocations), 1))`,
			`SELECT setval(pg_get_serial_sequence('conflicts', 'id'), greatest((SELECT max(id) FROM conflicts), 1))`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("copy: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	rep.Terminals = len(terms)
	for _, t := range terms {
		n, err := s.copyEvents(ctx, src, t.id, t.no, t.lastSeq, t.lastHash, t.events, t.lastSeen)
		if err != nil {
			return rep, fmt.Errorf("copy the events of terminal %s: %w", t.id, err)
		}
		rep.Events += n
	}
	rep.Counts, err = s.Counts(ctx)
	return rep, err
}

// copyEvents copies terminal no's events after the destination's last
// seq, with its records and quarantine, and sets its last seq, in one
// transaction.
func (s *Store) copyEvents(ctx context.Context, src *sql.DB, id string, no, lastSeq int64, lastHash string, events int64, lastSeen string) (int, error) {
	copied := 0
	err := s.write(ctx, func(tx pgx.Tx) error {
		var held int64
		if err := tx.QueryRow(ctx, `SELECT last_seq FROM terminals WHERE id = $1 FOR UPDATE`, id).Scan(&held); err != nil {
			return unavailable(err)
		}
		if held >= lastSeq {
			return nil
		}
		lo, hi := no<<seqBits|held, no<<seqBits|wire.MaxSeq
		rows, err := src.QueryContext(ctx, `SELECT k, id, type, at, actor, payload, prev_hash, hash, received_at FROM events WHERE k > ? AND k <= ? ORDER BY k`, lo, hi)
		if err != nil {
			return err
		}
		defer rows.Close()
		var rerr error
		n, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"terminal", "seq", "id", "type", "at", "actor", "payload", "prev_hash", "hash", "received_at"},
			pgx.CopyFromFunc(func() ([]any, error) {
				if !rows.Next() {
					rerr = rows.Err()
					return nil, rerr
				}
				var k int64
				var eid, typ, at, actor, prev, hash, recv string
				var payload []byte
				if err := rows.Scan(&k, &eid, &typ, &at, &actor, &payload, &prev, &hash, &recv); err != nil {
					return nil, err
				}
				u, err := uuid.Parse(eid)
				if err != nil {
					return nil, fmt.Errorf("event %d: id %q: %w", k&wire.MaxSeq, eid, err)
				}
				return []any{no, k & wire.MaxSeq, u, typ, at, actor, payload, prev, hash, recv}, nil
			}))
		if err != nil {
			return fmt.Errorf("events: %w", errors.Join(err, rerr))
		}
		copied = int(n)
		if err := eachRow(ctx, src, `SELECT k, type, reason FROM quarantine WHERE k > ? AND k <= ?`, func(r *sql.Rows) error {
			var k int64
			var typ, reason string
			if err := r.Scan(&k, &typ, &reason); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO quarantine (terminal, seq, type, reason) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, no, k&wire.MaxSeq, typ, reason)
			return err
		}, lo, hi); err != nil {
			return fmt.Errorf("quarantine: %w", err)
		}
		var ids []uuid.UUID
		var kinds []string
		if err := eachRow(ctx, src, `SELECT id, kind FROM records WHERE terminal = ?`, func(r *sql.Rows) error {
			var k []byte
			var kind string
			if err := r.Scan(&k, &kind); err != nil {
				return err
			}
			u, err := uuid.FromBytes(k)
			if err != nil {
				return err
			}
			ids, kinds = append(ids, u), append(kinds, kind)
			return nil
		}, no); err != nil {
			return fmt.Errorf("records: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO records (id, kind, terminal) SELECT u.id, u.kind, $1 FROM unnest($2::uuid[], $3::text[]) AS u(id, kind) ON CONFLICT DO NOTHING`, no, ids, kinds); err != nil {
			return fmt.Errorf("records: %w", err)
		}
		if err := copyReport(ctx, tx, no, held); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE terminals SET last_seq = $1, last_hash = $2, events = $3, last_seen = $4 WHERE id = $5`, lastSeq, lastHash, events, lastSeen, id)
		return err
	})
	return copied, err
}

func eachRow(ctx context.Context, db *sql.DB, q string, fn func(*sql.Rows) error, args ...any) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func nullable(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	v := strings.Clone(s.String)
	return &v
}

// copyMpesa copies the M-PESA ledger (migrations/0006_mpesa.sql): rows
// the destination holds already are kept.
func copyMpesa(ctx context.Context, tx pgx.Tx, src *sql.DB) error {
	if err := eachRow(ctx, src, `SELECT code, amount, account, short_code, at, source, received_at FROM mpesa_payments`, func(r *sql.Rows) error {
		var code, account, shortCode, at, source, received string
		var amount int64
		if err := r.Scan(&code, &amount, &account, &shortCode, &at, &source, &received); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO mpesa_payments (code, amount, account, short_code, at, source, received_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`, code, amount, account, shortCode, at, source, received)
		return err
	}); err != nil {
		return fmt.Errorf("copy M-PESA payments: %w", err)
	}
	if err := eachRow(ctx, src, `SELECT code, conversation_id, asked_at, result_code, result_desc, answered_at FROM mpesa_queries`, func(r *sql.Rows) error {
		var code, conv, asked, desc string
		var rc sql.NullInt64
		var answered sql.NullString
		if err := r.Scan(&code, &conv, &asked, &rc, &desc, &answered); err != nil {
			return err
		}
		var rcp *int64
		if rc.Valid {
			rcp = &rc.Int64
		}
		_, err := tx.Exec(ctx, `INSERT INTO mpesa_queries (code, conversation_id, asked_at, result_code, result_desc, answered_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, code, conv, asked, rcp, desc, nullable(answered))
		return err
	}); err != nil {
		return fmt.Errorf("copy M-PESA status queries: %w", err)
	}
	if err := eachRow(ctx, src, `SELECT short_code, through FROM mpesa_pulls`, func(r *sql.Rows) error {
		var sc, through string
		if err := r.Scan(&sc, &through); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO mpesa_pulls (short_code, through) VALUES ($1, $2)
			ON CONFLICT (short_code) DO UPDATE SET through = greatest(mpesa_pulls.through, excluded.through)`, sc, through)
		return err
	}); err != nil {
		return fmt.Errorf("copy M-PESA pull cursors: %w", err)
	}
	return nil
}

// copyReport takes the events of terminal no copied after seq into the
// report's state, as Apply would have.
func copyReport(ctx context.Context, tx pgx.Tx, no, after int64) error {
	for {
		rows, err := tx.Query(ctx, `SELECT `+eventCols+`, t.id, t.site, t.name FROM events e JOIN terminals t ON t.no = e.terminal
			WHERE e.terminal = $1 AND e.seq > $2 AND e.type = ANY($3) ORDER BY e.seq LIMIT 5000`, no, after, hub.ReportTypes)
		if err != nil {
			return fmt.Errorf("report state: %w", err)
		}
		var batch []hub.StoredEvent
		for rows.Next() {
			var se hub.StoredEvent
			var id string
			e, err := scanEvent(rows, "", &id, &se.Site, &se.Name)
			if err != nil {
				rows.Close()
				return fmt.Errorf("report state: %w", err)
			}
			e.Terminal, after = id, e.Seq
			se.Event = e
			batch = append(batch, se)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("report state: %w", err)
		}
		if len(batch) == 0 {
			return nil
		}
		tail := &pgx.Batch{}
		if err := keepReportStored(ctx, tx, batch, reportMode{lock: true}, tail); err != nil {
			return err
		}
		if err := sendBatch(ctx, tx, tail, "report state"); err != nil {
			return err
		}
	}
}
