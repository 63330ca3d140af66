package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/terminal"
)

// keepReport takes the new applied events of one terminal into the
// report's state, in the transaction that applies them, Lean (a paid sale
// nothing names keeps no fact: its record leads to its event), its writes
// queued on tail for the caller to send. resent are the sale ids the batch
// creates again (insertRecords).
func keepReport(ctx context.Context, tx pgx.Tx, id, site, name string, events []terminal.Event, resent []string, head, tail *pgx.Batch) error {
	stored := make([]hub.StoredEvent, len(events))
	for i, e := range events {
		stored[i] = hub.StoredEvent{Event: e, Site: site, Name: name}
		stored[i].Terminal = id
	}
	return keepReportStored(ctx, tx, stored, reportMode{lock: true, lean: true, resent: resent, head: head}, tail)
}

// reportMode says how keepReportStored takes a batch: lock, see below;
// lean, hub.ReportBatch.Lean (only where every new record has its seq:
// Apply's, not the copy's or a rebuild's).
// head, if set, are statements of Apply's fast path sent first in the same
// round trip (the records' insert): a key that stops one is errCareful.
type reportMode struct {
	lock, lean bool
	resent     []string
	head       *pgx.Batch
}

// saleEventsQuery reads the sale events of records by id, as
// hub.ReportBatch.Changes takes them.
const saleEventsQuery = `SELECT ` + eventCols + `, t.id, t.site, t.name FROM records r JOIN terminals t ON t.no = r.terminal
	JOIN events e ON e.terminal = r.terminal AND e.seq = r.seq WHERE r.id = ANY($1::uuid[]) AND r.kind = 'sale'`

// keepReportStored takes events into the report's state, queuing its
// writes on tail. With lock, the groups of facts the events name are
// locked first, in one order, for the transaction: two processes applying
// a sale and its settlement at once see each other's facts, one after the
// other (read committed: each statement sees what committed before it;
// the facts and the sale events are read after the locks).
func keepReportStored(ctx context.Context, tx pgx.Tx, events []hub.StoredEvent, mode reportMode, tail *pgx.Batch) error {
	b := hub.NewReportBatch(events)
	b.Lean = mode.lean
	keys := b.Lookups()
	var held []hub.ReportFact
	var sales []hub.StoredEvent
	if len(keys) == 0 && mode.head != nil && mode.head.Len() > 0 {
		br := tx.SendBatch(ctx, mode.head)
		if err := sendHead(br, mode.head.Len()); err != nil {
			return err
		}
		if err := br.Close(); err != nil {
			return unavailable(fmt.Errorf("apply: %w", err))
		}
	}
	if len(keys) > 0 {
		grps, ks := make([]string, len(keys)), make([]string, len(keys))
		for i, k := range keys {
			grps[i], ks[i] = k.Group, k.Key
		}
		batch, nhead := &pgx.Batch{}, 0
		if mode.head != nil {
			batch, nhead = mode.head, mode.head.Len()
		}
		nlocks := 0
		if mode.lock {
			nlocks = queueReportLocks(batch, keys, b.OnlySales) // bounded: reportlocks.go
		}
		// A probe of the key for each group (the lateral subquery, kept
		// apart by OFFSET 0): a join would be planned as a scan of the
		// whole table, sorted, while it is small or its statistics old.
		batch.Queue(`SELECT f.grp, f.key, f.kind, f.site, f.terminal, f.seq, f.n, f.body FROM unnest($1::text[], $2::text[]) AS k(grp, key)
			CROSS JOIN LATERAL (SELECT * FROM report_facts f WHERE f.grp = k.grp AND f.key = k.key OFFSET 0) f`, grps, ks)
		var saleIDs []uuid.UUID
		if mode.lean {
			for _, id := range b.SaleLookups(mode.resent...) {
				if k, ok := hub.RecordKey(id); ok {
					saleIDs = append(saleIDs, uuid.UUID(k))
				}
			}
			if len(saleIDs) > 0 {
				batch.Queue(saleEventsQuery, saleIDs)
			}
		}
		br := tx.SendBatch(ctx, batch)
		if err := sendHead(br, nhead); err != nil {
			return err
		}
		for range nlocks {
			if _, err := br.Exec(); err != nil {
				br.Close()
				return unavailable(fmt.Errorf("report state: lock: %w", err))
			}
		}
		rows, err := br.Query()
		if err == nil {
			held, err = scanFacts(rows)
		}
		if err == nil && len(saleIDs) > 0 {
			rows, err = br.Query()
			if err == nil {
				sales, err = scanStoredEvents(rows)
			}
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return unavailable(fmt.Errorf("report state: %w", err))
		}
	}
	d := b.Changes(held, sales...)
	batch := tail
	if len(d.Facts) > 0 {
		n := len(d.Facts)
		grp, key, kind, site, term := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		seq, num, body := make([]int64, n), make([]int32, n), make([][]byte, n)
		for i, f := range d.Facts {
			grp[i], key[i], kind[i], site[i], term[i], seq[i], num[i], body[i] = f.Group, f.Key, f.Kind, f.Site, f.Terminal, f.Seq, int32(f.N), f.Body
		}
		batch.Queue(`INSERT INTO report_facts (grp, key, kind, site, terminal, seq, n, body)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::int[], $8::bytea[]) ON CONFLICT DO NOTHING`,
			grp, key, kind, site, term, seq, num, body)
	}
	if len(d.Mpesa) > 0 {
		// The facts first: keepMpesa reads every fact of the codes. What
		// is queued on tail so far goes now; the rest stays for the caller.
		if err := tx.SendBatch(ctx, tail).Close(); err != nil {
			return unavailable(fmt.Errorf("report state: %w", err))
		}
		tail.QueuedQueries = nil
		if err := keepMpesa(ctx, tx, d.Mpesa, false); err != nil {
			return err
		}
	}
	if len(d.Takings) > 0 {
		n := len(d.Takings)
		term, site, tender, cur := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		amount, tenders := make([]int64, n), make([]int64, n)
		for i, t := range d.Takings {
			term[i], site[i], tender[i], cur[i], amount[i], tenders[i] = t.Terminal, t.Site, t.Tender, t.Currency, t.Amount, int64(t.Tenders)
		}
		batch.Queue(`INSERT INTO report_takings (terminal, site, tender, currency, amount, tenders)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
			ON CONFLICT (terminal, site, tender, currency) DO UPDATE SET amount = report_takings.amount + excluded.amount, tenders = report_takings.tenders + excluded.tenders`,
			term, site, tender, cur, amount, tenders)
	}
	if len(d.Settled) > 0 {
		site, id := make([]string, len(d.Settled)), make([]string, len(d.Settled))
		for i, k := range d.Settled {
			site[i], id[i] = k[0], k[1]
		}
		batch.Queue(`DELETE FROM report_unsettled u USING unnest($1::text[], $2::text[]) AS k(site, id) WHERE u.site = k.site AND u.sale_id = k.id`, site, id)
	}
	if len(d.Unsettled) > 0 {
		n := len(d.Unsettled)
		site, id, term, seq, body := make([]string, n), make([]string, n), make([]string, n), make([]int64, n), make([][]byte, n)
		for i, u := range d.Unsettled {
			site[i], id[i], term[i], seq[i], body[i] = u.Site, u.SaleID, u.Terminal, u.Seq, u.Body
		}
		batch.Queue(`INSERT INTO report_unsettled (site, sale_id, terminal, seq, body)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bytea[]) ON CONFLICT DO NOTHING`, site, id, term, seq, body)
	}
	if len(d.Hot) > 0 {
		grp, key := make([]string, len(d.Hot)), make([]string, len(d.Hot))
		for i, k := range d.Hot {
			grp[i], key[i] = k.Group, k.Key
		}
		batch.Queue(`INSERT INTO report_hot (grp, key) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING`, grp, key)
	}
	for _, r := range d.Refused {
		if r.Body == nil {
			batch.Queue(`DELETE FROM report_refused WHERE terminal = $1`, r.Terminal)
		} else {
			batch.Queue(`INSERT INTO report_refused (terminal, body) VALUES ($1, $2) ON CONFLICT (terminal) DO UPDATE SET body = excluded.body`, r.Terminal, r.Body)
		}
	}
	return nil
}

// sendHead reads the results of the first n statements of br, the head
// of a batch; on an error it closes br.
func sendHead(br pgx.BatchResults, n int) error {
	for range n {
		if _, err := br.Exec(); err != nil {
			br.Close()
			if _, ok := uniqueViolation(err); ok {
				return errCareful
			}
			return unavailable(fmt.Errorf("apply: %w", err))
		}
	}
	return nil
}

// sendBatch sends the statements queued on batch, if any.
func sendBatch(ctx context.Context, tx pgx.Tx, batch *pgx.Batch, what string) error {
	if batch.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return unavailable(fmt.Errorf("%s: %w", what, err))
	}
	return nil
}

// scanStoredEvents reads rows of eventCols, then the terminal's id, site
// and name.
func scanStoredEvents(rows pgx.Rows) ([]hub.StoredEvent, error) {
	defer rows.Close()
	var out []hub.StoredEvent
	for rows.Next() {
		var se hub.StoredEvent
		var id string
		e, err := scanEvent(rows, "", &id, &se.Site, &se.Name)
		if err != nil {
			return nil, err
		}
		e.Terminal = id
		se.Event = e
		out = append(out, se)
	}
	return out, rows.Err()
}

func scanFacts(rows pgx.Rows) ([]hub.ReportFact, error) {
	defer rows.Close()
	var out []hub.ReportFact
	for rows.Next() {
		var f hub.ReportFact
		var n int32
		if err := rows.Scan(&f.Group, &f.Key, &f.Kind, &f.Site, &f.Terminal, &f.Seq, &n, &f.Body); err != nil {
			return nil, err
		}
		f.N = int(n)
		out = append(out, f)
	}
	return out, rows.Err()
}

// rebuildReport fills the report's state from the events held when it was
// built by another version of its rules (or not at all: a database made
// before migration 0007), in one transaction under the migration lock.
func (s *Store) rebuildReport(ctx context.Context) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
			return err
		}
		var v string
		err := tx.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'report_state'`).Scan(&v)
		if err == nil && v == strconv.Itoa(hub.ReportStateVersion) {
			return nil
		}
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("report state: %w", err)
		}
		if _, err := tx.Exec(ctx, `TRUNCATE report_facts, report_hot, report_takings, report_unsettled, report_refused, report_mpesa_codes, report_mpesa_totals`); err != nil {
			return fmt.Errorf("report state: %w", err)
		}
		lastNo, lastSeq := int64(-1), int64(0)
		for {
			rows, err := tx.Query(ctx, `SELECT `+eventCols+`, t.id, t.site, t.name, e.terminal FROM events e JOIN terminals t ON t.no = e.terminal
				WHERE (e.terminal, e.seq) > ($1, $2) AND e.type = ANY($3) ORDER BY e.terminal, e.seq LIMIT 5000`, lastNo, lastSeq, hub.ReportTypes)
			if err != nil {
				return fmt.Errorf("report state: %w", err)
			}
			var batch []hub.StoredEvent
			for rows.Next() {
				var se hub.StoredEvent
				var id string
				e, err := scanEvent(rows, "", &id, &se.Site, &se.Name, &lastNo)
				if err != nil {
					rows.Close()
					return fmt.Errorf("report state: %w", err)
				}
				e.Terminal, lastSeq = id, e.Seq
				se.Event = e
				batch = append(batch, se)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("report state: %w", err)
			}
			if len(batch) == 0 {
				break
			}
			tail := &pgx.Batch{}
			if err := keepReportStored(ctx, tx, batch, reportMode{}, tail); err != nil {
				return err
			}
			if err := sendBatch(ctx, tx, tail, "report state"); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO meta (key, value) VALUES ('report_state', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
			strconv.Itoa(hub.ReportStateVersion))
		return err
	})
}

// ReportState implements hub.Store, in one repeatable-read transaction.
func (s *Store) ReportState(ctx context.Context, mpesa bool) (hub.ReportState, error) {
	var st hub.ReportState
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return st, unavailable(fmt.Errorf("report state: %w", err))
	}
	defer tx.Rollback(ctx)
	rows, _ := tx.Query(ctx, `SELECT site, tender, currency, sum(amount)::bigint FROM report_takings GROUP BY site, tender, currency HAVING sum(tenders) > 0`)
	st.Takings, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (hub.Taking, error) {
		var t hub.Taking
		err := r.Scan(&t.Site, &t.Tender, &t.Currency, &t.Amount)
		return t, err
	})
	if err != nil {
		return st, unavailable(fmt.Errorf("report state: takings: %w", err))
	}
	rows, _ = tx.Query(ctx, `SELECT body FROM report_unsettled`)
	if st.Unsettled, err = pgx.CollectRows(rows, pgx.RowTo[[]byte]); err != nil {
		return st, unavailable(fmt.Errorf("report state: unsettled: %w", err))
	}
	rows, _ = tx.Query(ctx, `SELECT r.body FROM report_refused r LEFT JOIN terminals t ON t.id = r.terminal ORDER BY t.no`)
	if st.Refused, err = pgx.CollectRows(rows, pgx.RowTo[[]byte]); err != nil {
		return st, unavailable(fmt.Errorf("report state: catalogue refusals: %w", err))
	}
	rows, err = tx.Query(ctx, `SELECT f.grp, f.key, f.kind, f.site, f.terminal, f.seq, f.n, f.body FROM report_hot h
		CROSS JOIN LATERAL (SELECT * FROM report_facts f WHERE f.grp = h.grp AND f.key = h.key OFFSET 0) f`)
	if err == nil {
		st.Hot, err = scanFacts(rows)
	}
	if err != nil {
		return st, unavailable(fmt.Errorf("report state: facts: %w", err))
	}
	if mpesa {
		if err := mpesaState(ctx, tx, &st); err != nil {
			return st, err
		}
	}
	return st, nil
}
