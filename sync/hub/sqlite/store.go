package sqlite

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/lango-pos/lango/internal/sqlitefile"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the hub's embedded store: one SQLite file in WAL mode with
// synchronous=FULL, one writer connection (every write transaction is
// BEGIN IMMEDIATE) and a small pool of read-only connections, so the feed
// and reports never wait for an upload.
type Store struct {
	w, r *sql.DB
	path string

	// insertEvents[0] inserts one event, insertEvents[1] insertChunk at
	// once: one statement per chunk spares most of the per-statement cost
	// of database/sql and the driver on the hub's hot path.
	insertEvents [2]*sql.Stmt
	insertRecs   [2]*sql.Stmt // records, likewise: one, recordChunk
	feedTypes    string       // SQL list of the feed types, for the partial index

	// applyHook, set by tests only, runs after each event Apply inserts;
	// an error aborts the transaction, as a crash would.
	applyHook func(inserted int) error
}

var _ hub.Store = (*Store)(nil)

// Open opens (creating if needed) the hub store at path.
func Open(ctx context.Context, path string) (*Store, error) {
	w, err := sqlitefile.OpenWriter(ctx, path)
	if err != nil {
		return nil, err
	}
	s := &Store{w: w, path: path}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	if s.r, err = sql.Open("sqlite", sqlitefile.DSN(path, true)); err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s.r.SetMaxOpenConns(4)
	var quoted []string
	for _, t := range wire.FeedTypes() {
		quoted = append(quoted, "'"+t+"'")
	}
	s.feedTypes = "(" + strings.Join(quoted, ", ") + ")"
	for i, n := range []int{1, insertChunk} {
		values := strings.Repeat(", (?, ?, ?, ?, ?, ?, ?, ?, ?)", n)[2:]
		if s.insertEvents[i], err = w.PrepareContext(ctx, `INSERT INTO events (k, id, type, at, actor, payload, prev_hash, hash, received_at) VALUES `+values); err != nil {
			s.Close()
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		if n > 1 {
			n = recordChunk
		}
		values = strings.Repeat(", (?, ?, ?)", n)[2:]
		if s.insertRecs[i], err = w.PrepareContext(ctx, `INSERT INTO records (id, kind, terminal) VALUES `+values); err != nil {
			s.Close()
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	return s, nil
}

// Close closes the store.
func (s *Store) Close() error {
	for _, st := range append(s.insertEvents[:], s.insertRecs[:]...) {
		if st != nil {
			st.Close()
		}
	}
	var err error
	if s.r != nil {
		err = s.r.Close()
	}
	return errors.Join(err, s.w.Close())
}

// SetApplyHook makes Apply call fn after each event it inserts; an error
// from fn aborts the batch's transaction as a crash would. Tests only.
func (s *Store) SetApplyHook(fn func(inserted int) error) { s.applyHook = fn }

// Path is the store's file.
func (s *Store) Path() string { return s.path }

func (s *Store) migrate(ctx context.Context) error {
	if err := sqlitefile.Migrate(ctx, s.w, migrations, "migrations/*.sql", time.Now); err != nil {
		return err
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		var b [16]byte
		rand.Read(b[:])
		_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('hub_id', ?) ON CONFLICT DO NOTHING`, hex.EncodeToString(b[:]))
		return err
	})
	if err != nil {
		return err
	}
	return s.rebuildReport(ctx)
}

// write runs fn in a write transaction, committing if it returns nil.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// An event's rowid k is its terminal's number (terminals.no) shifted left
// by seqBits, or'd with its seq: (terminal, seq) is the events table's own
// key (migrations/0002_events_key.sql).
const (
	seqBits = 40
	seqMask = wire.MaxSeq
	// maxTerminalNo keeps k positive.
	maxTerminalNo = 1<<(63-seqBits) - 1
)

// insertChunk is how many events one INSERT statement of Apply carries;
// recordChunk how many records (small rows: more to a statement).
const (
	insertChunk = 32
	recordChunk = 100
)

func eventKey(no, seq int64) int64 { return no<<seqBits | seq }

// ts formats a time for storage: UTC, fixed width, so text order is time
// order.
func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

func parseTS(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func nullTS(s sql.NullString) time.Time {
	if !s.Valid {
		return time.Time{}
	}
	return parseTS(s.String)
}

// HubID implements hub.Store.
func (s *Store) HubID(ctx context.Context) (string, error) {
	var id string
	if err := s.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'hub_id'`).Scan(&id); err != nil {
		return "", fmt.Errorf("hub id: %w", err)
	}
	return id, nil
}

// AuthorityKeys implements hub.Store.
func (s *Store) AuthorityKeys(ctx context.Context, site string) ([]hub.AuthorityKey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT kid, private, created_at FROM authorities WHERE site = ? ORDER BY created_at DESC, kid`, site)
	if err != nil {
		return nil, fmt.Errorf("authority keys: %w", err)
	}
	defer rows.Close()
	var out []hub.AuthorityKey
	for rows.Next() {
		k := hub.AuthorityKey{Site: site}
		var priv []byte
		var at string
		if err := rows.Scan(&k.KeyID, &priv, &at); err != nil {
			return nil, err
		}
		if k.Private, err = pass.ParsePrivateKeyPEM(priv); err != nil {
			return nil, fmt.Errorf("authority key %s: %w", k.KeyID, err)
		}
		k.CreatedAt = parseTS(at)
		out = append(out, k)
	}
	return out, rows.Err()
}

// AddAuthorityKey implements hub.Store.
func (s *Store) AddAuthorityKey(ctx context.Context, k hub.AuthorityKey) error {
	p, err := pass.MarshalPrivateKeyPEM(k.Private)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO authorities (kid, site, private, created_at) VALUES (?, ?, ?, ?)`, k.KeyID, k.Site, p, ts(k.CreatedAt))
		if err != nil {
			return fmt.Errorf("add authority key: %w", err)
		}
		return nil
	})
}

// AddEnrollment implements hub.Store.
func (s *Store) AddEnrollment(ctx context.Context, e hub.Enrollment) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		var rekey sql.NullString
		if e.TerminalID != "" {
			rekey = sql.NullString{String: e.TerminalID, Valid: true}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO enrollments (token_hash, site, name, created_at, expires_at, rekey_terminal, relay) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			e.TokenHash, e.Site, e.Name, ts(e.CreatedAt), ts(e.ExpiresAt), rekey, e.Relay)
		if err != nil {
			return fmt.Errorf("add enrollment: %w", err)
		}
		return nil
	})
}

const terminalCols = `id, site, name, public_key, certificate, enrolled_at, revoked_at, last_seq, last_hash, events, last_seen, relay`

func scanTerminal(row interface{ Scan(...any) error }) (hub.Terminal, error) {
	var t hub.Terminal
	var pub []byte
	var enrolled, seen string
	var revoked sql.NullString
	if err := row.Scan(&t.ID, &t.Site, &t.Name, &pub, &t.Certificate, &enrolled, &revoked, &t.LastSeq, &t.LastHash, &t.Events, &seen, &t.Relay); err != nil {
		return t, err
	}
	t.PublicKey = ed25519.PublicKey(pub)
	t.EnrolledAt, t.RevokedAt, t.LastSeen = parseTS(enrolled), nullTS(revoked), parseTS(seen)
	return t, nil
}

// RedeemEnrollment implements hub.Store.
func (s *Store) RedeemEnrollment(ctx context.Context, tokenHash string, t hub.Terminal, now time.Time) (hub.Terminal, error) {
	var out hub.Terminal
	err := s.write(ctx, func(tx *sql.Tx) error {
		var site, name, expires string
		var used, usedBy, rekey sql.NullString
		var usedKey []byte
		var relay bool
		err := tx.QueryRowContext(ctx, `SELECT site, name, expires_at, used_at, terminal_id, public_key, rekey_terminal, relay FROM enrollments WHERE token_hash = ?`, tokenHash).
			Scan(&site, &name, &expires, &used, &usedBy, &usedKey, &rekey, &relay)
		if errors.Is(err, sql.ErrNoRows) {
			return hub.ErrTokenInvalid
		}
		if err != nil {
			return err
		}
		if used.Valid {
			if usedBy.String == t.ID && ed25519.PublicKey(usedKey).Equal(t.PublicKey) {
				out, err = scanTerminal(tx.QueryRowContext(ctx, `SELECT `+terminalCols+` FROM terminals WHERE id = ?`, t.ID))
				return err
			}
			return hub.ErrTokenUsed
		}
		if now.After(parseTS(expires)) {
			return hub.ErrTokenExpired
		}
		if site != t.Site || name != t.Name {
			return hub.ErrTokenSite
		}
		var oldSite, oldName string
		var revoked sql.NullString
		err = tx.QueryRowContext(ctx, `SELECT site, name, revoked_at FROM terminals WHERE id = ?`, t.ID).Scan(&oldSite, &oldName, &revoked)
		switch {
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return err
		case rekey.Valid:
			// A rekey token gives a new key to exactly the terminal it was
			// issued for, which keeps its name and its events.
			if errors.Is(err, sql.ErrNoRows) || rekey.String != t.ID || oldSite != site || oldName != name {
				return hub.ErrTokenTerminal
			}
			if revoked.Valid {
				return hub.ErrRevoked
			}
			_, err = tx.ExecContext(ctx, `UPDATE terminals SET public_key = ?, certificate = ?, enrolled_at = ? WHERE id = ?`,
				[]byte(t.PublicKey), t.Certificate, ts(now), t.ID)
		case err == nil:
			// An enrollment token is for a terminal the hub has never seen:
			// it never renames or re-keys an enrolled one.
			return hub.ErrTerminalEnrolled
		default:
			var no int64
			if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(no), 0) + 1 FROM terminals`).Scan(&no); err != nil {
				return fmt.Errorf("enroll: %w", err)
			}
			if no > maxTerminalNo {
				return fmt.Errorf("enroll: this hub has numbered %d terminals, its most", maxTerminalNo)
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO terminals (id, site, name, public_key, certificate, enrolled_at, no, relay) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				t.ID, t.Site, t.Name, []byte(t.PublicKey), t.Certificate, ts(now), no, relay)
		}
		if err != nil {
			if sqlitefile.IsUnique(err) {
				return hub.ErrNameTaken
			}
			return fmt.Errorf("enroll: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE enrollments SET used_at = ?, terminal_id = ?, public_key = ? WHERE token_hash = ?`,
			ts(now), t.ID, []byte(t.PublicKey), tokenHash); err != nil {
			return err
		}
		out, err = scanTerminal(tx.QueryRowContext(ctx, `SELECT `+terminalCols+` FROM terminals WHERE id = ?`, t.ID))
		return err
	})
	return out, err
}

// Terminal implements hub.Store.
func (s *Store) Terminal(ctx context.Context, id string) (hub.Terminal, error) {
	t, err := scanTerminal(s.r.QueryRowContext(ctx, `SELECT `+terminalCols+` FROM terminals WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, hub.ErrNotFound
	}
	if err != nil {
		return t, fmt.Errorf("terminal: %w", err)
	}
	return t, nil
}

// Terminals implements hub.Store.
func (s *Store) Terminals(ctx context.Context) ([]hub.Terminal, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+terminalCols+` FROM terminals ORDER BY site, name, enrolled_at`)
	return s.terminals(rows, err)
}

// SiteTerminals implements hub.Store.
func (s *Store) SiteTerminals(ctx context.Context, site string) ([]hub.Terminal, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+terminalCols+` FROM terminals WHERE site = ? ORDER BY name, enrolled_at`, site)
	return s.terminals(rows, err)
}

func (s *Store) terminals(rows *sql.Rows, err error) ([]hub.Terminal, error) {
	if err != nil {
		return nil, fmt.Errorf("terminals: %w", err)
	}
	defer rows.Close()
	var out []hub.Terminal
	for rows.Next() {
		t, err := scanTerminal(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeTerminal implements Store: the terminal is refused from now on,
// and a revocation for the site feed names its keys and the sales the hub
// holds from it (honoured), in the same transaction.
func (s *Store) RevokeTerminal(ctx context.Context, site, name string, at time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		var id string
		var no int64
		var pub []byte
		err := tx.QueryRowContext(ctx, `SELECT id, no, public_key FROM terminals WHERE site = ? AND name = ? AND revoked_at IS NULL`, site, name).Scan(&id, &no, &pub)
		if errors.Is(err, sql.ErrNoRows) {
			return hub.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE terminals SET revoked_at = ? WHERE id = ?`, ts(at), id); err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		// Every key the terminal was enrolled with (a rekey leaves the old
		// key's passes in circulation).
		keys := map[string]bool{pass.KeyIDOf(ed25519.PublicKey(pub)).String(): true}
		pubs, err := queryBlobs(ctx, tx, `SELECT public_key FROM enrollments WHERE terminal_id = ? AND public_key IS NOT NULL`, id)
		if err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		for _, k := range pubs {
			keys[pass.KeyIDOf(ed25519.PublicKey(k)).String()] = true
		}
		sales, err := queryBlobs(ctx, tx, `SELECT id FROM records WHERE terminal = ? AND kind = 'sale'`, no)
		if err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		honoured := make([]string, 0, len(sales))
		for _, k := range sales {
			u, err := uuid.FromBytes(k)
			if err != nil {
				return fmt.Errorf("revoke: record %x: %w", k, err)
			}
			honoured = append(honoured, u.String())
		}
		slices.Sort(honoured)
		kids := slices.Sorted(maps.Keys(keys))
		var list strings.Builder
		for _, h := range honoured {
			list.WriteString(h)
			list.WriteByte('\n')
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO revocations (site, terminal, name, key_ids, revoked_at, honoured, digest) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			site, id, name, strings.Join(kids, ","), ts(at), list.String(), wire.HonouredDigest(honoured))
		if err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		return nil
	})
}

// queryBlobs returns the one BLOB column of the rows q selects.
func queryBlobs(ctx context.Context, tx *sql.Tx, q string, args ...any) ([][]byte, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// Revocations implements hub.Store.
func (s *Store) Revocations(ctx context.Context, site string, after int64, limit int) ([]wire.Revocation, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT n, terminal, name, key_ids, revoked_at, honoured, digest FROM revocations WHERE site = ? AND n > ? ORDER BY n LIMIT ?`, site, after, limit)
	if err != nil {
		return nil, fmt.Errorf("revocations: %w", err)
	}
	defer rows.Close()
	var out []wire.Revocation
	for rows.Next() {
		var r wire.Revocation
		var kids, at, honoured string
		if err := rows.Scan(&r.N, &r.TerminalID, &r.Name, &kids, &at, &honoured, &r.Digest); err != nil {
			return nil, err
		}
		r.KeyIDs, r.RevokedAt = strings.Split(kids, ","), parseTS(at)
		r.Honoured = strings.Split(strings.TrimSuffix(honoured, "\n"), "\n")
		if honoured == "" {
			r.Honoured = []string{}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Apply implements hub.Store.
func (s *Store) Apply(ctx context.Context, id string, events []terminal.Event, at time.Time, flags ...hub.EventFlag) (hub.ApplyResult, error) {
	var res hub.ApplyResult
	// Everything of the chain that does not depend on what the hub holds is
	// checked before the write lock is taken: each event's hash, and its
	// link to the event before it in the batch. Only the first new event's
	// link to the hub's last_hash is left for the transaction.
	var inner []hub.ChainBreak
	if len(events) > 0 {
		inner = hub.CheckChain(events[0].Seq-1, events[0].PrevHash, events)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		res = hub.ApplyResult{}
		var no int64
		var site, name string
		var revoked sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT no, site, name, revoked_at, last_seq, last_hash FROM terminals WHERE id = ?`, id).
			Scan(&no, &site, &name, &revoked, &res.LastSeq, &res.LastHash)
		if errors.Is(err, sql.ErrNoRows) {
			return hub.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("apply: %w", err)
		}
		if revoked.Valid {
			return hub.ErrRevoked
		}
		if len(events) == 0 {
			return nil
		}
		first, last := events[0].Seq, events[len(events)-1].Seq
		if first > res.LastSeq+1 {
			return &hub.GapError{LastSeq: res.LastSeq}
		}
		if first <= res.LastSeq {
			hi := min(res.LastSeq, last)
			rows, err := tx.QueryContext(ctx, `SELECT k, id, hash FROM events WHERE k BETWEEN ? AND ? ORDER BY k`, eventKey(no, first), eventKey(no, hi))
			if err != nil {
				return fmt.Errorf("apply: %w", err)
			}
			n := int64(0)
			for rows.Next() {
				var k int64
				var eid, hash string
				if err := rows.Scan(&k, &eid, &hash); err != nil {
					rows.Close()
					return err
				}
				seq := k & seqMask
				e := &events[seq-first]
				if e.ID != eid || e.Hash != hash {
					rows.Close()
					return &hub.ForkError{Seq: seq, LastSeq: res.LastSeq, Reason: "another event is held at this seq"}
				}
				n++
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if n != hi-first+1 {
				return fmt.Errorf("apply: the hub holds %d of events %d–%d of terminal %s, below its last seq %d", n, first, hi, id, res.LastSeq)
			}
			res.Duplicates = int(n)
			events = events[n:]
		}
		if len(events) == 0 {
			return nil
		}
		var flagged map[int64]hub.EventFlag // nil, the usual case: nothing flagged
		for _, f := range flags {
			if f.Seq >= events[0].Seq {
				if flagged == nil {
					flagged = map[int64]hub.EventFlag{}
				}
				flagged[f.Seq] = f
			}
		}
		applied := events
		if len(flagged) > 0 {
			applied = make([]terminal.Event, 0, len(events))
			for _, e := range events {
				if flagged[e.Seq].Kind != hub.FlagQuarantine {
					applied = append(applied, e)
				}
			}
		}
		created, err := s.authorize(ctx, tx, site, no, applied)
		if err != nil {
			return err
		}
		breaks := hub.JoinChain(res.LastHash, &events[0], inner)
		recv := ts(at)
		one, chunk := tx.StmtContext(ctx, s.insertEvents[0]), tx.StmtContext(ctx, s.insertEvents[1])
		args := make([]any, 0, 9*insertChunk)
		for done := 0; done < len(events); {
			n, st := insertChunk, chunk
			if len(events)-done < insertChunk {
				n, st = 1, one
			}
			args = args[:0]
			for i := done; i < done+n; i++ {
				e := &events[i]
				typ := e.Type
				if f, ok := flagged[e.Seq]; ok && f.Kind == hub.FlagQuarantine {
					typ = hub.FlagQuarantine
					if _, err := tx.ExecContext(ctx, `INSERT INTO quarantine (k, type, reason) VALUES (?, ?, ?)`, eventKey(no, e.Seq), e.Type, f.Reason); err != nil {
						return fmt.Errorf("apply: quarantine: %w", err)
					}
				}
				args = append(args, eventKey(no, e.Seq), e.ID, typ, e.At.UTC().Format(time.RFC3339Nano), e.Actor, []byte(e.Payload), e.PrevHash, e.Hash, recv)
			}
			if _, err := st.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("apply: %w", err)
			}
			for range n {
				done++
				if s.applyHook != nil {
					if err := s.applyHook(done); err != nil {
						return err
					}
				}
			}
		}
		if err := s.insertRecords(ctx, tx, no, created); err != nil {
			return err
		}
		if err := keepReport(ctx, tx, id, site, name, applied); err != nil {
			return err
		}
		var found []hub.Conflict
		for _, b := range breaks {
			found = append(found, hub.Conflict{Kind: "broken_chain", Site: site, Terminal: name, TerminalID: id, Seq: b.Seq, Reason: b.Reason, At: at})
		}
		for _, e := range events {
			if f, ok := flagged[e.Seq]; ok {
				found = append(found, hub.Conflict{Kind: f.Kind, Site: site, Terminal: name, TerminalID: id, Seq: e.Seq, Reason: f.Reason, At: at})
			}
		}
		for _, c := range found {
			if err := addConflict(ctx, tx, c); err != nil {
				return err
			}
			res.Conflicts = append(res.Conflicts, c)
		}
		lastE := &events[len(events)-1]
		if _, err := tx.ExecContext(ctx, `UPDATE terminals SET last_seq = ?, last_hash = ?, events = events + ?, last_seen = ? WHERE id = ?`,
			lastE.Seq, lastE.Hash, len(events), recv, id); err != nil {
			return fmt.Errorf("apply: %w", err)
		}
		res.LastSeq, res.LastHash, res.Applied = lastE.Seq, lastE.Hash, len(events)
		return nil
	})
	return res, err
}

// authorize checks what the new events of terminal no (of site) name
// against the records the hub holds (authz.go) and returns the records
// they create.
func (s *Store) authorize(ctx context.Context, tx *sql.Tx, site string, no int64, events []terminal.Event) ([]hub.Record, error) {
	ids, err := hub.NamedIDs(events)
	if err != nil {
		return nil, err
	}
	held := make(map[string]hub.Record, len(ids))
	keys := make([]any, 0, len(ids))
	for _, id := range ids {
		if k, ok := hub.RecordKey(id); ok {
			keys = append(keys, k)
		}
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		rows, err := tx.QueryContext(ctx, `SELECT r.id, r.kind, t.site, r.terminal FROM records r JOIN terminals t ON t.no = r.terminal
			WHERE r.id IN (?`+strings.Repeat(", ?", n-1)+`)`, keys[:n]...)
		if err != nil {
			return nil, fmt.Errorf("apply: records: %w", err)
		}
		for rows.Next() {
			var r hub.Record
			var k []byte
			if err := rows.Scan(&k, &r.Kind, &r.Site, &r.TerminalNo); err != nil {
				rows.Close()
				return nil, err
			}
			u, _ := uuid.FromBytes(k)
			r.ID = u.String()
			held[r.ID] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		keys = keys[n:]
	}
	return hub.Authorize(site, no, events, held)
}

// insertRecords stores the records a batch of terminal no creates,
// recordChunk to a statement. An id already held is refused unless it is
// this terminal's own record of the same kind (the same sale sent again in
// its chain). Ids are new but for an attack or a bug, so the rows go in
// with a plain INSERT, and only a chunk the key constraint stops (the
// statement alone is undone) is looked at row by row.
func (s *Store) insertRecords(ctx context.Context, tx *sql.Tx, no int64, created []hub.Record) error {
	one, chunk := tx.StmtContext(ctx, s.insertRecs[0]), tx.StmtContext(ctx, s.insertRecs[1])
	args := make([]any, 0, 3*recordChunk)
	for done := 0; done < len(created); {
		n, st := recordChunk, chunk
		if len(created)-done < recordChunk {
			n, st = 1, one
		}
		args = args[:0]
		for _, r := range created[done : done+n] {
			k, _ := hub.RecordKey(r.ID) // authorize took only UUIDs
			args = append(args, k, r.Kind, no)
		}
		_, err := st.ExecContext(ctx, args...)
		if sqlitefile.IsConstraint(err) {
			err = s.insertRecordsOneByOne(ctx, tx, no, created[done:done+n])
		}
		if err != nil {
			return err
		}
		done += n
	}
	return nil
}

func (s *Store) insertRecordsOneByOne(ctx context.Context, tx *sql.Tx, no int64, created []hub.Record) error {
	for _, r := range created {
		k, _ := hub.RecordKey(r.ID)
		var kind string
		var owner int64
		err := tx.QueryRowContext(ctx, `SELECT kind, terminal FROM records WHERE id = ?`, k).Scan(&kind, &owner)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tx.ExecContext(ctx, `INSERT INTO records (id, kind, terminal) VALUES (?, ?, ?)`, k, r.Kind, no); err != nil {
				return fmt.Errorf("apply: records: %w", err)
			}
		case err != nil:
			return fmt.Errorf("apply: records: %w", err)
		case owner != no || kind != r.Kind:
			typ := terminal.EventSaleCreated
			if r.Kind == hub.RecordOperator {
				typ = terminal.EventOperatorAdded
			}
			return &hub.ForbiddenError{Seq: r.Seq, Type: typ, Reason: fmt.Sprintf("creates %s %s, an id another record already has", r.Kind, r.ID)}
		}
	}
	return nil
}

func addConflict(ctx context.Context, tx *sql.Tx, c hub.Conflict) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO conflicts (kind, site, terminal, seq, reason, at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		c.Kind, c.Site, c.TerminalID, c.Seq, c.Reason, ts(c.At))
	if err != nil {
		return fmt.Errorf("record conflict: %w", err)
	}
	return nil
}

// AddConflict implements hub.Store.
func (s *Store) AddConflict(ctx context.Context, c hub.Conflict) error {
	return s.write(ctx, func(tx *sql.Tx) error { return addConflict(ctx, tx, c) })
}

// Conflicts implements hub.Store.
func (s *Store) Conflicts(ctx context.Context) ([]hub.Conflict, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT c.kind, c.site, coalesce(t.name, ''), c.terminal, c.seq, c.reason, c.at
		FROM conflicts c LEFT JOIN terminals t ON t.id = c.terminal ORDER BY c.id`)
	if err != nil {
		return nil, fmt.Errorf("conflicts: %w", err)
	}
	defer rows.Close()
	var out []hub.Conflict
	for rows.Next() {
		var c hub.Conflict
		var at string
		if err := rows.Scan(&c.Kind, &c.Site, &c.Terminal, &c.TerminalID, &c.Seq, &c.Reason, &at); err != nil {
			return nil, err
		}
		c.At = parseTS(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

const eventCols = `e.k, e.id, e.type, e.at, e.actor, e.payload, e.prev_hash, e.hash`

// scanEvent reads eventCols, then extra, into an event of terminal id.
func scanEvent(row interface{ Scan(...any) error }, id string, extra ...any) (terminal.Event, error) {
	e := terminal.Event{Terminal: id}
	var k int64
	var at string
	var payload []byte
	dst := append([]any{&k, &e.ID, &e.Type, &at, &e.Actor, &payload, &e.PrevHash, &e.Hash}, extra...)
	if err := row.Scan(dst...); err != nil {
		return e, err
	}
	e.Seq, e.At, e.Payload = k&seqMask, parseTS(at), payload
	return e, nil
}

// Feed implements hub.Store. It reads in one transaction, so the cursors agree
// with the events.
func (s *Store) Feed(ctx context.Context, site, exclude string, cursors map[string]int64, limit int) (hub.FeedPage, error) {
	var page hub.FeedPage
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return page, fmt.Errorf("feed: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT id, name, last_seq, no FROM terminals WHERE site = ? AND id != ? AND relay = 0 ORDER BY name, id`, site, exclude)
	if err != nil {
		return page, fmt.Errorf("feed: %w", err)
	}
	type peer struct {
		hub.FeedCursor
		no int64
	}
	var peers []peer
	for rows.Next() {
		var p peer
		if err := rows.Scan(&p.TerminalID, &p.Name, &p.Seq, &p.no); err != nil {
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
		if cur >= p.Seq { // up to date, or the hub is behind (restored)
			page.Cursors = append(page.Cursors, hub.FeedCursor{TerminalID: p.TerminalID, Name: p.Name, Seq: cur})
			continue
		}
		room := limit - len(page.Events)
		if room <= 0 {
			page.More = true
			page.Cursors = append(page.Cursors, hub.FeedCursor{TerminalID: p.TerminalID, Name: p.Name, Seq: cur})
			continue
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+eventCols+` FROM events e WHERE e.k > ? AND e.k <= ? AND e.type IN `+s.feedTypes+`
			ORDER BY e.k LIMIT ?`, eventKey(p.no, cur), eventKey(p.no, seqMask), room+1)
		if err != nil {
			return page, fmt.Errorf("feed: %w", err)
		}
		n := 0
		next := p.Seq
		for rows.Next() {
			e, err := scanEvent(rows, p.TerminalID)
			if err != nil {
				rows.Close()
				return page, err
			}
			if n == room {
				page.More = true
				next = page.Events[len(page.Events)-1].Seq
				break
			}
			page.Events = append(page.Events, hub.StoredEvent{Event: e, Site: site, Name: p.Name})
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

// TerminalEvents implements hub.Store.
func (s *Store) TerminalEvents(ctx context.Context, id string, afterSeq int64, limit int) ([]terminal.Event, error) {
	var no int64
	err := s.r.QueryRowContext(ctx, `SELECT no FROM terminals WHERE id = ?`, id).Scan(&no)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	// Quarantined events are returned as sent: the terminal's chain whole.
	rows, err := s.r.QueryContext(ctx, `SELECT e.k, e.id, coalesce(q.type, e.type), e.at, e.actor, e.payload, e.prev_hash, e.hash
		FROM events e LEFT JOIN quarantine q ON q.k = e.k WHERE e.k > ? AND e.k <= ? ORDER BY e.k LIMIT ?`,
		eventKey(no, max(afterSeq, 0)), eventKey(no, seqMask), limit)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	defer rows.Close()
	var out []terminal.Event
	for rows.Next() {
		e, err := scanEvent(rows, id)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ScanEvents implements hub.Store.
func (s *Store) ScanEvents(ctx context.Context, types []string, fn func(hub.StoredEvent) error) error {
	if len(types) == 0 {
		return nil
	}
	args := make([]any, len(types))
	for i, t := range types {
		args[i] = t
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+eventCols+`, t.id, t.site, t.name FROM events e JOIN terminals t ON t.no = e.k >> `+strconv.Itoa(seqBits)+`
		WHERE e.type IN (?`+strings.Repeat(", ?", len(types)-1)+`) ORDER BY e.k`, args...)
	if err != nil {
		return fmt.Errorf("scan events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var se hub.StoredEvent
		var id string
		e, err := scanEvent(rows, "", &id, &se.Site, &se.Name)
		if err != nil {
			return err
		}
		e.Terminal = id
		se.Event = e
		if err := fn(se); err != nil {
			return err
		}
	}
	return rows.Err()
}

// PublishCatalogue implements hub.Store.
func (s *Store) PublishCatalogue(ctx context.Context, c hub.Catalogue) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		var last int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM catalogues WHERE site = ?`, c.Site).Scan(&last); err != nil {
			return err
		}
		if c.Seq <= last {
			return terminal.Errorf(terminal.ECONFLICT, "another catalogue was published for %s meanwhile: publish again", c.Site)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO catalogues (site, seq, version, body, signature, kid, published_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			c.Site, c.Seq, c.Version, c.Body, c.Signature, c.KeyID, ts(c.PublishedAt))
		if err != nil {
			return fmt.Errorf("publish catalogue: %w", err)
		}
		return nil
	})
}

// LatestCatalogue implements hub.Store.
func (s *Store) LatestCatalogue(ctx context.Context, site string) (hub.Catalogue, bool, error) {
	c := hub.Catalogue{Site: site}
	var at string
	err := s.r.QueryRowContext(ctx, `SELECT seq, version, body, signature, kid, published_at FROM catalogues WHERE site = ? ORDER BY seq DESC LIMIT 1`, site).
		Scan(&c.Seq, &c.Version, &c.Body, &c.Signature, &c.KeyID, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("catalogue: %w", err)
	}
	c.PublishedAt = parseTS(at)
	return c, true, nil
}

// Counts implements hub.Store.
func (s *Store) Counts(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for _, t := range []string{"authorities", "enrollments", "terminals", "events", "records", "revocations", "quarantine", "conflicts", "catalogues", "forwards", "tickets", "mpesa_payments", "mpesa_queries"} {
		var n int
		if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM "+t).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", t, err)
		}
		out[t] = n
	}
	return out, nil
}

// Backup implements Store: VACUUM INTO a new file, consistent while the
// hub runs.
func (s *Store) Backup(ctx context.Context, path string) error {
	if _, err := s.w.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}

// Ping implements hub.Store.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	return s.r.QueryRowContext(ctx, `SELECT 1`).Scan(&n)
}
