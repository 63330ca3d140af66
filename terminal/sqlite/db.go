// Package sqlite is the terminal's local store on modernc.org/sqlite: the
// truth while offline. Every state change commits its immutable event in the
// same transaction (the outbox), chained by hash (the audit log).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/lango-pos/lango/internal/sqlitefile"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the terminal's store. It holds one connection: SQLite has one writer
// anyway, and one connection makes every transaction serial in this process;
// other processes (the CLI beside the GUI) wait on busy_timeout.
type DB struct {
	db   *sql.DB
	path string
	// Now is the clock; tests replace it.
	Now func() time.Time
	// CheckDevice, if set, is the device adapters' own check of a printer,
	// pdq or scanner setting (profile names, option values), run after the
	// store's check of its shape by SetSetting and Init. The program that
	// wires the adapters sets it (cmd/lango); nothing is stored that it
	// refuses.
	CheckDevice func(key, value string) error
	// TicketLimit bounds the prepaid ticket list (0: MaxTickets); tests
	// lower it.
	TicketLimit int

	mu       sync.Mutex
	cat      *terminal.Catalogue // the active catalogue, loaded once
	identity *terminal.Identity  // immutable once initialised
	stmts    map[string]*sql.Stmt
	window   *clockWindow // when this terminal's clock may be; reset when certificates change
	issuer   *pass.Issuer // the signer of passes, for its certificate's window; reset with window
	issuerOK [2]time.Time // that window
	// hour is the last sale_hours bucket a committed sale of this process
	// wrote: its row exists, so the next sales of that hour skip the
	// statement (a row is only ever added there).
	hour string
	// compact holds the key ids of this terminal's certificates the hub
	// promised every verifier holds (compact_keys), once compactOK.
	compact   map[string]bool
	compactOK bool
	// payloads compresses and decodes event payloads (payload.go).
	payloads payloadCodec

	// afterReport, if set (tests), runs between a shift close's report and
	// its write transaction.
	afterReport func()
	// archiveHook, if set (the crash tests), runs at each step of an
	// archive run (archive.go's Step names).
	archiveHook func(step string)
	// archiveBatch, if set (tests), is the most events an archive file
	// holds in place of archiveBatch.
	archiveBatch int64
}

// Open opens (creating if needed) the store at path and brings its schema up
// to date.
func Open(ctx context.Context, path string) (*DB, error) {
	sdb, err := sqlitefile.OpenWriter(ctx, path)
	if err != nil {
		return nil, err
	}
	db := &DB{db: sdb, path: path, Now: time.Now, stmts: map[string]*sql.Stmt{}}
	// A new store gives the pages an archive run frees back to the file
	// system (archive.go). The mode is set before the first table, and in
	// WAL mode only a VACUUM applies it: of an empty file, at once.
	var tables int
	if err := sdb.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&tables); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if tables == 0 {
		if _, err := sdb.ExecContext(ctx, `PRAGMA auto_vacuum = INCREMENTAL`); err != nil {
			sdb.Close()
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		if _, err := sdb.ExecContext(ctx, `VACUUM`); err != nil {
			sdb.Close()
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	if err := db.migrate(ctx); err != nil {
		sdb.Close()
		return nil, err
	}
	if err := db.loadPayloadDicts(ctx); err != nil {
		sdb.Close()
		return nil, err
	}
	if err := db.prepare(ctx, sqlLastEvent, sqlInsertEvent, sqlOpenShift, sqlSaleStart, sqlNextNumber, sqlMpesaUsed,
		sqlInsertSale, sqlInsertMpesa, sqlPrinterSetting, sqlInsertPrintJob, sqlSaleHour, sqlMpesaFeed); err != nil {
		sdb.Close()
		return nil, err
	}
	// The catalogue gives the site's time zone (SiteTime), which messages
	// written inside a transaction need without a query of their own. A
	// store not initialised yet has none.
	db.Catalogue(ctx)
	return db, nil
}

// SiteTime formats t as a person at the counter reads it: in the site's
// time zone (the catalogue's), with the zone's name. layout is a time
// layout without the zone.
func (db *DB) SiteTime(t time.Time, layout string) string {
	return terminal.SiteTime(t, db.location(), layout)
}

// location is the site's time zone, the catalogue's (time.Local before
// the store is initialised).
func (db *DB) location() *time.Location {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.cat != nil && db.cat.Location() != nil {
		return db.cat.Location()
	}
	return time.Local
}

// Close closes the store.
func (db *DB) Close() error {
	db.mu.Lock()
	for _, s := range db.stmts {
		s.Close()
	}
	db.stmts = nil
	db.mu.Unlock()
	return db.db.Close()
}

// prepare parses the statements of the sale path once, at open. Parsing SQL
// costs as much CPU as a sale's inserts. It must happen outside any
// transaction: the store's one connection is busy while a transaction runs.
func (db *DB) prepare(ctx context.Context, queries ...string) error {
	for _, q := range queries {
		st, err := db.db.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		db.stmts[q] = st
	}
	return nil
}

// prepared returns the statement prepared at open for q, if any.
func (db *DB) prepared(q string) (*sql.Stmt, bool) {
	db.mu.Lock()
	defer db.mu.Unlock()
	st, ok := db.stmts[q]
	return st, ok
}

// Path is the store's file.
func (db *DB) Path() string { return db.path }

// SQL exposes the connection for read-only checks in tests and tools.
func (db *DB) SQL() *sql.DB { return db.db }

func (db *DB) migrate(ctx context.Context) error {
	return sqlitefile.Migrate(ctx, db.db, migrations, "migrations/*.sql", db.Now)
}

// ts formats a time for storage: UTC, fixed width, so text order is time
// order.
func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

func parseTS(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// Tx is a write transaction with the event log at hand.
type Tx struct {
	*sql.Tx
	db  *DB
	now time.Time
	// terminal is this terminal's id ("" before Init), id its identity.
	terminal string
	id       terminal.Identity
	// events counts the events appended; bookkeeping is set when a record
	// transaction changed nothing an event describes (see record).
	events      int
	bookkeeping bool
	// hour is the sale_hours bucket this transaction wrote, remembered by
	// the store once it commits (see insertSale).
	hour string
	// last is the last event in the log as this transaction sees it, once
	// read (or once the sale's first statement has read it): the next
	// event chains to it.
	last *chainEnd
	// dictTag is what a sale of this transaction is (its catalogue
	// version, pass key and shift), for the payload dictionary (payload.go);
	// dict is the dictionary this transaction compresses with once
	// chosen, newDict the one it made, known to the store once committed.
	dictTag       string
	dict, newDict *payloadDict
}

// chainEnd is the last event of the log: its seq and hash.
type chainEnd struct {
	seq  int64
	hash string
}

// ExecContext runs a statement in tx, prepared at open when it is on the
// sale path.
func (tx *Tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st, ok := tx.db.prepared(q); ok {
		return tx.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.Tx.ExecContext(ctx, q, args...)
}

// QueryRowContext runs a query in tx, prepared at open when it is on the
// sale path.
func (tx *Tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st, ok := tx.db.prepared(q); ok {
		return tx.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.Tx.QueryRowContext(ctx, q, args...)
}

// record runs fn in a write transaction (BEGIN IMMEDIATE) that changes
// what the terminal knows, committing if fn returns nil: fn must append
// the event that says so (appendEvent), in the same transaction, or say
// that this time it wrote only bookkeeping (tx.onlyBookkeeping). A commit
// without either is refused as the bug it is. The whole of fn sees one
// clock reading. A failure of the store itself (disk full, locked,
// read-only, I/O) rolls everything back and is returned as a
// terminal.Error that names what (e.g. "this sale") and says what failed
// (see storeError).
func (db *DB) record(ctx context.Context, what string, fn func(tx *Tx) error) error {
	return storeError(what, db.updateTx(ctx, func(tx *Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if tx.events == 0 && !tx.bookkeeping {
			return fmt.Errorf("%s changed the store without an event", what)
		}
		return nil
	}))
}

// bookkeep runs fn in a write transaction that keeps the store's own
// bookkeeping, which no event describes: how far the hub holds the outbox,
// the print queue, the failure count towards a PIN lockout, and what the
// hub sent down (feed events and revocations, kept as they came: the hub
// holds their events and the audit replays them).
func (db *DB) bookkeep(ctx context.Context, fn func(tx *Tx) error) error {
	return storeError("this change", db.updateTx(ctx, fn))
}

// onlyBookkeeping says that what tx wrote this time is bookkeeping that no
// event describes (a record path that found nothing to change); record
// then commits it without an event.
func (tx *Tx) onlyBookkeeping() { tx.bookkeeping = true }

func (db *DB) updateTx(ctx context.Context, fn func(tx *Tx) error) error {
	// Read the identity before BEGIN: the store has one connection, which
	// the transaction holds until it ends.
	id, _ := db.Identity(ctx)
	stx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer stx.Rollback()
	tx := &Tx{Tx: stx, db: db, now: db.Now(), terminal: id.TerminalID, id: id}
	if err := fn(tx); err != nil {
		return err
	}
	if isTrial(ctx) {
		return errTrial // TrySell: everything checked, nothing kept
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if tx.hour != "" {
		db.mu.Lock()
		db.hour = tx.hour
		db.mu.Unlock()
	}
	if tx.newDict != nil {
		db.payloads.committed(tx.newDict)
	}
	return nil
}

const (
	sqlLastEvent   = `SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1`
	sqlInsertEvent = `INSERT INTO events (seq, id, type, at, actor, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
)

// appendEvent writes an event in tx, chained to the last one.
// The payload's type decides the event's (terminal/payloads.go: one
// typed payload per event type).
func (tx *Tx) appendEvent(ctx context.Context, actor string, payload terminal.Payload) (*terminal.Event, error) {
	typ := payload.EventType()
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("event %s: %w", typ, err)
	}
	if err := tx.db.checkClock(ctx, tx, tx.now); err != nil {
		return nil, err
	}
	e := &terminal.Event{Type: typ, At: tx.now, Actor: actor, Payload: body, Terminal: tx.terminal}
	if tx.last == nil {
		var last sql.NullInt64
		var prev sql.NullString
		err = tx.QueryRowContext(ctx, sqlLastEvent).Scan(&last, &prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("event %s: %w", typ, err)
		}
		tx.last = &chainEnd{last.Int64, prev.String}
	}
	e.Seq, e.PrevHash = tx.last.seq+1, tx.last.hash
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("event id: %w", err)
	}
	e.ID = id.String()
	e.Hash = e.ComputeHash()
	stored, err := tx.payloadFor(ctx, typ, body)
	if err != nil {
		return nil, fmt.Errorf("event %s: %w", typ, err)
	}
	// The previous hash is the previous row's (or the last archived
	// event's): stored once, there (storedPrevHash).
	prev := e.PrevHash
	if e.Seq > 1 {
		prev = ""
	}
	if _, err := tx.ExecContext(ctx, sqlInsertEvent,
		e.Seq, e.ID, e.Type, ts(e.At), e.Actor, stored, prev, e.Hash); err != nil {
		return nil, fmt.Errorf("event %s: %w", typ, err)
	}
	tx.last = &chainEnd{e.Seq, e.Hash}
	tx.events++
	return e, nil
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// Events returns up to limit events after seq, in order: from the archive
// files when seq is behind what the store still holds (a hub restored from
// an old backup asks for them again).
func (db *DB) Events(ctx context.Context, afterSeq int64, limit int) ([]terminal.Event, error) {
	id, err := db.Identity(ctx)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	var archived int64
	if err := db.db.QueryRowContext(ctx, `SELECT coalesce(max(last_seq), 0) FROM archives`).Scan(&archived); err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	if afterSeq >= archived {
		return db.liveEvents(ctx, id.TerminalID, afterSeq, limit)
	}
	out := make([]terminal.Event, 0, min(limit, 1000))
	errEnough := errors.New("enough")
	err = db.eachEvent(ctx, afterSeq, func(e *terminal.Event) error {
		if len(out) == limit {
			return errEnough
		}
		out = append(out, *e)
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, fmt.Errorf("events: %w", err)
	}
	return out, nil
}

// liveEvents returns up to limit events after seq that the store holds.
// The payloads are decoded into one buffer for the batch; the previous
// hash of a row that stores none is the row before's, read in the same
// scan (storedPrevHash only for the first row, or after a missing one).
func (db *DB) liveEvents(ctx context.Context, term string, afterSeq int64, limit int) ([]terminal.Event, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT seq, id, type, at, actor, payload, prev_hash, hash FROM events WHERE seq > ? ORDER BY seq LIMIT ?`, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	defer rows.Close()
	out := make([]terminal.Event, 0, min(limit, 1000))
	// The batch's payloads are decoded into chunks of 32 KB (some 20
	// sales' documents), each payload into the room left in the last: no
	// buffer is copied as it grows, and none is a large allocation
	// zeroed whole (1 MB for a batch of 500, and again for the empty read
	// that ends an upload).
	var buf []byte
	// The events whose previous hash is another row's, not read here.
	var missing []int
	for rows.Next() {
		var e terminal.Event
		var at string
		var stored sql.RawBytes
		if err := rows.Scan(&e.Seq, &e.ID, &e.Type, &at, &e.Actor, &stored, &e.PrevHash, &e.Hash); err != nil {
			return nil, fmt.Errorf("events: %w", err)
		}
		if need := payloadRoom(stored); cap(buf)-len(buf) < need {
			buf = make([]byte, 0, max(payloadChunk, need))
		}
		start := len(buf)
		if buf, err = db.appendPayload(buf, stored); err != nil {
			return nil, db.payloadError(e.Seq, err)
		}
		e.Payload = buf[start:len(buf):len(buf)]
		if e.PrevHash == "" && e.Seq > 1 {
			if n := len(out); n > 0 && out[n-1].Seq == e.Seq-1 {
				e.PrevHash = out[n-1].Hash
			} else {
				missing = append(missing, len(out))
			}
		}
		e.At, e.Terminal = parseTS(at), term
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	rows.Close()
	for _, i := range missing {
		if err := db.db.QueryRowContext(ctx, `SELECT `+storedPrevHash+` FROM events WHERE seq = ?`, out[i].Seq).Scan(&out[i].PrevHash); err != nil {
			return nil, fmt.Errorf("events: %w", err)
		}
	}
	return out, nil
}

// storedPrevHash is an event's previous hash as a query of the events
// table reads it: stored in the row by the code before issue 19's, and
// since then left empty (but for the first event) and read from the
// previous row, or from the checkpoint of the archived run before it. A
// row that was removed or edited gives a hash the chain verifier refuses.
const storedPrevHash = `CASE WHEN events.prev_hash = '' AND events.seq > 1 THEN coalesce(
	(SELECT p.hash FROM events p WHERE p.seq = events.seq - 1),
	(SELECT a.last_hash FROM archives a WHERE a.last_seq = events.seq - 1), '') ELSE events.prev_hash END`

// eventPayload decodes the stored payload of event seq; one that cannot
// be is named as a broken record of the audit.
func (db *DB) eventPayload(seq int64, stored []byte) ([]byte, error) {
	p, err := db.decodePayload(stored)
	if err != nil {
		return nil, db.payloadError(seq, err)
	}
	return p, nil
}

// payloadError names a payload that cannot be decoded as a broken record
// of the audit.
func (db *DB) payloadError(seq int64, err error) error {
	if errors.Is(err, errPayload) {
		return &terminal.AuditError{Seq: seq, Reason: fmt.Sprintf("%v (edited or damaged)", err)}
	}
	return err
}

// Counts returns the number of rows in each table, for tests and reports
// that check that refused input changed nothing.
func (db *DB) Counts(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for _, t := range []string{"meta", "settings", "catalogues", "keys", "operators", "shifts", "sales", "mpesa_codes", "bank_refs", "deposits", "settlements", "pass_marks", "print_jobs", "events"} {
		var n int
		if err := db.db.QueryRowContext(ctx, "SELECT count(*) FROM "+t).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", t, err)
		}
		out[t] = n
	}
	return out, nil
}

// IntegrityCheck runs PRAGMA integrity_check and returns its answer ("ok").
func (db *DB) IntegrityCheck(ctx context.Context) (string, error) {
	rows, err := db.db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return "", err
		}
		lines = append(lines, s)
	}
	return strings.Join(lines, "; "), rows.Err()
}
