package relay

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lango-pos/lango/internal/sqlitefile"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// db is the relay's own store (relay.db in its data folder): one SQLite
// file, one connection, WAL and synchronous=FULL.
type db struct {
	w *sql.DB
}

func openDB(ctx context.Context, path string) (*db, error) {
	w, err := sqlitefile.OpenWriter(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := sqlitefile.Migrate(ctx, w, migrations, "migrations/*.sql", time.Now); err != nil {
		w.Close()
		return nil, fmt.Errorf("relay store: %w", err)
	}
	return &db{w: w}, nil
}

func (d *db) Close() error { return d.w.Close() }

func (d *db) update(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("relay store: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("relay store: %w", err)
	}
	return nil
}

// identity is who the relay is at the central hub.
type identity struct {
	RelayID     string
	Site        string
	Name        string
	Key         ed25519.PrivateKey
	Certificate string
	Authorities string
	Upstream    string
	HubID       string
	EnrolledAt  time.Time
}

var errNotEnrolled = errors.New("the relay is not enrolled")

func (d *db) identity(ctx context.Context) (identity, error) {
	var id identity
	var key []byte
	var at string
	err := d.w.QueryRowContext(ctx, `SELECT relay_id, site, name, private, certificate, authorities, upstream, hub_id, enrolled_at FROM identity`).
		Scan(&id.RelayID, &id.Site, &id.Name, &key, &id.Certificate, &id.Authorities, &id.Upstream, &id.HubID, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return id, errNotEnrolled
	}
	if err != nil {
		return id, fmt.Errorf("relay identity: %w", err)
	}
	if len(key) != ed25519.PrivateKeySize {
		return id, fmt.Errorf("relay identity: the key is %d bytes", len(key))
	}
	id.Key = ed25519.PrivateKey(key)
	id.EnrolledAt, _ = time.Parse(time.RFC3339Nano, at)
	return id, nil
}

func (d *db) setIdentity(ctx context.Context, id identity) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO identity (one, relay_id, site, name, private, certificate, authorities, upstream, hub_id, enrolled_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id.RelayID, id.Site, id.Name, []byte(id.Key), id.Certificate, id.Authorities, id.Upstream, id.HubID, id.EnrolledAt.UTC().Format(time.RFC3339Nano))
		if err != nil {
			return fmt.Errorf("relay identity: %w", err)
		}
		return nil
	})
}

func (d *db) setAuthorities(ctx context.Context, pem string) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE identity SET authorities = ? WHERE one = 1`, pem)
		return err
	})
}

// upload is a terminal's upload as it sent it.
type upload struct {
	Terminal string
	FirstSeq int64
	LastSeq  int64
	LastHash string
	Sig      wire.Signed
	Encoding string
	Body     []byte
	feedRows []wire.FeedEvent
	name     string
}

// recordUpload keeps an upload the relay's hub accepted (all of its
// events are held there), with its feed events, and moves the terminal's
// covered seq over every contiguous upload kept.
func (d *db) recordUpload(ctx context.Context, u upload) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO terminals (terminal, name) VALUES (?, ?) ON CONFLICT (terminal) DO UPDATE SET name = excluded.name`, u.Terminal, u.name); err != nil {
			return fmt.Errorf("record upload: %w", err)
		}
		var covered int64
		if err := tx.QueryRowContext(ctx, `SELECT covered FROM terminals WHERE terminal = ?`, u.Terminal).Scan(&covered); err != nil {
			return fmt.Errorf("record upload: %w", err)
		}
		if u.LastSeq > covered {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO uploads (terminal, first_seq, last_seq, last_hash, time_ms, nonce, signature, encoding, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				u.Terminal, u.FirstSeq, u.LastSeq, u.LastHash, u.Sig.UnixMilli, u.Sig.Nonce, u.Sig.Signature, u.Encoding, u.Body); err != nil {
				return fmt.Errorf("record upload: %w", err)
			}
		}
		for _, e := range u.feedRows {
			b, err := json.Marshal(e.Event)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO feed (terminal, seq, name, event) VALUES (?, ?, ?, ?)`, e.Terminal, e.Seq, e.Name, b); err != nil {
				return fmt.Errorf("record upload: %w", err)
			}
		}
		return advanceCovered(ctx, tx, u.Terminal, covered)
	})
}

// advanceCovered moves the terminal's covered seq over the uploads kept
// that join on to it.
func advanceCovered(ctx context.Context, tx *sql.Tx, terminal string, covered int64) error {
	moved := false
	var hash string
	for {
		var last int64
		var h string
		err := tx.QueryRowContext(ctx, `SELECT last_seq, last_hash FROM uploads WHERE terminal = ? AND first_seq <= ? AND last_seq > ? ORDER BY last_seq DESC LIMIT 1`,
			terminal, covered+1, covered).Scan(&last, &h)
		if errors.Is(err, sql.ErrNoRows) {
			break
		}
		if err != nil {
			return fmt.Errorf("covered: %w", err)
		}
		covered, hash, moved = last, h, true
	}
	if !moved {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE terminals SET covered = ?, covered_hash = ? WHERE terminal = ?`, covered, hash, terminal)
	return err
}

// covered says how far the relay holds a terminal's uploads.
func (d *db) covered(ctx context.Context, terminal string) (int64, string, error) {
	var seq int64
	var hash string
	err := d.w.QueryRowContext(ctx, `SELECT covered, covered_hash FROM terminals WHERE terminal = ?`, terminal).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	return seq, hash, err
}

// pending is a terminal whose uploads the centre does not hold yet.
type pending struct {
	Terminal  string
	Name      string
	Covered   int64
	Forwarded int64
}

func (d *db) pending(ctx context.Context) ([]pending, error) {
	rows, err := d.w.QueryContext(ctx, `SELECT terminal, name, covered, forwarded FROM terminals WHERE covered > forwarded ORDER BY terminal`)
	if err != nil {
		return nil, fmt.Errorf("pending: %w", err)
	}
	defer rows.Close()
	var out []pending
	for rows.Next() {
		var p pending
		if err := rows.Scan(&p.Terminal, &p.Name, &p.Covered, &p.Forwarded); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// nextUpload is the kept upload that carries the terminal's events on
// from after (ok false if none does).
func (d *db) nextUpload(ctx context.Context, terminal string, after int64) (upload, bool, error) {
	u := upload{Terminal: terminal}
	err := d.w.QueryRowContext(ctx, `SELECT first_seq, last_seq, last_hash, time_ms, nonce, signature, encoding, body FROM uploads
		WHERE terminal = ? AND first_seq <= ? AND last_seq > ? ORDER BY last_seq DESC LIMIT 1`, terminal, after+1, after).
		Scan(&u.FirstSeq, &u.LastSeq, &u.LastHash, &u.Sig.UnixMilli, &u.Sig.Nonce, &u.Sig.Signature, &u.Encoding, &u.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return u, false, nil
	}
	if err != nil {
		return u, false, fmt.Errorf("next upload: %w", err)
	}
	u.Sig.Terminal = terminal
	return u, true, nil
}

// forwarded records how far the centre holds a terminal's events, and
// drops the uploads it holds whole. When the centre is behind every
// upload kept (it was restored from a backup, or this relay's store is
// new), covered falls back to the centre's seq and hash, so the terminal
// sends the rest again.
func (d *db) forwarded(ctx context.Context, terminal, name string, seq int64, hash string) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO terminals (terminal, name) VALUES (?, ?) ON CONFLICT (terminal) DO UPDATE SET name = excluded.name`, terminal, name); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE terminals SET forwarded = ? WHERE terminal = ?`, seq, terminal); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM uploads WHERE terminal = ? AND last_seq <= ?`, terminal, seq); err != nil {
			return err
		}
		var covered int64
		if err := tx.QueryRowContext(ctx, `SELECT covered FROM terminals WHERE terminal = ?`, terminal).Scan(&covered); err != nil {
			return err
		}
		if covered <= seq || hash == "" {
			return nil
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM uploads WHERE terminal = ? AND first_seq <= ? AND last_seq > ?`, terminal, seq+1, seq).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, `UPDATE terminals SET covered = ?, covered_hash = ? WHERE terminal = ?`, seq, hash, terminal)
		if err != nil {
			return err
		}
		return advanceCovered(ctx, tx, terminal, seq)
	})
}

// addFeed keeps a page of the centre's feed.
func (d *db) addFeed(ctx context.Context, events []wire.FeedEvent, peers []wire.Peer, revs []wire.Revocation) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		for _, e := range events {
			b, err := json.Marshal(e.Event)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO feed (terminal, seq, name, event) VALUES (?, ?, ?, ?)`, e.Terminal, e.Seq, e.Name, b); err != nil {
				return fmt.Errorf("feed: %w", err)
			}
		}
		for _, p := range peers {
			if _, err := tx.ExecContext(ctx, `INSERT INTO terminals (terminal, name, upstream) VALUES (?, ?, ?)
				ON CONFLICT (terminal) DO UPDATE SET name = excluded.name, upstream = max(upstream, excluded.upstream)`, p.TerminalID, p.Name, p.Seq); err != nil {
				return fmt.Errorf("feed: %w", err)
			}
		}
		for _, r := range revs {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO revocations (n, body) VALUES (?, ?)`, r.N, b); err != nil {
				return fmt.Errorf("revocations: %w", err)
			}
		}
		return nil
	})
}

// feedCursors are the relay's cursors in the centre's feed.
func (d *db) feedCursors(ctx context.Context) (map[string]int64, int64, error) {
	rows, err := d.w.QueryContext(ctx, `SELECT terminal, upstream FROM terminals WHERE upstream > 0`)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			return nil, 0, err
		}
		out[id] = seq
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var n int64
	err = d.w.QueryRowContext(ctx, `SELECT coalesce(max(n), 0) FROM revocations`).Scan(&n)
	return out, n, err
}

// feed serves the site feed from what the relay holds: the feed events of
// every terminal of the site but exclude after its cursor. A terminal's
// feed ends at the further of what the relay holds of it (covered) and
// what the centre's feed has brought down (upstream): both are prefixes of
// the same chain.
func (d *db) feed(ctx context.Context, exclude string, cursors map[string]int64, limit int) (hub.FeedPage, error) {
	var page hub.FeedPage
	tx, err := d.w.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return page, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT terminal, name, max(covered, upstream) FROM terminals WHERE terminal != ? ORDER BY name, terminal`, exclude)
	if err != nil {
		return page, fmt.Errorf("feed: %w", err)
	}
	var peers []hub.FeedCursor
	for rows.Next() {
		var p hub.FeedCursor
		if err := rows.Scan(&p.TerminalID, &p.Name, &p.Seq); err != nil {
			rows.Close()
			return page, err
		}
		peers = append(peers, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return page, err
	}
	for _, p := range peers {
		cur := cursors[p.TerminalID]
		if cur >= p.Seq {
			page.Cursors = append(page.Cursors, hub.FeedCursor{TerminalID: p.TerminalID, Name: p.Name, Seq: cur})
			continue
		}
		room := limit - len(page.Events)
		if room <= 0 {
			page.More = true
			page.Cursors = append(page.Cursors, hub.FeedCursor{TerminalID: p.TerminalID, Name: p.Name, Seq: cur})
			continue
		}
		rows, err := tx.QueryContext(ctx, `SELECT event FROM feed WHERE terminal = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?`, p.TerminalID, cur, p.Seq, room+1)
		if err != nil {
			return page, fmt.Errorf("feed: %w", err)
		}
		next, n := p.Seq, 0
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				rows.Close()
				return page, err
			}
			if n == room {
				page.More = true
				next = page.Events[len(page.Events)-1].Seq
				break
			}
			var e wire.Event
			if err := json.Unmarshal(b, &e); err != nil {
				rows.Close()
				return page, fmt.Errorf("feed row %s/%d: %w", p.TerminalID, cur, err)
			}
			page.Events = append(page.Events, hub.StoredEvent{Event: toDomain(e), Name: p.Name})
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return page, err
		}
		page.Cursors = append(page.Cursors, hub.FeedCursor{TerminalID: p.TerminalID, Name: p.Name, Seq: next})
	}
	return page, nil
}

func (d *db) revocations(ctx context.Context, after int64, limit int) ([]wire.Revocation, error) {
	rows, err := d.w.QueryContext(ctx, `SELECT body FROM revocations WHERE n > ? ORDER BY n LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("revocations: %w", err)
	}
	defer rows.Close()
	out := []wire.Revocation{}
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		var r wire.Revocation
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// counts gives the row count of each table, for tests and status.
func (d *db) counts(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for _, t := range []string{"uploads", "terminals", "feed", "revocations"} {
		var n int
		if err := d.w.QueryRowContext(ctx, `SELECT count(*) FROM `+t).Scan(&n); err != nil {
			return nil, err
		}
		out[t] = n
	}
	return out, nil
}

func toDomain(e wire.Event) terminal.Event { return terminal.Event(e) }
