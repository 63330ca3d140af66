package sqlite

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
)

// The archive (docs/STORE.md). Events the hub has acknowledged and that are
// older than the retention leave the events table for gzip files under the
// data folder's archive/ folder, one run of the chain each:
// archive/events-FIRST-LAST.ndjson.gz, one event a line. A step is:
//
//  1. write the run to archive/NAME.tmp and fsync it;
//  2. rename it to NAME and fsync the folder;
//  3. in one transaction, record the run's checkpoint (its ends, the hash
//     it links to and ends with, the file's SHA-256, signed with the
//     terminal's key) and delete its events;
//  4. give the freed pages back to the file system (incremental_vacuum).
//
// A kill before 3 commits leaves a file no checkpoint names: the next run
// deletes it and writes the run again from the rows, which are all still
// there. A kill after leaves the rows gone and the file named. The sale
// rows stay (a compact row: number, id, kind, state, time, shift), their
// document goes with the event and is read back from the file when asked
// for (DB.Sale).

// ArchiveDir is the archive folder beside the store file at path.
func ArchiveDir(storePath string) string {
	return filepath.Join(filepath.Dir(storePath), "archive")
}

// archiveBatch is the most events one archive file holds: the delete of a
// run holds the write lock, which every sale at the lane waits for, so a
// run is short (10,000 events: ~20 MB of rows, a 2 MB file).
const archiveBatch = 10_000

// ArchiveResult says what an archive run did.
type ArchiveResult struct {
	Files    []string `json:"files"`     // written this run, names under archive/
	Removed  []string `json:"removed"`   // left by an interrupted run, removed
	Events   int64    `json:"events"`    // archived this run
	Through  int64    `json:"through"`   // every event up to this seq is archived
	Live     int64    `json:"live"`      // events left in the store
	Freed    int64    `json:"freed"`     // bytes the store's file gave back
	Cutoff   string   `json:"cutoff"`    // events made before this time were eligible
	AckedSeq int64    `json:"acked_seq"` // what the hub holds
}

// archiveRow is one checkpoint: a run of the chain in one file.
type archiveRow struct {
	first, last         int64
	file                string
	prevHash, lastHash  string
	sum, sig, createdAt string
}

// checkpointMessage is what the terminal's key signs for a run.
func checkpointMessage(terminalID string, a archiveRow) []byte {
	return []byte(strings.Join([]string{"lango-archive-v1", terminalID, strconv.FormatInt(a.first, 10), strconv.FormatInt(a.last, 10), a.prevHash, a.lastHash, a.sum}, "\n"))
}

// archiveLine is an event as an archive file holds it. The payload is the
// exact bytes the hash covers: as a JSON string when they are UTF-8 (they
// always are: the payloads are JSON), else base64.
type archiveLine struct {
	Seq        int64  `json:"seq"`
	ID         string `json:"id"`
	Type       string `json:"type"`
	At         string `json:"at"`
	Actor      string `json:"actor,omitempty"`
	Payload    string `json:"payload,omitempty"`
	PayloadB64 []byte `json:"payload_b64,omitempty"`
	PrevHash   string `json:"prev_hash"`
	Hash       string `json:"hash"`
}

// ArchiveStep names the moments of an archive step, for the crash tests'
// failpoints (SetArchiveHook).
const (
	StepWritten   = "written"   // the file written, not yet synced
	StepSynced    = "synced"    // fsynced under its temporary name
	StepRenamed   = "renamed"   // renamed and the folder synced
	StepDeleted   = "deleted"   // the rows deleted, the transaction not committed
	StepCommitted = "committed" // committed, before the vacuum
)

// Archive moves to archive files every event the hub has acknowledged that
// was made before now minus retention, but the last event (the chain's
// head stays in the store, so the next event links to it). It is safe to
// run at any time and to kill at any moment.
func (db *DB) Archive(ctx context.Context, retention time.Duration) (*ArchiveResult, error) {
	id, err := db.Identity(ctx)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	if retention < 24*time.Hour {
		return nil, terminal.Errorf(terminal.EINVALID, "the retention must be at least a day, got %s", retention)
	}
	key, err := db.TerminalKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	dir := ArchiveDir(db.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, terminal.Errorf(terminal.EDEVICE, "the archive folder %s: %v", dir, err)
	}
	cutoff := db.Now().Add(-retention)
	res := &ArchiveResult{Cutoff: cutoff.UTC().Format(time.RFC3339), Files: []string{}, Removed: []string{}}
	if res.Removed, err = db.removeOrphans(ctx, dir); err != nil {
		return nil, err
	}
	before, _ := db.fileSize()
	for {
		var upTo, acked, head int64
		var prev string
		if err := db.db.QueryRowContext(ctx, `SELECT coalesce((SELECT max(last_seq) FROM archives), 0), coalesce((SELECT last_hash FROM archives ORDER BY last_seq DESC LIMIT 1), ''),
			(SELECT acked_seq FROM sync_state WHERE id = 1), coalesce((SELECT max(seq) FROM events), 0)`).Scan(&upTo, &prev, &acked, &head); err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
		res.Through, res.AckedSeq = upTo, acked
		// The run ends before the first event that is too recent, not yet
		// held by the hub, or the head.
		batch := int64(archiveBatch)
		if db.archiveBatch > 0 {
			batch = db.archiveBatch
		}
		last := min(acked, head-1, upTo+batch)
		var young sql.NullInt64
		if err := db.db.QueryRowContext(ctx, `SELECT min(seq) FROM events WHERE seq > ? AND seq <= ? AND at >= ?`, upTo, last, ts(cutoff)).Scan(&young); err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
		if young.Valid {
			last = young.Int64 - 1
		}
		if last <= upTo {
			break
		}
		a, err := db.archiveRun(ctx, id.TerminalID, key, dir, upTo+1, last, prev)
		if err != nil {
			return nil, err
		}
		res.Files = append(res.Files, a.file)
		res.Events += a.last - a.first + 1
		res.Through = a.last
		// Pages freed go back to the file system when the store was made
		// with auto_vacuum=INCREMENTAL (every store made since migration
		// 0015), a run's worth at a time, so no one transaction holds the
		// write lock long; an older store keeps them on its free list and
		// fills them with the next sales, so its file stops growing.
		if _, err := db.db.ExecContext(ctx, `PRAGMA incremental_vacuum`); err != nil {
			return nil, fmt.Errorf("archive: vacuum: %w", err)
		}
	}
	if err := db.db.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&res.Live); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	if res.Events > 0 {
		if _, err := db.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return nil, fmt.Errorf("archive: checkpoint: %w", err)
		}
	}
	if after, err := db.fileSize(); err == nil && after < before {
		res.Freed = before - after
	}
	return res, nil
}

func (db *DB) fileSize() (int64, error) {
	fi, err := os.Stat(db.path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// removeOrphans deletes what an archive step killed before its commit left
// in dir: temporary files, and files no checkpoint names (their events are
// still in the store).
func (db *DB) removeOrphans(ctx context.Context, dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, terminal.Errorf(terminal.EDEVICE, "the archive folder %s: %v", dir, err)
	}
	removed := []string{}
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, "events-") {
			continue
		}
		if !strings.HasSuffix(name, ".tmp") {
			var n int
			if err := db.db.QueryRowContext(ctx, `SELECT count(*) FROM archives WHERE file = ?`, name).Scan(&n); err != nil {
				return nil, fmt.Errorf("archive: %w", err)
			}
			if n > 0 {
				continue
			}
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			return nil, terminal.Errorf(terminal.EDEVICE, "the archive folder: %v", err)
		}
		removed = append(removed, name)
	}
	return removed, nil
}

// archiveRun writes events first…last to a file and, once it is durable,
// records its checkpoint and deletes the events in one transaction.
func (db *DB) archiveRun(ctx context.Context, terminalID string, key ed25519.PrivateKey, dir string, first, last int64, prev string) (*archiveRow, error) {
	a := &archiveRow{first: first, last: last, prevHash: prev, file: fmt.Sprintf("events-%012d-%012d.ndjson.gz", first, last), createdAt: ts(db.Now())}
	path := filepath.Join(dir, a.file)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, terminal.Errorf(terminal.EDEVICE, "the archive file: %v", err)
	}
	defer os.Remove(tmp) // after a rename, nothing
	defer f.Close()
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<16)
	zw, _ := gzip.NewWriterLevel(bw, gzip.BestCompression)
	enc := json.NewEncoder(zw)
	rows, err := db.db.QueryContext(ctx, `SELECT seq, id, type, at, actor, payload, `+storedPrevHash+`, hash FROM events WHERE seq >= ? AND seq <= ? ORDER BY seq`, first, last)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	v := terminal.ChainVerifier{LastSeq: first - 1, LastHash: prev}
	for rows.Next() {
		var l archiveLine
		var stored []byte
		if err := rows.Scan(&l.Seq, &l.ID, &l.Type, &l.At, &l.Actor, &stored, &l.PrevHash, &l.Hash); err != nil {
			rows.Close()
			return nil, fmt.Errorf("archive: %w", err)
		}
		// The file holds the payload's own bytes, not the store's form.
		payload, err := db.decodePayload(stored)
		if err != nil {
			rows.Close()
			return nil, terminal.Errorf(terminal.ECONFLICT, "not archived: the payload of event %d cannot be read (lango audit verify)", l.Seq)
		}
		// What goes into the file is checked as it goes: a broken chain is
		// not archived (the audit names it in the store).
		e := terminal.Event{Seq: l.Seq, ID: l.ID, Type: l.Type, At: parseTS(l.At), Actor: l.Actor, Payload: payload, PrevHash: l.PrevHash, Hash: l.Hash, Terminal: terminalID}
		if err := v.Next(&e); err != nil {
			rows.Close()
			return nil, terminal.Errorf(terminal.ECONFLICT, "not archived: the chain is broken at event %d (lango audit verify)", e.Seq)
		}
		if utf8.Valid(payload) {
			l.Payload = string(payload)
		} else {
			l.PayloadB64 = payload
		}
		if err := enc.Encode(&l); err != nil {
			rows.Close()
			return nil, terminal.Errorf(terminal.EDEVICE, "the archive file: %v", err)
		}
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	if v.LastSeq != last {
		return nil, terminal.Errorf(terminal.ECONFLICT, "not archived: events %d to %d are not all in the store (lango audit verify)", first, last)
	}
	a.lastHash = v.LastHash
	if err := zw.Close(); err != nil {
		return nil, terminal.Errorf(terminal.EDEVICE, "the archive file: %v", err)
	}
	if err := bw.Flush(); err != nil {
		return nil, terminal.Errorf(terminal.EDEVICE, "the archive file: %v", err)
	}
	db.archiveStep(StepWritten)
	if err := f.Sync(); err != nil {
		return nil, terminal.Errorf(terminal.EDEVICE, "the archive file: %v", err)
	}
	if err := f.Close(); err != nil {
		return nil, terminal.Errorf(terminal.EDEVICE, "the archive file: %v", err)
	}
	db.archiveStep(StepSynced)
	if err := os.Rename(tmp, path); err != nil {
		return nil, terminal.Errorf(terminal.EDEVICE, "the archive file: %v", err)
	}
	if err := syncDir(dir); err != nil {
		return nil, terminal.Errorf(terminal.EDEVICE, "the archive folder: %v", err)
	}
	db.archiveStep(StepRenamed)
	a.sum = hex.EncodeToString(h.Sum(nil))
	a.sig = base64.StdEncoding.EncodeToString(ed25519.Sign(key, checkpointMessage(terminalID, *a)))
	if err := db.archiveCommit(ctx, a); err != nil {
		os.Remove(path) // the rows are still there: the file is an orphan
		return nil, err
	}
	db.archiveStep(StepCommitted)
	return a, nil
}

// archiveCommit records a's checkpoint and deletes its events in one
// transaction. The sale rows whose events go keep pointing at their seq:
// the foreign key from sales.event_seq is not enforced for this one
// transaction (on the store's one connection, held for it).
func (db *DB) archiveCommit(ctx context.Context, a *archiveRow) error {
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	defer func() {
		// The connection goes back to the pool enforcing foreign keys, or
		// not at all.
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`); err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	err = func() error {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `INSERT INTO archives (first_seq, last_seq, file, prev_hash, last_hash, sha256, signature, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			a.first, a.last, a.file, a.prevHash, a.lastHash, a.sum, a.sig, a.createdAt); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM events WHERE seq >= ? AND seq <= ?`, a.first, a.last); err != nil {
			return err
		}
		db.archiveStep(StepDeleted)
		return tx.Commit()
	}()
	return storeError("the archive", err)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (db *DB) archiveStep(step string) {
	if db.archiveHook != nil {
		db.archiveHook(step)
	}
}

// archives returns the checkpoints, in chain order.
func (db *DB) archives(ctx context.Context) ([]archiveRow, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT first_seq, last_seq, file, prev_hash, last_hash, sha256, signature, created_at FROM archives ORDER BY first_seq`)
	if err != nil {
		return nil, fmt.Errorf("archives: %w", err)
	}
	defer rows.Close()
	var out []archiveRow
	for rows.Next() {
		var a archiveRow
		if err := rows.Scan(&a.first, &a.last, &a.file, &a.prevHash, &a.lastHash, &a.sum, &a.sig, &a.createdAt); err != nil {
			return nil, fmt.Errorf("archives: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// terminalPublics are the public halves of the terminal's own keys: any
// of them may have signed a checkpoint (a key replaced since still
// verifies what it signed).
func (db *DB) terminalPublics(ctx context.Context) ([]ed25519.PublicKey, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT private FROM keys WHERE kind = 'terminal' AND private IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("terminal keys: %w", err)
	}
	defer rows.Close()
	var out []ed25519.PublicKey
	for rows.Next() {
		var pem []byte
		if err := rows.Scan(&pem); err != nil {
			return nil, fmt.Errorf("terminal keys: %w", err)
		}
		k, err := pass.ParsePrivateKeyPEM(pem)
		if err != nil {
			return nil, fmt.Errorf("terminal keys: %w", err)
		}
		out = append(out, k.Public().(ed25519.PublicKey))
	}
	return out, rows.Err()
}

// checkCheckpoint verifies a checkpoint's signature.
func checkCheckpoint(terminalID string, keys []ed25519.PublicKey, a archiveRow) error {
	sig, err := base64.StdEncoding.DecodeString(a.sig)
	if err == nil {
		msg := checkpointMessage(terminalID, a)
		for _, k := range keys {
			if ed25519.Verify(k, msg, sig) {
				return nil
			}
		}
	}
	return &terminal.AuditError{Seq: a.last, Table: "archives", Row: a.file, Reason: fmt.Sprintf("the checkpoint of %s (events %d to %d) is not signed by this terminal's key: forged or edited", a.file, a.first, a.last)}
}

// eachArchived streams the events of archive file a, checking the file
// against its checkpoint: its SHA-256, read through before the first event
// is used, and that it holds exactly the run, in order.
func (db *DB) eachArchived(ctx context.Context, terminalID string, a archiveRow, fn func(*terminal.Event) error) error {
	path := filepath.Join(ArchiveDir(db.path), a.file)
	named := func(reason string) error {
		return &terminal.AuditError{Seq: a.first, Table: "archives", Row: a.file, Reason: fmt.Sprintf("archive file %s (events %d to %d): %s", a.file, a.first, a.last, reason)}
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return named("missing")
	}
	if err != nil {
		return terminal.Errorf(terminal.EDEVICE, "archive file %s: %v", a.file, err)
	}
	defer f.Close()
	// The whole file's digest first: an edit anywhere is named as an edit
	// of the file, before any of its events is replayed.
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return terminal.Errorf(terminal.EDEVICE, "archive file %s: %v", a.file, err)
	}
	if hex.EncodeToString(h.Sum(nil)) != a.sum {
		return named("its content differs from its signed checkpoint (edited or damaged)")
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return terminal.Errorf(terminal.EDEVICE, "archive file %s: %v", a.file, err)
	}
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<16))
	if err != nil {
		return named("unreadable: " + err.Error())
	}
	dec := json.NewDecoder(zr)
	next := a.first
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var l archiveLine
		if err := dec.Decode(&l); err == io.EOF {
			break
		} else if err != nil {
			return named("unreadable: " + err.Error())
		}
		if l.Seq != next {
			return named(fmt.Sprintf("holds event %d where %d was due", l.Seq, next))
		}
		next++
		e := terminal.Event{Seq: l.Seq, ID: l.ID, Type: l.Type, At: parseTS(l.At), Actor: l.Actor, Payload: []byte(l.Payload), PrevHash: l.PrevHash, Hash: l.Hash, Terminal: terminalID}
		if l.PayloadB64 != nil {
			e.Payload = l.PayloadB64
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	if next != a.last+1 {
		return named(fmt.Sprintf("ends at event %d", next-1))
	}
	return nil
}

// eachEvent streams every event after seq in order: from the archive files
// that hold them, then from the store. fn's event is reused.
func (db *DB) eachEvent(ctx context.Context, after int64, fn func(*terminal.Event) error) error {
	id, err := db.Identity(ctx)
	if err != nil {
		return err
	}
	arch, err := db.archives(ctx)
	if err != nil {
		return err
	}
	for _, a := range arch {
		if a.last <= after {
			continue
		}
		err := db.eachArchived(ctx, id.TerminalID, a, func(e *terminal.Event) error {
			if e.Seq <= after {
				return nil
			}
			after = e.Seq
			return fn(e)
		})
		if err != nil {
			return err
		}
	}
	const batch = 1000
	for {
		evs, err := db.liveEvents(ctx, id.TerminalID, after, batch)
		if err != nil {
			return err
		}
		for i := range evs {
			if err := fn(&evs[i]); err != nil {
				return err
			}
			after = evs[i].Seq
		}
		if len(evs) < batch {
			return nil
		}
	}
}
