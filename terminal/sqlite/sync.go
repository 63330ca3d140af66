package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/lango-pos/lango/terminal"
)

// This file is the store's side of sync with the hub (package sync/client
// drives it): how far the hub has acknowledged the outbox, what the terminal
// knows of the hub, and the site feed. Every method is one short
// transaction: sync never holds the store's connection across the network,
// so a sale never waits for it for more than a few milliseconds.

// SyncState reads the sync state from disk.
func (db *DB) SyncState(ctx context.Context) (terminal.SyncState, error) {
	var s terminal.SyncState
	var lastSuccess, lastContact string
	var online int
	var offset int64
	var refused string
	err := db.db.QueryRowContext(ctx, `SELECT hub_id, acked_seq, last_success, last_contact, last_error, online, clock_offset_ms, catalogue_seq, rewinds,
		catalogue_refused, (SELECT coalesce(max(seq), 0) FROM events) FROM sync_state WHERE id = 1`).Scan(
		&s.HubID, &s.AckedSeq, &lastSuccess, &lastContact, &s.LastError, &online, &offset, &s.CatalogueSeq, &s.Rewinds, &refused, &s.LastSeq)
	if err != nil {
		return s, fmt.Errorf("sync state: %w", err)
	}
	if refused != "" {
		var r terminal.CatalogueRefusal
		if json.Unmarshal([]byte(refused), &r) == nil {
			s.CatalogueRefused = &r
		}
	}
	s.LastSuccess, s.LastContact = parseTS(lastSuccess), parseTS(lastContact)
	s.Online, s.ClockOffset = online == 1, time.Duration(offset)*time.Millisecond
	if s.LastSeq > s.AckedSeq {
		var at string
		err := db.db.QueryRowContext(ctx, `SELECT at FROM events WHERE seq > ? ORDER BY seq LIMIT 1`, s.AckedSeq).Scan(&at)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return s, fmt.Errorf("sync state: %w", err)
		}
		s.OldestUnsynced = parseTS(at)
	}
	return s, nil
}

// SyncAcked records that hub hubID holds every event up to seq. seq may be
// lower than the stored one: the hub was restored from an older backup and
// the events after seq are sent again (counted in Rewinds).
func (db *DB) SyncAcked(ctx context.Context, hubID string, seq int64) error {
	if seq < 0 {
		return terminal.Errorf(terminal.EINVALID, "acknowledged seq %d is negative", seq)
	}
	return db.bookkeep(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE sync_state SET hub_id = ?, rewinds = rewinds + (? < acked_seq), acked_seq = ? WHERE id = 1`, hubID, seq, seq)
		if err != nil {
			return fmt.Errorf("sync acked: %w", err)
		}
		return nil
	})
}

// RecordSyncAttempt stores the outcome of a sync attempt for the status
// line.
func (db *DB) RecordSyncAttempt(ctx context.Context, a terminal.SyncAttempt) error {
	return db.bookkeep(ctx, func(tx *Tx) error {
		var err error
		switch {
		case a.Reached && a.Err == "":
			_, err = tx.ExecContext(ctx, `UPDATE sync_state SET online = 1, last_contact = ?, last_success = ?, last_error = '' WHERE id = 1`, ts(a.At), ts(a.At))
		case a.Reached:
			_, err = tx.ExecContext(ctx, `UPDATE sync_state SET online = 1, last_contact = ?, last_error = ? WHERE id = 1`, ts(a.At), a.Err)
		default:
			_, err = tx.ExecContext(ctx, `UPDATE sync_state SET online = 0, last_error = ? WHERE id = 1`, a.Err)
		}
		if err != nil {
			return fmt.Errorf("record sync: %w", err)
		}
		return nil
	})
}

// SetClockOffset stores the hub's clock minus this terminal's, learnt from
// the hub's answers, so that the next process signs with the right time at
// once.
func (db *DB) SetClockOffset(ctx context.Context, d time.Duration) error {
	return db.bookkeep(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE sync_state SET clock_offset_ms = ? WHERE id = 1`, d.Milliseconds()); err != nil {
			return fmt.Errorf("clock offset: %w", err)
		}
		return nil
	})
}

// EventHash returns the hash of the event at seq, or "" if there is none:
// from the archive when seq was archived (a hub restored from a backup
// older than the archive run).
func (db *DB) EventHash(ctx context.Context, seq int64) (string, error) {
	var h string
	err := db.db.QueryRowContext(ctx, `SELECT hash FROM events WHERE seq = ?`, seq).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		evs, err := db.Events(ctx, seq-1, 1)
		if err != nil {
			return "", fmt.Errorf("event %d: %w", seq, err)
		}
		if len(evs) == 1 && evs[0].Seq == seq {
			return evs[0].Hash, nil
		}
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("event %d: %w", seq, err)
	}
	return h, nil
}

// FeedCursors returns, for each other terminal of the site, the seq up to
// which its events have been read from the feed.
func (db *DB) FeedCursors(ctx context.Context) (map[string]int64, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT terminal, seq FROM sync_peers`)
	if err != nil {
		return nil, fmt.Errorf("feed cursors: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var t string
		var s int64
		if err := rows.Scan(&t, &s); err != nil {
			return nil, err
		}
		out[t] = s
	}
	return out, rows.Err()
}

// FeedPeers returns the other terminals of the site known from the feed.
func (db *DB) FeedPeers(ctx context.Context) ([]terminal.FeedPeer, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT terminal, name, seq FROM sync_peers ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("feed peers: %w", err)
	}
	defer rows.Close()
	var out []terminal.FeedPeer
	for rows.Next() {
		var p terminal.FeedPeer
		if err := rows.Scan(&p.TerminalID, &p.Name, &p.Seq); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ApplyFeed stores a page of the site feed and what it means here, in one
// transaction: pass.settled marks the pass settled and used, pass.used marks
// it used, sale.voided with a pass revokes it. Marks name the terminal that
// made them. Events at or below a terminal's cursor, and this terminal's
// own, are skipped, so a page applied twice changes nothing. Cursors only
// move forward. It returns the number of events applied.
//
// Only what changes is written: a peer whose name and cursor are as
// stored is left alone, and a page that brings nothing new writes
// nothing (every answer lists every peer of the site, 143 at a site of
// the national backlog, and most exchanges move none of their cursors).
func (db *DB) ApplyFeed(ctx context.Context, events []terminal.FeedEvent, peers []terminal.FeedPeer) (int, error) {
	id, err := db.Identity(ctx)
	if err != nil {
		return 0, err
	}
	held, err := db.FeedPeers(ctx)
	if err != nil {
		return 0, err
	}
	type peerRow struct {
		name string
		seq  int64
	}
	stored := make(map[string]peerRow, len(held))
	for _, p := range held {
		stored[p.TerminalID] = peerRow{p.Name, p.Seq}
	}
	fresh := events[:0:0]
	for i := range events {
		if e := &events[i]; e.Terminal != id.TerminalID && e.Seq > stored[e.Terminal].seq {
			fresh = append(fresh, *e)
		}
	}
	moved := peers[:0:0]
	for _, p := range peers {
		if was, ok := stored[p.TerminalID]; p.TerminalID != id.TerminalID && (!ok || was.name != p.Name || p.Seq > was.seq) {
			moved = append(moved, p)
		}
	}
	if len(fresh) == 0 && len(moved) == 0 {
		return 0, nil
	}
	applied := 0
	err = db.bookkeep(ctx, func(tx *Tx) error {
		applied = 0
		names := map[string]string{}
		for _, p := range peers {
			names[p.TerminalID] = p.Name
		}
		var insert *sql.Stmt
		for i := range fresh {
			e := &fresh[i]
			name := e.Name
			if name == "" {
				name = names[e.Terminal]
			}
			if insert == nil {
				// Prepared once for the page: a terminal new to a site
				// reads every peer's operators in one.
				var err error
				if insert, err = tx.PrepareContext(ctx, `INSERT INTO sync_feed (terminal, seq, id, type, at, actor, payload, hash, received_at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`); err != nil {
					return fmt.Errorf("feed event: %w", err)
				}
				defer insert.Close()
			}
			r, err := insert.ExecContext(ctx, e.Terminal, e.Seq, e.ID, e.Type, ts(e.At), e.Actor, string(e.Payload), e.Hash, ts(tx.now))
			if err != nil {
				return fmt.Errorf("feed event: %w", err)
			}
			if n, _ := r.RowsAffected(); n == 0 {
				continue
			}
			switch e.Type {
			case terminal.EventOperatorAdded, terminal.EventOperatorPIN:
				err = tx.applyFeedOperator(ctx, e, name)
			case terminal.EventOperatorOff:
				err = tx.applyFeedDisable(ctx, e, name)
			case terminal.EventMpesaUsed:
				err = tx.applyFeedMpesa(ctx, e, name)
			case terminal.EventBankUsed:
				err = tx.applyFeedBank(ctx, e, name)
			case terminal.EventTicketRedeemed:
				err = tx.applyFeedTicket(ctx, e, name)
			default:
				err = tx.applyFeedMarks(ctx, e, name)
			}
			if err != nil {
				return err
			}
			applied++
		}
		if len(moved) == 0 {
			return nil
		}
		// Prepared once for the page: parsing the statement cost more
		// than running it, once a peer.
		st, err := tx.PrepareContext(ctx, `INSERT INTO sync_peers (terminal, name, seq) VALUES (?, ?, ?)
			ON CONFLICT (terminal) DO UPDATE SET name = excluded.name, seq = max(seq, excluded.seq)`)
		if err != nil {
			return fmt.Errorf("feed cursor: %w", err)
		}
		defer st.Close()
		for _, p := range moved {
			if _, err := st.ExecContext(ctx, p.TerminalID, p.Name, p.Seq); err != nil {
				return fmt.Errorf("feed cursor: %w", err)
			}
		}
		return nil
	})
	return applied, err
}

// applyFeedMpesa records an M-PESA code another lane of the site took: it
// is refused here from now on. A payload that names no code changes
// nothing.
func (tx *Tx) applyFeedMpesa(ctx context.Context, e *terminal.FeedEvent, name string) error {
	var p terminal.MpesaUsed
	if json.Unmarshal(e.Payload, &p) != nil {
		return nil
	}
	code, err := terminal.NormalizeMpesaCode(p.Code)
	if err != nil {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO feed_mpesa_codes (code, terminal, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, code, name, ts(e.At)); err != nil {
		return fmt.Errorf("feed M-PESA code: %w", err)
	}
	return nil
}

// applyFeedMarks records what a feed event says of a pass.
func (tx *Tx) applyFeedMarks(ctx context.Context, e *terminal.FeedEvent, name string) error {
	passID, marks := passMarks(&e.Event)
	for _, m := range marks {
		if _, err := tx.ExecContext(ctx, `INSERT INTO pass_marks (pass_id, mark, terminal, at, ref) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, passID, m[0], name, ts(e.At), m[1]); err != nil {
			return fmt.Errorf("feed mark: %w", err)
		}
	}
	return nil
}

// passMarks is the pass an event marks and the marks (mark, ref) it
// leaves: what UsePass, Settle and Void write here and what the feed
// writes of other terminals' events (none for a pass id that is not a
// UUID). The audit replays the same.
func passMarks(e *terminal.Event) (passID string, marks [][2]string) {
	var p struct {
		PassID       string `json:"pass_id"`
		SettlementID string `json:"settlement_id"`
		Reason       string `json:"reason"`
	}
	if json.Unmarshal(e.Payload, &p) != nil {
		return "", nil
	}
	if _, err := uuid.Parse(p.PassID); err != nil {
		return "", nil
	}
	switch e.Type {
	case terminal.EventPassSettled:
		marks = [][2]string{{"settled", p.SettlementID}, {"used", p.SettlementID}}
	case terminal.EventPassUsed:
		marks = [][2]string{{"used", ""}}
	case terminal.EventSaleVoided:
		marks = [][2]string{{"revoked", p.Reason}}
	}
	return p.PassID, marks
}

// eachFeedEvent calls fn with every stored feed event, ordered by terminal
// and seq, as it reads them. fn must not call the store.
func (db *DB) eachFeedEvent(ctx context.Context, fn func(*terminal.FeedEvent) error) error {
	rows, err := db.db.QueryContext(ctx, sqlFeedEvents, "", "", 0, -1)
	if err != nil {
		return fmt.Errorf("feed: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanFeedEvent(rows)
		if err != nil {
			return err
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	return rows.Err()
}

const sqlFeedEvents = `SELECT f.terminal, coalesce(p.name, ''), f.seq, f.id, f.type, f.at, f.actor, f.payload, f.hash
	FROM sync_feed f LEFT JOIN sync_peers p ON p.terminal = f.terminal
	WHERE (? = '' OR f.terminal = ?) AND f.seq > ? ORDER BY f.terminal, f.seq LIMIT ?`

func scanFeedEvent(rows *sql.Rows) (terminal.FeedEvent, error) {
	var e terminal.FeedEvent
	var at, payload string
	if err := rows.Scan(&e.Terminal, &e.Name, &e.Seq, &e.ID, &e.Type, &at, &e.Actor, &payload, &e.Hash); err != nil {
		return e, err
	}
	e.At, e.Payload = parseTS(at), json.RawMessage(payload)
	return e, nil
}

// FeedEvents returns up to limit stored feed events of terminalID after
// seq, in order; terminalID "" means every terminal, ordered by terminal and
// seq.
func (db *DB) FeedEvents(ctx context.Context, terminalID string, afterSeq int64, limit int) ([]terminal.FeedEvent, error) {
	rows, err := db.db.QueryContext(ctx, sqlFeedEvents, terminalID, terminalID, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("feed: %w", err)
	}
	defer rows.Close()
	var out []terminal.FeedEvent
	for rows.Next() {
		e, err := scanFeedEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ApplyHubCatalogue makes cat, verified by the caller against the site
// authority, the active catalogue (unless it already is) and records the
// hub's publication number seq, in one transaction. A publication not newer
// than the last applied is refused: an old signed catalogue cannot be
// replayed.
func (db *DB) ApplyHubCatalogue(ctx context.Context, cat *terminal.Catalogue, seq int64) error {
	active, err := db.Catalogue(ctx)
	if err != nil && terminal.ErrorKind(err) != terminal.ENOTFOUND {
		return err
	}
	switched := false
	err = db.record(ctx, "the hub's catalogue", func(tx *Tx) error {
		var have int64
		if err := tx.QueryRowContext(ctx, `SELECT catalogue_seq FROM sync_state WHERE id = 1`).Scan(&have); err != nil {
			return err
		}
		if seq <= have {
			return terminal.Errorf(terminal.ECONFLICT, "catalogue publication %d is not newer than %d, already applied", seq, have)
		}
		if active == nil || active.Version != cat.Version || string(active.Raw()) != string(cat.Raw()) {
			if err := tx.loadCatalogue(ctx, cat); err != nil {
				return err
			}
			switched = true
		} else {
			tx.onlyBookkeeping() // the same catalogue again: only the cursor moves
		}
		_, err := tx.ExecContext(ctx, `UPDATE sync_state SET catalogue_seq = ?, catalogue_refused = '' WHERE id = 1`, seq)
		return err
	})
	if err != nil {
		return err
	}
	if switched {
		db.mu.Lock()
		db.cat = cat
		db.mu.Unlock()
	}
	return nil
}

// AppendEventsForBenchmark appends n chained events of type typ with the
// payloads payload(i) straight to the outbox, bypassing the domain, in
// transactions of 10,000. It exists for tests and benchmarks that need a
// large queue quickly (sync/hub's drain benchmark); nothing else calls it.
// Payloads are stored as the store keeps them (payload.go): sales
// compressed with a dictionary made of the first, as a shift's are, so
// that a drain reads and decodes what a terminal in the field holds.
func (db *DB) AppendEventsForBenchmark(ctx context.Context, n int, typ string, payload func(i int) json.RawMessage) error {
	for done := 0; done < n; {
		k := min(10000, n-done)
		err := db.bookkeep(ctx, func(tx *Tx) error {
			var last sql.NullInt64
			var prev sql.NullString
			if err := tx.QueryRowContext(ctx, sqlLastEvent).Scan(&last, &prev); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			st, err := tx.PrepareContext(ctx, sqlInsertEvent)
			if err != nil {
				return err
			}
			defer st.Close()
			if typ == terminal.EventSaleCreated {
				tx.dictTag = "benchmark"
			}
			e := terminal.Event{Seq: last.Int64, Hash: prev.String, Terminal: tx.terminal, Type: typ}
			for i := range k {
				e.Seq, e.PrevHash = e.Seq+1, e.Hash
				e.ID, e.At = newID(), tx.now.Add(time.Duration(i)*time.Microsecond)
				e.Payload = payload(done + i)
				e.Hash = e.ComputeHash()
				stored, err := tx.payloadFor(ctx, typ, e.Payload)
				if err != nil {
					return err
				}
				if _, err := st.ExecContext(ctx, e.Seq, e.ID, e.Type, ts(e.At), e.Actor, stored, e.PrevHash, e.Hash); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("append events: %w", err)
		}
		done += k
	}
	return nil
}

// RefuseHubCatalogue records that the hub's publication seq (version) cannot
// be used here, and why: the terminal keeps selling on its catalogue, does
// not fetch that publication again, and a catalogue.refused event tells
// the hub. A publication not newer than the last handled changes nothing.
func (db *DB) RefuseHubCatalogue(ctx context.Context, seq int64, version, reason string) error {
	if len(version) > 64 {
		version = version[:64]
	}
	if len(reason) > 500 {
		reason = reason[:500]
	}
	r := terminal.CatalogueRefusal{Seq: seq, Version: version, Reason: reason}
	return db.record(ctx, "the refusal of the hub's catalogue", func(tx *Tx) error {
		var have int64
		if err := tx.QueryRowContext(ctx, `SELECT catalogue_seq FROM sync_state WHERE id = 1`).Scan(&have); err != nil {
			return err
		}
		if seq <= have {
			tx.onlyBookkeeping() // handled already: nothing to write
			return nil
		}
		r.At = tx.now
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sync_state SET catalogue_seq = ?, catalogue_refused = ? WHERE id = 1`, seq, string(b)); err != nil {
			return fmt.Errorf("catalogue refused: %w", err)
		}
		_, err = tx.appendEvent(ctx, "", terminal.CatalogueRefused{Seq: seq, Version: version, Reason: reason})
		return err
	})
}
