// Package postgres is the hub's store on PostgreSQL, for when one machine
// is not enough: any number of hub processes share one database, and
// everything that decides correctness is in it. Exactly once is enforced
// by the database: events are keyed by (terminal, seq) and unique by id,
// and Apply holds the terminal's row FOR UPDATE, so two processes applying
// the same terminal's batch serialize.
package postgres

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options configure Open.
type Options struct {
	// SealKey (SealKeySize bytes, from the hub's 0600 key file) seals the
	// site authority keys. Without it the store opens, but AuthorityKeys
	// and AddAuthorityKey fail: migrate and copy's checks need no key.
	SealKey []byte
	// MaxConns caps the pool (pgxpool's default when 0).
	MaxConns int32
}

// Store is the hub's store on PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
	seal *sealer
	url  string
}

var _ hub.Store = (*Store)(nil)

// Open connects to the database at url (postgres://USER@HOST:PORT/DB),
// applies the migrations it lacks and checks that opts.SealKey opens the
// authority keys already stored.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, terminal.Errorf(terminal.EINVALID, "--database %s: %v", redact(url), err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, terminal.Errorf(terminal.EINVALID, "--database %s: %v", redact(url), err)
	}
	s := &Store{pool: pool, url: url}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, &terminal.Error{Kind: terminal.EUNAVAILABLE, Message: "the hub's database at " + redact(url) + " does not answer", Err: err}
	}
	if opts.SealKey != nil {
		if s.seal, err = newSealer(opts.SealKey); err != nil {
			pool.Close()
			return nil, err
		}
	}
	if err := s.Migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := s.checkSeal(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// redact drops a password from a URL for messages.
func redact(url string) string {
	cfg, err := pgconn.ParseConfig(url)
	if err != nil || cfg.Password == "" {
		return url
	}
	return strings.Replace(url, ":"+cfg.Password+"@", ":xxxxx@", 1)
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Pool is the store's connection pool, for tests and the copy.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// migrationLock is the advisory lock key under which migrations run, so
// hub processes starting together migrate once.
const migrationLock = 0x6c616e676f // "lango"

// Migrate applies the embedded migrations the database lacks, each in its
// own transaction, recorded in schema_migrations, and makes the hub id.
func (s *Store) Migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	err = s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at text NOT NULL)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("migrations table: %w", err)
	}
	for _, name := range names {
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		err = s.write(ctx, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE name = $1`, filepath.Base(name)).Scan(&n); err != nil || n > 0 {
				return err
			}
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)`, filepath.Base(name), ts(time.Now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		var b [16]byte
		rand.Read(b[:])
		_, err := tx.Exec(ctx, `INSERT INTO meta (key, value) VALUES ('hub_id', $1) ON CONFLICT DO NOTHING`, hex.EncodeToString(b[:]))
		return err
	})
	if err != nil {
		return err
	}
	return s.rebuildReport(ctx)
}

// Migrations returns the names of the migrations applied.
func (s *Store) Migrations(ctx context.Context) ([]string, error) {
	rows, _ := s.pool.Query(ctx, `SELECT name FROM schema_migrations ORDER BY name`)
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

const sealCheck = "lango-hub authority keys"

// checkSeal stores a sealed known text the first time a key is given, and
// refuses a key that does not open it: a process given another key file
// than its peers would sign with keys no one else can read.
func (s *Store) checkSeal(ctx context.Context) error {
	if s.seal == nil {
		return nil
	}
	var sealed string
	err := s.pool.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'seal_check'`).Scan(&sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		_, err = s.pool.Exec(ctx, `INSERT INTO meta (key, value) VALUES ('seal_check', $1) ON CONFLICT DO NOTHING`, hex.EncodeToString(s.seal.seal([]byte(sealCheck), "seal_check")))
		if err != nil {
			return fmt.Errorf("seal check: %w", err)
		}
		return s.checkSeal(ctx)
	}
	if err != nil {
		return fmt.Errorf("seal check: %w", err)
	}
	b, _ := hex.DecodeString(sealed)
	if plain, err := s.seal.open(b, "seal_check"); err != nil || string(plain) != sealCheck {
		return terminal.Errorf(terminal.EINVALID, "the authority key file does not open the authority keys of this database: give every hub process on it the same key file (docs/OPERATIONS.md)")
	}
	return nil
}

// write runs fn in a read-committed transaction, committing if it returns
// nil.
func (s *Store) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return unavailable(fmt.Errorf("begin: %w", err))
	}
	defer tx.Rollback(ctx)
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return unavailable(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// unavailable marks an error of reaching the database (not of a
// statement) as EUNAVAILABLE: the terminal retries, nothing was stored.
func unavailable(err error) error {
	var pe *pgconn.PgError
	if errors.Is(err, context.Canceled) {
		return err
	}
	if errors.As(err, &pe) && !transientCode(pe.Code) {
		return err
	}
	return &terminal.Error{Kind: terminal.EUNAVAILABLE, Message: "the hub's database does not answer", Err: err}
}

// transientCode reports whether a PostgreSQL error code says the server
// cannot serve now rather than that the statement is wrong: connection
// exceptions (08), insufficient resources (53), operator intervention (57:
// a shutdown, a failover), serialization failures and deadlocks (40001,
// 40P01), a read-only standby (25006).
func transientCode(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "53"), strings.HasPrefix(code, "57"):
		return true
	}
	return code == "40001" || code == "40P01" || code == "25006"
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

func parseTS(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func nullTS(s *string) time.Time {
	if s == nil {
		return time.Time{}
	}
	return parseTS(*s)
}

func uniqueViolation(err error) (constraint string, ok bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return pe.ConstraintName, true
	}
	return "", false
}

// HubID implements hub.Store.
func (s *Store) HubID(ctx context.Context) (string, error) {
	var id string
	if err := s.pool.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'hub_id'`).Scan(&id); err != nil {
		return "", unavailable(fmt.Errorf("hub id: %w", err))
	}
	return id, nil
}

func (s *Store) sealer() (*sealer, error) {
	if s.seal == nil {
		return nil, terminal.Errorf(terminal.EINVALID, "the hub's authority key file was not given: the site keys stay sealed")
	}
	return s.seal, nil
}

// AuthorityKeys implements hub.Store.
func (s *Store) AuthorityKeys(ctx context.Context, site string) ([]hub.AuthorityKey, error) {
	sl, err := s.sealer()
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT kid, private, created_at FROM authorities WHERE site = $1 ORDER BY created_at DESC, kid`, site)
	if err != nil {
		return nil, unavailable(fmt.Errorf("authority keys: %w", err))
	}
	defer rows.Close()
	var out []hub.AuthorityKey
	for rows.Next() {
		k := hub.AuthorityKey{Site: site}
		var sealed []byte
		var at string
		if err := rows.Scan(&k.KeyID, &sealed, &at); err != nil {
			return nil, err
		}
		p, err := sl.open(sealed, authorityAD(k.KeyID, site))
		if err != nil {
			return nil, terminal.Errorf(terminal.EINVALID, "authority key %s of %s does not open with the hub's key file", k.KeyID, site)
		}
		if k.Private, err = pass.ParsePrivateKeyPEM(p); err != nil {
			return nil, fmt.Errorf("authority key %s: %w", k.KeyID, err)
		}
		k.CreatedAt = parseTS(at)
		out = append(out, k)
	}
	return out, rows.Err()
}

func authorityAD(kid, site string) string { return "authority\x00" + kid + "\x00" + site }

// AddAuthorityKey implements hub.Store.
func (s *Store) AddAuthorityKey(ctx context.Context, k hub.AuthorityKey) error {
	sl, err := s.sealer()
	if err != nil {
		return err
	}
	p, err := pass.MarshalPrivateKeyPEM(k.Private)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO authorities (kid, site, private, created_at) VALUES ($1, $2, $3, $4)`,
		k.KeyID, k.Site, sl.seal(p, authorityAD(k.KeyID, k.Site)), ts(k.CreatedAt))
	if err != nil {
		return unavailable(fmt.Errorf("add authority key: %w", err))
	}
	return nil
}

// AddFirstAuthorityKey implements hub.FirstAuthorityStore: under an
// advisory lock on the site, k goes in only if the site has no key.
func (s *Store) AddFirstAuthorityKey(ctx context.Context, k hub.AuthorityKey) (hub.AuthorityKey, error) {
	sl, err := s.sealer()
	if err != nil {
		return hub.AuthorityKey{}, err
	}
	p, err := pass.MarshalPrivateKeyPEM(k.Private)
	if err != nil {
		return hub.AuthorityKey{}, err
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('authority/' || $1))`, k.Site); err != nil {
			return unavailable(err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO authorities (kid, site, private, created_at) SELECT $1, $2, $3, $4
			WHERE NOT EXISTS (SELECT 1 FROM authorities WHERE site = $2)`, k.KeyID, k.Site, sl.seal(p, authorityAD(k.KeyID, k.Site)), ts(k.CreatedAt))
		if err != nil {
			return unavailable(fmt.Errorf("add authority key: %w", err))
		}
		return nil
	})
	if err != nil {
		return hub.AuthorityKey{}, err
	}
	keys, err := s.AuthorityKeys(ctx, k.Site)
	if err != nil {
		return hub.AuthorityKey{}, err
	}
	if len(keys) == 0 {
		return hub.AuthorityKey{}, fmt.Errorf("add authority key: %s has none after adding one", k.Site)
	}
	return keys[0], nil
}

// AddEnrollment implements hub.Store.
func (s *Store) AddEnrollment(ctx context.Context, e hub.Enrollment) error {
	var rekey *string
	if e.TerminalID != "" {
		rekey = &e.TerminalID
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO enrollments (token_hash, site, name, created_at, expires_at, rekey_terminal, relay) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		e.TokenHash, e.Site, e.Name, ts(e.CreatedAt), ts(e.ExpiresAt), rekey, e.Relay)
	if err != nil {
		return unavailable(fmt.Errorf("add enrollment: %w", err))
	}
	return nil
}

const terminalCols = `id, site, name, public_key, certificate, enrolled_at, revoked_at, last_seq, last_hash, events, last_seen, relay`

func scanTerminal(row pgx.Row) (hub.Terminal, error) {
	var t hub.Terminal
	var pub []byte
	var enrolled, seen string
	var revoked *string
	if err := row.Scan(&t.ID, &t.Site, &t.Name, &pub, &t.Certificate, &enrolled, &revoked, &t.LastSeq, &t.LastHash, &t.Events, &seen, &t.Relay); err != nil {
		return t, err
	}
	t.PublicKey = ed25519.PublicKey(pub)
	t.EnrolledAt, t.RevokedAt, t.LastSeen = parseTS(enrolled), nullTS(revoked), parseTS(seen)
	return t, nil
}

// RedeemEnrollment implements hub.Store. The token's row is held FOR
// UPDATE, so two processes redeeming one token serialize.
func (s *Store) RedeemEnrollment(ctx context.Context, tokenHash string, t hub.Terminal, now time.Time) (hub.Terminal, error) {
	var out hub.Terminal
	err := s.write(ctx, func(tx pgx.Tx) error {
		var site, name, expires string
		var used, usedBy, rekey *string
		var usedKey []byte
		var relay bool
		err := tx.QueryRow(ctx, `SELECT site, name, expires_at, used_at, terminal_id, public_key, rekey_terminal, relay FROM enrollments WHERE token_hash = $1 FOR UPDATE`, tokenHash).
			Scan(&site, &name, &expires, &used, &usedBy, &usedKey, &rekey, &relay)
		if errors.Is(err, pgx.ErrNoRows) {
			return hub.ErrTokenInvalid
		}
		if err != nil {
			return unavailable(err)
		}
		if used != nil {
			if usedBy != nil && *usedBy == t.ID && ed25519.PublicKey(usedKey).Equal(t.PublicKey) {
				out, err = scanTerminal(tx.QueryRow(ctx, `SELECT `+terminalCols+` FROM terminals WHERE id = $1`, t.ID))
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
		var revoked *string
		err = tx.QueryRow(ctx, `SELECT site, name, revoked_at FROM terminals WHERE id = $1 FOR UPDATE`, t.ID).Scan(&oldSite, &oldName, &revoked)
		switch {
		case err != nil && !errors.Is(err, pgx.ErrNoRows):
			return unavailable(err)
		case rekey != nil:
			if errors.Is(err, pgx.ErrNoRows) || *rekey != t.ID || oldSite != site || oldName != name {
				return hub.ErrTokenTerminal
			}
			if revoked != nil {
				return hub.ErrRevoked
			}
			_, err = tx.Exec(ctx, `UPDATE terminals SET public_key = $1, certificate = $2, enrolled_at = $3 WHERE id = $4`,
				[]byte(t.PublicKey), t.Certificate, ts(now), t.ID)
		case err == nil:
			return hub.ErrTerminalEnrolled
		default:
			_, err = tx.Exec(ctx, `INSERT INTO terminals (id, site, name, public_key, certificate, enrolled_at, relay) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
				t.ID, t.Site, t.Name, []byte(t.PublicKey), t.Certificate, ts(now), relay)
		}
		if err != nil {
			switch c, ok := uniqueViolation(err); {
			case ok && c == "terminals_pkey":
				return hub.ErrTerminalEnrolled // enrolled meanwhile by another process
			case ok:
				return hub.ErrNameTaken
			}
			return unavailable(fmt.Errorf("enroll: %w", err))
		}
		if _, err := tx.Exec(ctx, `UPDATE enrollments SET used_at = $1, terminal_id = $2, public_key = $3 WHERE token_hash = $4`,
			ts(now), t.ID, []byte(t.PublicKey), tokenHash); err != nil {
			return unavailable(err)
		}
		out, err = scanTerminal(tx.QueryRow(ctx, `SELECT `+terminalCols+` FROM terminals WHERE id = $1`, t.ID))
		return err
	})
	return out, err
}

// Terminal implements hub.Store.
func (s *Store) Terminal(ctx context.Context, id string) (hub.Terminal, error) {
	t, err := scanTerminal(s.pool.QueryRow(ctx, `SELECT `+terminalCols+` FROM terminals WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, hub.ErrNotFound
	}
	if err != nil {
		return t, unavailable(fmt.Errorf("terminal: %w", err))
	}
	return t, nil
}

// Terminals implements hub.Store.
func (s *Store) Terminals(ctx context.Context) ([]hub.Terminal, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+terminalCols+` FROM terminals ORDER BY site, name, enrolled_at`)
	return s.terminals(rows, err)
}

// SiteTerminals implements hub.Store.
func (s *Store) SiteTerminals(ctx context.Context, site string) ([]hub.Terminal, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+terminalCols+` FROM terminals WHERE site = $1 ORDER BY name, enrolled_at`, site)
	return s.terminals(rows, err)
}

func (s *Store) terminals(rows pgx.Rows, err error) ([]hub.Terminal, error) {
	if err != nil {
		return nil, unavailable(fmt.Errorf("terminals: %w", err))
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

// RevokeTerminal implements hub.Store. It holds the terminal's row FOR
// UPDATE, as Apply does, so the sales it honours are exactly those applied
// before it.
func (s *Store) RevokeTerminal(ctx context.Context, site, name string, at time.Time) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		var id string
		var no int64
		var pub []byte
		err := tx.QueryRow(ctx, `SELECT id, no, public_key FROM terminals WHERE site = $1 AND name = $2 AND revoked_at IS NULL FOR UPDATE`, site, name).Scan(&id, &no, &pub)
		if errors.Is(err, pgx.ErrNoRows) {
			return hub.ErrNotFound
		}
		if err != nil {
			return unavailable(fmt.Errorf("revoke: %w", err))
		}
		if _, err := tx.Exec(ctx, `UPDATE terminals SET revoked_at = $1 WHERE id = $2`, ts(at), id); err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		keys := map[string]bool{pass.KeyIDOf(ed25519.PublicKey(pub)).String(): true}
		rows, _ := tx.Query(ctx, `SELECT public_key FROM enrollments WHERE terminal_id = $1 AND public_key IS NOT NULL`, id)
		pubs, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		if err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		for _, k := range pubs {
			keys[pass.KeyIDOf(ed25519.PublicKey(k)).String()] = true
		}
		rows, _ = tx.Query(ctx, `SELECT id::text FROM records WHERE terminal = $1 AND kind = 'sale'`, no)
		honoured, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		slices.Sort(honoured)
		kids := slices.Sorted(maps.Keys(keys))
		var list strings.Builder
		for _, h := range honoured {
			list.WriteString(h)
			list.WriteByte('\n')
		}
		_, err = tx.Exec(ctx, `INSERT INTO revocations (site, terminal, name, key_ids, revoked_at, honoured, digest) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			site, id, name, strings.Join(kids, ","), ts(at), list.String(), wire.HonouredDigest(honoured))
		if err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		return nil
	})
}

// Revocations implements hub.Store.
func (s *Store) Revocations(ctx context.Context, site string, after int64, limit int) ([]wire.Revocation, error) {
	rows, err := s.pool.Query(ctx, `SELECT n, terminal, name, key_ids, revoked_at, honoured, digest FROM revocations WHERE site = $1 AND n > $2 ORDER BY n LIMIT $3`, site, after, limit)
	if err != nil {
		return nil, unavailable(fmt.Errorf("revocations: %w", err))
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

// errCareful is what the fast path of Apply returns when a key stopped
// one of its COPYs: the transaction is spoilt, and Apply runs again
// carefully (under savepoints, finding what is held).
var errCareful = errors.New("apply: a key stopped the COPY: again, carefully")

// Apply implements hub.Store: the semantics of the embedded store's Apply,
// in one transaction that holds the terminal's row FOR UPDATE, with the
// new events and records inserted by one COPY each. Ids are new but for
// an attack or a bug (or a sale sent again in its chain): the COPYs go
// straight into the transaction, and only when a key stops one is the
// batch applied again with savepoints, finding which id is held.
func (s *Store) Apply(ctx context.Context, id string, events []terminal.Event, at time.Time, flags ...hub.EventFlag) (hub.ApplyResult, error) {
	var inner []hub.ChainBreak
	if len(events) > 0 {
		inner = hub.CheckChain(events[0].Seq-1, events[0].PrevHash, events)
	}
	res, err := s.apply(ctx, id, events, inner, at, false, flags)
	if errors.Is(err, errCareful) {
		res, err = s.apply(ctx, id, events, inner, at, true, flags)
	}
	return res, err
}

func (s *Store) apply(ctx context.Context, id string, events []terminal.Event, inner []hub.ChainBreak, at time.Time, careful bool, flags []hub.EventFlag) (hub.ApplyResult, error) {
	var res hub.ApplyResult
	err := s.write(ctx, func(tx pgx.Tx) error {
		res = hub.ApplyResult{}
		var no int64
		var site, name string
		var revoked *string
		err := tx.QueryRow(ctx, `SELECT no, site, name, revoked_at, last_seq, last_hash FROM terminals WHERE id = $1 FOR UPDATE`, id).
			Scan(&no, &site, &name, &revoked, &res.LastSeq, &res.LastHash)
		if errors.Is(err, pgx.ErrNoRows) {
			return hub.ErrNotFound
		}
		if err != nil {
			return unavailable(fmt.Errorf("apply: %w", err))
		}
		if revoked != nil {
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
			rows, err := tx.Query(ctx, `SELECT seq, id::text, hash FROM events WHERE terminal = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq`, no, first, hi)
			if err != nil {
				return unavailable(fmt.Errorf("apply: %w", err))
			}
			n := int64(0)
			for rows.Next() {
				var seq int64
				var eid, hash string
				if err := rows.Scan(&seq, &eid, &hash); err != nil {
					rows.Close()
					return err
				}
				e := &events[seq-first]
				if !strings.EqualFold(e.ID, eid) || e.Hash != hash {
					rows.Close()
					return &hub.ForkError{Seq: seq, LastSeq: res.LastSeq, Reason: "another event is held at this seq"}
				}
				n++
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return unavailable(err)
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
		var flagged map[int64]hub.EventFlag
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
		if err := insertEvents(ctx, tx, no, events, flagged, recv, careful); err != nil {
			return err
		}
		// The records go in with the report's locks and lookups, the
		// report's writes with the terminal's row: one round trip each.
		head, tail := &pgx.Batch{}, &pgx.Batch{}
		resent, err := insertRecords(ctx, tx, no, created, careful, head)
		if err != nil {
			return err
		}
		if err := keepReport(ctx, tx, id, site, name, applied, resent, head, tail); err != nil {
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
		tail.Queue(`UPDATE terminals SET last_seq = $1, last_hash = $2, events = events + $3, last_seen = $4 WHERE no = $5`,
			lastE.Seq, lastE.Hash, len(events), recv, no)
		if err := sendBatch(ctx, tx, tail, "apply"); err != nil {
			return err
		}
		res.LastSeq, res.LastHash, res.Applied = lastE.Seq, lastE.Hash, len(events)
		return nil
	})
	return res, err
}

// insertEvents inserts the new events of terminal no by COPY, the
// fastest way rows go into PostgreSQL. An event whose id the hub already
// holds elsewhere stops the COPY on the unique index: errCareful, unless
// careful, when the COPY runs under a savepoint and the batch is refused
// (ForbiddenError) with nothing of it stored.
func insertEvents(ctx context.Context, tx pgx.Tx, no int64, events []terminal.Event, flagged map[int64]hub.EventFlag, recv string, careful bool) error {
	n := len(events)
	ids := make([]uuid.UUID, n)
	var qseqs []int64
	var qtypes, qreasons []string
	for i := range events {
		e := &events[i]
		u, err := uuid.Parse(e.ID)
		if err != nil {
			return &hub.ForbiddenError{Seq: e.Seq, Type: e.Type, Reason: "has an id that is not a UUID"}
		}
		ids[i] = u
		if f, ok := flagged[e.Seq]; ok && f.Kind == hub.FlagQuarantine {
			qseqs, qtypes, qreasons = append(qseqs, e.Seq), append(qtypes, e.Type), append(qreasons, f.Reason)
		}
	}
	sp := tx
	if careful {
		var err error
		if sp, err = tx.Begin(ctx); err != nil {
			return unavailable(fmt.Errorf("apply: %w", err))
		}
	}
	i := 0
	row := make([]any, 10)
	cols := []string{"terminal", "seq", "id", "type", "at", "actor", "payload", "prev_hash", "hash", "received_at"}
	_, err := sp.CopyFrom(ctx, pgx.Identifier{"events"}, cols, pgx.CopyFromFunc(func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		e := &events[i]
		typ := e.Type
		if f, ok := flagged[e.Seq]; ok && f.Kind == hub.FlagQuarantine {
			typ = hub.FlagQuarantine
		}
		row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9] = no, e.Seq, pgtype.UUID{Bytes: ids[i], Valid: true}, typ, e.At.UTC().Format(time.RFC3339Nano), e.Actor, []byte(e.Payload), e.PrevHash, e.Hash, recv
		i++
		return row, nil
	}))
	if c, ok := uniqueViolation(err); ok && c == "events_id" {
		if !careful {
			return errCareful
		}
		if rerr := sp.Rollback(ctx); rerr != nil {
			return unavailable(rerr)
		}
		// Which one? The terminal's row is held, so no seq of it is new to
		// anyone else: an id is held by another event.
		rows, _ := tx.Query(ctx, `SELECT id FROM events WHERE id = ANY($1)`, ids)
		held, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return unavailable(fmt.Errorf("apply: %w", err))
		}
		for i := range events {
			if slices.Contains(held, ids[i]) {
				return &hub.ForbiddenError{Seq: events[i].Seq, Type: events[i].Type, Reason: "has the id of another event the hub holds"}
			}
		}
		return fmt.Errorf("apply: %w", err)
	}
	if err != nil {
		return unavailable(fmt.Errorf("apply: %w", err))
	}
	if careful {
		if err := sp.Commit(ctx); err != nil {
			return unavailable(fmt.Errorf("apply: %w", err))
		}
	}
	if len(qseqs) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO quarantine (terminal, seq, type, reason) SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[])`,
			no, qseqs, qtypes, qreasons); err != nil {
			return fmt.Errorf("apply: quarantine: %w", err)
		}
	}
	return nil
}

// authorize checks what the new events of terminal no (of site) name
// against the records the hub holds (authz.go) and returns the records
// they create.
func (s *Store) authorize(ctx context.Context, tx pgx.Tx, site string, no int64, events []terminal.Event) ([]hub.Record, error) {
	ids, err := hub.NamedIDs(events)
	if err != nil {
		return nil, err
	}
	held := make(map[string]hub.Record, len(ids))
	keys := make([]uuid.UUID, 0, len(ids))
	for _, id := range ids {
		if k, ok := hub.RecordKey(id); ok {
			keys = append(keys, uuid.UUID(k))
		}
	}
	if len(keys) > 0 {
		rows, err := tx.Query(ctx, `SELECT r.id, r.kind, t.site, r.terminal FROM records r JOIN terminals t ON t.no = r.terminal WHERE r.id = ANY($1)`, keys)
		if err != nil {
			return nil, unavailable(fmt.Errorf("apply: records: %w", err))
		}
		for rows.Next() {
			var r hub.Record
			var k uuid.UUID
			if err := rows.Scan(&k, &r.Kind, &r.Site, &r.TerminalNo); err != nil {
				rows.Close()
				return nil, err
			}
			r.ID = k.String()
			held[r.ID] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, unavailable(err)
		}
	}
	return hub.Authorize(site, no, events, held)
}

// insertRecords stores the records a batch of terminal no creates, with
// the seqs of the events that create them. Unless careful, it queues one
// statement on head, and an id already held stops it (errCareful).
// Careful, it inserts what is not held, and an id held is refused unless
// it is this terminal's own record of the same kind (a sale sent again in
// its chain: its id is returned, resent).
func insertRecords(ctx context.Context, tx pgx.Tx, no int64, created []hub.Record, careful bool, head *pgx.Batch) (resent []string, err error) {
	if len(created) == 0 {
		return nil, nil
	}
	ids := make([]uuid.UUID, len(created))
	kinds := make([]string, len(created))
	seqs := make([]int64, len(created))
	for i, r := range created {
		k, _ := hub.RecordKey(r.ID) // authorize took only UUIDs
		ids[i], kinds[i], seqs[i] = uuid.UUID(k), r.Kind, r.Seq
	}
	if !careful {
		pids := make([]pgtype.UUID, len(ids))
		for i, u := range ids {
			pids[i] = pgtype.UUID{Bytes: u, Valid: true}
		}
		head.Queue(`INSERT INTO records (id, kind, terminal, seq) SELECT u.id, u.kind, $1, u.seq FROM unnest($2::uuid[], $3::text[], $4::bigint[]) AS u(id, kind, seq)`, no, pids, kinds, seqs)
		return nil, nil
	}
	tag, err := tx.Exec(ctx, `INSERT INTO records (id, kind, terminal, seq) SELECT u.id, u.kind, $1, u.seq FROM unnest($2::uuid[], $3::text[], $4::bigint[]) AS u(id, kind, seq) ON CONFLICT DO NOTHING`, no, ids, kinds, seqs)
	if err != nil {
		return nil, unavailable(fmt.Errorf("apply: records: %w", err))
	}
	if int(tag.RowsAffected()) == len(created) {
		return nil, nil
	}
	rows, _ := tx.Query(ctx, `SELECT id, kind, terminal, coalesce(seq, 0) FROM records WHERE id = ANY($1)`, ids)
	type rec struct {
		kind  string
		owner int64
		seq   int64
	}
	held := map[uuid.UUID]rec{}
	for rows.Next() {
		var id uuid.UUID
		var r rec
		if err := rows.Scan(&id, &r.kind, &r.owner, &r.seq); err != nil {
			rows.Close()
			return nil, err
		}
		held[id] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, unavailable(err)
	}
	for i, r := range created {
		h := held[ids[i]]
		if h.owner != no || h.kind != r.Kind {
			typ := terminal.EventSaleCreated
			if r.Kind == hub.RecordOperator {
				typ = terminal.EventOperatorAdded
			}
			return nil, &hub.ForbiddenError{Seq: r.Seq, Type: typ, Reason: fmt.Sprintf("creates %s %s, an id another record already has", r.Kind, r.ID)}
		}
		if h.seq != r.Seq && r.Kind == hub.RecordSale {
			resent = append(resent, r.ID)
		}
	}
	return resent, nil
}

func addConflict(ctx context.Context, tx pgx.Tx, c hub.Conflict) error {
	_, err := tx.Exec(ctx, `INSERT INTO conflicts (kind, site, terminal, seq, reason, at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
		c.Kind, c.Site, c.TerminalID, c.Seq, c.Reason, ts(c.At))
	if err != nil {
		return unavailable(fmt.Errorf("record conflict: %w", err))
	}
	return nil
}

// AddConflict implements hub.Store.
func (s *Store) AddConflict(ctx context.Context, c hub.Conflict) error {
	return s.write(ctx, func(tx pgx.Tx) error { return addConflict(ctx, tx, c) })
}

// Conflicts implements hub.Store.
func (s *Store) Conflicts(ctx context.Context) ([]hub.Conflict, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.kind, c.site, coalesce(t.name, ''), c.terminal, c.seq, c.reason, c.at
		FROM conflicts c LEFT JOIN terminals t ON t.id = c.terminal ORDER BY c.id`)
	if err != nil {
		return nil, unavailable(fmt.Errorf("conflicts: %w", err))
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

const eventCols = `e.seq, e.id::text, e.type, e.at, e.actor, e.payload, e.prev_hash, e.hash`

func scanEvent(row pgx.Row, id string, extra ...any) (terminal.Event, error) {
	e := terminal.Event{Terminal: id}
	var at string
	var payload []byte
	dst := append([]any{&e.Seq, &e.ID, &e.Type, &at, &e.Actor, &payload, &e.PrevHash, &e.Hash}, extra...)
	if err := row.Scan(dst...); err != nil {
		return e, err
	}
	e.At, e.Payload = parseTS(at), payload
	return e, nil
}

// feedQuery reads the feed events of several peers after their cursors.
// The feed types are written into it as the literal list the feed's
// partial index is declared with (migrations/0001_hub.sql): with the types
// as a parameter the planner cannot prove the index's predicate, and reads
// every event of every peer instead (TestFeedUsesItsIndex).
func feedQuery() string {
	quoted := make([]string, 0, len(wire.FeedTypes()))
	for _, t := range wire.FeedTypes() {
		quoted = append(quoted, "'"+strings.ReplaceAll(t, "'", "''")+"'")
	}
	return `SELECT p.no, ` + eventCols + `
		FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS p(no, cur, ord)
		CROSS JOIN LATERAL (SELECT * FROM events e WHERE e.terminal = p.no AND e.seq > p.cur
			AND e.type IN (` + strings.Join(quoted, ", ") + `) ORDER BY e.seq LIMIT $3) e
		ORDER BY p.ord, e.seq LIMIT $3`
}

// FeedQueryForTest is feedQuery, for the test that its plan uses the index.
func FeedQueryForTest() string { return feedQuery() }

// scanEventAfter reads first, then eventCols.
func scanEventAfter(row pgx.Row, first any) (terminal.Event, error) {
	var e terminal.Event
	var at string
	var payload []byte
	if err := row.Scan(first, &e.Seq, &e.ID, &e.Type, &at, &e.Actor, &payload, &e.PrevHash, &e.Hash); err != nil {
		return e, err
	}
	e.At, e.Payload = parseTS(at), payload
	return e, nil
}

// Feed implements hub.Store. It reads in one repeatable-read transaction,
// so the cursors agree with the events whatever other processes apply
// meanwhile.
func (s *Store) Feed(ctx context.Context, site, exclude string, cursors map[string]int64, limit int) (hub.FeedPage, error) {
	var page hub.FeedPage
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return page, unavailable(fmt.Errorf("feed: %w", err))
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, `SELECT id, name, last_seq, no FROM terminals WHERE site = $1 AND id != $2 AND NOT relay ORDER BY name, id`, site, exclude)
	if err != nil {
		return page, unavailable(fmt.Errorf("feed: %w", err))
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
		return page, unavailable(err)
	}
	// The events of every peer behind its cursor, in one statement (one
	// probe of the feed's partial index per peer, not one round trip),
	// peers in the page's order, at most limit+1 in all: enough to tell
	// where the page ends.
	var nos, curs []int64
	for _, p := range peers {
		if cur := cursors[p.TerminalID]; cur < p.Seq {
			nos, curs = append(nos, p.no), append(curs, cur)
		}
	}
	byPeer := map[int64][]terminal.Event{}
	if len(nos) > 0 && limit > 0 {
		rows, err := tx.Query(ctx, feedQuery(), nos, curs, limit+1)
		if err != nil {
			return page, unavailable(fmt.Errorf("feed: %w", err))
		}
		for rows.Next() {
			var no int64
			e, err := scanEventAfter(rows, &no)
			if err != nil {
				rows.Close()
				return page, err
			}
			byPeer[no] = append(byPeer[no], e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return page, unavailable(err)
		}
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
		evs := byPeer[p.no]
		next := p.Seq
		if len(evs) > room {
			evs = evs[:room]
			page.More = true
			next = evs[room-1].Seq
		}
		for _, e := range evs {
			e.Terminal = p.TerminalID
			page.Events = append(page.Events, hub.StoredEvent{Event: e, Site: site, Name: p.Name})
		}
		page.Cursors = append(page.Cursors, hub.FeedCursor{TerminalID: p.TerminalID, Name: p.Name, Seq: next})
	}
	return page, nil
}

// TerminalEvents implements hub.Store.
func (s *Store) TerminalEvents(ctx context.Context, id string, afterSeq int64, limit int) ([]terminal.Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT e.seq, e.id::text, coalesce(q.type, e.type), e.at, e.actor, e.payload, e.prev_hash, e.hash
		FROM terminals t JOIN events e ON e.terminal = t.no LEFT JOIN quarantine q ON q.terminal = e.terminal AND q.seq = e.seq
		WHERE t.id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3`, id, max(afterSeq, 0), limit)
	if err != nil {
		return nil, unavailable(fmt.Errorf("events: %w", err))
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
	rows, err := s.pool.Query(ctx, `SELECT `+eventCols+`, t.id, t.site, t.name FROM events e JOIN terminals t ON t.no = e.terminal
		WHERE e.type = ANY($1) ORDER BY e.terminal, e.seq`, types)
	if err != nil {
		return unavailable(fmt.Errorf("scan events: %w", err))
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

// PublishCatalogue implements hub.Store. A transaction-scoped advisory
// lock on the site serializes publications from several processes.
func (s *Store) PublishCatalogue(ctx context.Context, c hub.Catalogue) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('catalogue/' || $1))`, c.Site); err != nil {
			return unavailable(err)
		}
		var last int64
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM catalogues WHERE site = $1`, c.Site).Scan(&last); err != nil {
			return unavailable(err)
		}
		if c.Seq <= last {
			return terminal.Errorf(terminal.ECONFLICT, "another catalogue was published for %s meanwhile: publish again", c.Site)
		}
		_, err := tx.Exec(ctx, `INSERT INTO catalogues (site, seq, version, body, signature, kid, published_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			c.Site, c.Seq, c.Version, c.Body, c.Signature, c.KeyID, ts(c.PublishedAt))
		if err != nil {
			return unavailable(fmt.Errorf("publish catalogue: %w", err))
		}
		return nil
	})
}

// LatestCatalogue implements hub.Store.
func (s *Store) LatestCatalogue(ctx context.Context, site string) (hub.Catalogue, bool, error) {
	c := hub.Catalogue{Site: site}
	var at string
	err := s.pool.QueryRow(ctx, `SELECT seq, version, body, signature, kid, published_at FROM catalogues WHERE site = $1 ORDER BY seq DESC LIMIT 1`, site).
		Scan(&c.Seq, &c.Version, &c.Body, &c.Signature, &c.KeyID, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, false, nil
	}
	if err != nil {
		return c, false, unavailable(fmt.Errorf("catalogue: %w", err))
	}
	c.PublishedAt = parseTS(at)
	return c, true, nil
}

// Counts implements hub.Store: the tables of the embedded store, by the
// same names.
func (s *Store) Counts(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for _, t := range []string{"authorities", "enrollments", "terminals", "events", "records", "revocations", "quarantine", "conflicts", "catalogues", "forwards", "tickets", "mpesa_payments", "mpesa_queries"} {
		var n int
		if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM "+t).Scan(&n); err != nil {
			return nil, unavailable(fmt.Errorf("count %s: %w", t, err))
		}
		out[t] = n
	}
	return out, nil
}

// Backup implements hub.Store: pg_dump in its custom format to a new file
// at path (restore with pg_restore, docs/OPERATIONS.md). The dump is one
// consistent snapshot while the hub runs; the authority keys in it stay
// sealed.
func (s *Store) Backup(ctx context.Context, path string) error {
	dump, err := pgDump()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, dump, "--format=custom", "--no-owner", "--file", path, "--dbname", s.url)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(path)
		return fmt.Errorf("backup to %s: pg_dump: %w: %s", path, err, strings.TrimSpace(string(out)))
	}
	return os.Chmod(path, 0o600)
}

// pgDump finds pg_dump, of the newest installed version: on PATH, else in
// Debian's /usr/lib/postgresql/*/bin.
func pgDump() (string, error) {
	dumps, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_dump")
	version := func(p string) int {
		n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p))))
		return n
	}
	sort.Slice(dumps, func(i, j int) bool { return version(dumps[i]) > version(dumps[j]) })
	if len(dumps) > 0 {
		return dumps[0], nil
	}
	if p, err := exec.LookPath("pg_dump"); err == nil {
		return p, nil
	}
	return "", terminal.Errorf(terminal.EUNAVAILABLE, "pg_dump is not installed: install Debian's postgresql-client package")
}

// Ping implements hub.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return unavailable(err)
	}
	return nil
}

// AddNonce implements hub.NonceStore: it records key at now and reports
// whether it was new within window. Nonces older than the window are
// swept as it goes.
func (s *Store) AddNonce(ctx context.Context, key string, now time.Time, window time.Duration) (bool, error) {
	// One statement, its own transaction: one round trip per request.
	var fresh bool
	err := s.pool.QueryRow(ctx, `INSERT INTO nonces (key, at) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET at = excluded.at WHERE nonces.at < $3
		RETURNING true`, key, now, now.Add(-window)).Scan(&fresh)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, unavailable(fmt.Errorf("nonce: %w", err))
	}
	// Sweep now and then (one request in 64 by the nonce's first byte is
	// enough to keep the table at a window's worth).
	if len(key) > 0 && key[len(key)-1]%64 == 0 {
		if _, err := s.pool.Exec(ctx, `DELETE FROM nonces WHERE at < $1`, now.Add(-window)); err != nil {
			return true, unavailable(fmt.Errorf("nonce sweep: %w", err))
		}
	}
	return true, nil
}
