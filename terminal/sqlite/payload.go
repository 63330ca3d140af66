package sqlite

import (
	"bytes"
	"compress/flate"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	kflate "github.com/klauspost/compress/flate"
	"github.com/lango-pos/lango/internal/sqlitefile"
	"github.com/lango-pos/lango/terminal"
)

// Event payloads are stored compressed (docs/STORE.md "Payloads
// compressed", migration 0017). The event's hash covers the payload's
// bytes as committed, and those bytes go to the hub as they are: the
// compression is exact, and every reader of events.payload goes through
// decodePayload. A stored payload is one of
//
//   - the payload itself (every row written before this code, and any
//     payload that compression would not make smaller): JSON, whose first
//     byte is '{';
//   - payloadDeflate, the id of a row of payload_dicts as a uvarint, then
//     the payload as a raw DEFLATE stream (RFC 1951) with that row's
//     content as its preset dictionary.
//
// The dictionary is the first sale document of a shift, under a catalogue
// version and a pass key (the sale's tag): the shift's later sales repeat
// most of it (item names, codes, the terminal, the site, the shift, its
// operator and day, the pass's certificate in its digits), so a 1.4 KB
// sale document with its signed pass is stored in ~170 bytes. A sale
// whose tag has no dictionary yet makes one, in its own transaction: a
// row of ~1.5 KB a shift.

// payloadDeflate is the first byte of a payload stored compressed.
const payloadDeflate = 0x01

// payloadLevel is the DEFLATE level the sale path compresses at: the
// fastest, which with a dictionary wins as much as the best on these
// documents (measured in docs/BENCHMARKS.md).
const payloadLevel = 1

// payloadDict is a dictionary of payload_dicts.
type payloadDict struct {
	id      int64
	tag     string
	content []byte
}

// payloadCodec holds the dictionaries the store has read and the writer
// of the one new payloads are compressed with. Its writer and readers are
// reused, not allocated per event.
type payloadCodec struct {
	mu    sync.Mutex
	dicts map[int64][]byte
	byTag map[string]*payloadDict
	cur   *payloadDict // the newest dictionary this process knows
	w     *kflate.Writer
	wDict int64 // the dictionary w was made with
	buf   bytes.Buffer
	// readers are flate readers (io.ReadCloser and flate.Resetter).
	readers sync.Pool
}

// loadPayloadDicts reads every dictionary of the store (a few, one for
// each catalogue version and pass key the terminal has sold under).
func (db *DB) loadPayloadDicts(ctx context.Context) error {
	rows, err := db.db.QueryContext(ctx, `SELECT id, tag, content FROM payload_dicts ORDER BY id`)
	if err != nil {
		return fmt.Errorf("payload dictionaries: %w", err)
	}
	defer rows.Close()
	c := &db.payloads
	c.mu.Lock()
	defer c.mu.Unlock()
	for rows.Next() {
		d := &payloadDict{}
		if err := rows.Scan(&d.id, &d.tag, &d.content); err != nil {
			return fmt.Errorf("payload dictionaries: %w", err)
		}
		c.add(d)
	}
	return rows.Err()
}

// current is the dictionary new payloads are compressed with, if any.
func (c *payloadCodec) current() *payloadDict {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur
}

// tagged is the dictionary made for tag, if this process knows one.
func (c *payloadCodec) tagged(tag string) *payloadDict {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byTag[tag]
}

// committed makes d, written by a transaction that has committed, known
// (and the current one).
func (c *payloadCodec) committed(d *payloadDict) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.add(d)
}

// add makes d known; c.mu is held.
func (c *payloadCodec) add(d *payloadDict) {
	if c.dicts == nil {
		c.dicts, c.byTag = map[int64][]byte{}, map[string]*payloadDict{}
	}
	c.dicts[d.id] = d.content
	if old := c.byTag[d.tag]; old == nil || d.id > old.id {
		c.byTag[d.tag] = d
	}
	if c.cur == nil || d.id >= c.cur.id {
		c.cur = d
	}
}

// encode returns what the store keeps for payload raw: compressed with d,
// unless that would not be smaller (or d is nil).
func (c *payloadCodec) encode(d *payloadDict, raw []byte) ([]byte, error) {
	if d == nil {
		return raw, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Reset()
	var hdr [1 + binary.MaxVarintLen64]byte
	hdr[0] = payloadDeflate
	n := 1 + binary.PutUvarint(hdr[1:], uint64(d.id))
	c.buf.Write(hdr[:n])
	if c.w == nil || c.wDict != d.id {
		w, err := kflate.NewWriterDict(&c.buf, payloadLevel, d.content)
		if err != nil {
			return nil, fmt.Errorf("payload writer: %w", err)
		}
		c.w, c.wDict = w, d.id
	} else {
		c.w.Reset(&c.buf) // keeps the dictionary
	}
	if _, err := c.w.Write(raw); err != nil {
		return nil, fmt.Errorf("compress payload: %w", err)
	}
	if err := c.w.Close(); err != nil {
		return nil, fmt.Errorf("compress payload: %w", err)
	}
	if c.buf.Len() >= len(raw) {
		return raw, nil
	}
	return bytes.Clone(c.buf.Bytes()), nil
}

// errPayload says that a stored payload cannot be decoded: damaged or
// edited (the audit names the event).
var errPayload = errors.New("the stored payload cannot be decoded")

// decodePayload returns the payload's bytes (the ones its event's hash
// covers) from what the store keeps. It is the one reader of
// events.payload, with appendPayload.
func (db *DB) decodePayload(stored []byte) ([]byte, error) {
	if len(stored) == 0 || stored[0] != payloadDeflate {
		return stored, nil
	}
	return db.appendPayload(nil, stored)
}

// appendPayload appends the payload's bytes decoded from stored to dst
// and returns the extended slice: a batch of events is decoded into one
// buffer, not one buffer grown and copied for each.
func (db *DB) appendPayload(dst, stored []byte) ([]byte, error) {
	if len(stored) == 0 || stored[0] != payloadDeflate {
		return append(dst, stored...), nil
	}
	id, n := binary.Uvarint(stored[1:])
	if n <= 0 {
		return nil, fmt.Errorf("%w: no dictionary id", errPayload)
	}
	dict, err := db.payloadDict(int64(id))
	if err != nil {
		return nil, err
	}
	body := bytes.NewReader(stored[1+n:])
	c := &db.payloads
	r, _ := c.readers.Get().(io.ReadCloser)
	if r == nil {
		r = flate.NewReaderDict(body, dict)
	} else if err := r.(flate.Resetter).Reset(body, dict); err != nil {
		return nil, fmt.Errorf("%w: %v", errPayload, err)
	}
	defer c.readers.Put(r)
	start := len(dst)
	dst = growDoubling(dst, payloadRoom(stored))
	for {
		if len(dst) == cap(dst) {
			dst = growDoubling(dst, len(dst)-start+512)
		}
		k, err := r.Read(dst[len(dst):min(cap(dst), start+maxPayload+1)])
		dst = dst[:len(dst)+k]
		if len(dst)-start > maxPayload {
			return nil, fmt.Errorf("%w: it inflates past %d bytes", errPayload, maxPayload)
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errPayload, err)
		}
	}
}

// payloadChunk is the size of the buffers a batch's payloads are decoded
// into (the largest of Go's small allocations).
const payloadChunk = 32 << 10

// payloadRoom is the room appendPayload wants for stored: a sale's
// document is some 9 times its stored form, so 12 times and the read
// that finds the end grow the buffer once at most.
func payloadRoom(stored []byte) int {
	if len(stored) == 0 || stored[0] != payloadDeflate {
		return len(stored)
	}
	return 12*len(stored) + 512
}

// growDoubling makes room for n more bytes in b, at least doubling its
// capacity when it must move it: a payload that inflates past the room
// payloadRoom guessed moves a few times, not by a quarter at each read
// (slices.Grow's step for large slices). A batch's payloads share chunks
// of payloadChunk (liveEvents), so only the one being decoded moves.
func growDoubling(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), max(2*cap(b), len(b)+n))
	copy(nb, b)
	return nb
}

// maxPayload bounds what a stored payload may inflate to: no event is
// bigger than an upload's body may be (8 MiB, docs/SYNC-PROTOCOL.md), so
// a damaged row cannot fill the memory of whoever reads it.
const maxPayload = 8 << 20

// payloadDict returns dictionary id's content: known to this process, or
// made by another process (the kiosk beside the command line) since this
// one read them. That one is read on a connection of its own, since the
// caller may be reading rows on the store's one connection; it sees every
// committed dictionary, and a row is never committed before its
// dictionary.
func (db *DB) payloadDict(id int64) ([]byte, error) {
	c := &db.payloads
	c.mu.Lock()
	dict, ok := c.dicts[id]
	c.mu.Unlock()
	if ok {
		return dict, nil
	}
	rdb, err := sql.Open("sqlite", sqlitefile.DSN(db.path, true))
	if err != nil {
		return nil, fmt.Errorf("payload dictionary %d: %w", id, err)
	}
	defer rdb.Close()
	d := &payloadDict{id: id}
	err = rdb.QueryRowContext(context.Background(), `SELECT tag, content FROM payload_dicts WHERE id = ?`, id).Scan(&d.tag, &d.content)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: its dictionary %d is not in the store", errPayload, id)
	}
	if err != nil {
		return nil, fmt.Errorf("payload dictionary %d: %w", id, err)
	}
	c.mu.Lock()
	c.add(d)
	c.mu.Unlock()
	return d.content, nil
}

// payloadFor returns what tx stores for the payload raw of an event of
// type typ: compressed with the current dictionary, or, for the first sale
// of a tag without one, with a new dictionary made of raw itself, inserted
// in tx (and known to the codec once tx commits).
func (tx *Tx) payloadFor(ctx context.Context, typ string, raw []byte) ([]byte, error) {
	c := &tx.db.payloads
	d := tx.dict
	if d == nil && tx.dictTag != "" {
		d = c.tagged(tx.dictTag)
	}
	if d == nil && (typ != terminal.EventSaleCreated || tx.dictTag == "") {
		d = c.current()
	}
	if typ == terminal.EventSaleCreated && tx.dictTag != "" && d == nil {
		nd := &payloadDict{tag: tx.dictTag, content: bytes.Clone(raw)}
		r, err := tx.ExecContext(ctx, `INSERT INTO payload_dicts (tag, content, created_at) VALUES (?, ?, ?)`, nd.tag, nd.content, ts(tx.now))
		if err != nil {
			return nil, fmt.Errorf("payload dictionary: %w", err)
		}
		if nd.id, err = r.LastInsertId(); err != nil {
			return nil, fmt.Errorf("payload dictionary: %w", err)
		}
		tx.dict, tx.newDict, d = nd, nd, nd
	}
	return c.encode(d, raw)
}
