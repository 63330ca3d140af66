package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/ticket"
)

// Bounds of the ticket list a terminal keeps (issue 16): a page of the feed
// carries at most MaxTicketPage tickets, the list at most MaxTickets (the
// hub keeps 200,000 a site and day, for today and tomorrow). Tickets whose
// validity ended TicketKeep ago are dropped as pages come.
const (
	MaxTicketPage = 5000
	MaxTickets    = 400000
	TicketKeep    = 48 * time.Hour
)

// TicketList is where the terminal's list of prepaid tickets stands.
type TicketList struct {
	Held      int       `json:"held"`
	HubID     string    `json:"hub_id,omitempty"`
	Cursor    int64     `json:"cursor"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	Error     string    `json:"error,omitempty"` // why the last page was refused
	ErrorAt   time.Time `json:"error_at,omitzero"`
}

// TicketCursor is the change number of the last ticket taken from hubID's
// feed: 0 for a hub whose numbering the list is not in (the list then
// comes again whole, and replaces ticket by ticket).
func (db *DB) TicketCursor(ctx context.Context, hubID string) (int64, error) {
	var hub string
	var n int64
	err := db.db.QueryRowContext(ctx, `SELECT hub_id, cursor FROM ticket_list`).Scan(&hub, &n)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && hub != hubID) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("ticket cursor: %w", err)
	}
	return n, nil
}

// Tickets says where the list stands.
func (db *DB) Tickets(ctx context.Context) (TicketList, error) {
	var l TicketList
	var upd, errAt string
	err := db.db.QueryRowContext(ctx, `SELECT hub_id, cursor, updated_at, error, error_at FROM ticket_list`).Scan(&l.HubID, &l.Cursor, &upd, &l.Error, &errAt)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return l, fmt.Errorf("ticket list: %w", err)
	}
	if upd != "" {
		l.UpdatedAt = parseTS(upd)
	}
	if errAt != "" {
		l.ErrorAt = parseTS(errAt)
	}
	if err := db.db.QueryRowContext(ctx, `SELECT count(*) FROM tickets`).Scan(&l.Held); err != nil {
		return l, fmt.Errorf("ticket list: %w", err)
	}
	return l, nil
}

// ApplyTickets takes a page of the site's tickets from hubID's feed, whole
// or not at all: a page above MaxTicketPage, with a ticket that is not
// well formed or of another site, out of change order, or that would take
// the list above MaxTickets is refused (EINVALID, the reason recorded for
// `lango sync status`) and the list held stays as it was.
func (db *DB) ApplyTickets(ctx context.Context, hubID string, page []ticket.Change) error {
	if err := db.checkTickets(ctx, hubID, page); err != nil {
		if rerr := db.RefuseTickets(ctx, err.Error()); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	if len(page) == 0 {
		return nil
	}
	return db.bookkeep(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM tickets WHERE valid_to < ?`, ts(tx.now.Add(-TicketKeep))); err != nil {
			return fmt.Errorf("drop old tickets: %w", err)
		}
		for i := range page {
			t := &page[i]
			party, _ := json.Marshal(t.Party)
			var vehicle any
			if t.Vehicle != nil {
				b, _ := json.Marshal(t.Vehicle)
				vehicle = string(b)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO tickets (no, site, day, valid_from, valid_to, party, vehicle, status, n) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (no) DO UPDATE SET site = excluded.site, day = excluded.day, valid_from = excluded.valid_from, valid_to = excluded.valid_to,
					party = excluded.party, vehicle = excluded.vehicle, status = excluded.status, n = excluded.n`,
				strings.ToUpper(t.No), t.Site, t.Day, ts(t.ValidFrom), ts(t.ValidTo), string(party), vehicle, t.Status, t.N); err != nil {
				return fmt.Errorf("store ticket %s: %w", t.No, err)
			}
		}
		var count int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM tickets`).Scan(&count); err != nil {
			return err
		}
		if count > db.ticketLimit() {
			// Rolled back: checkTickets counted, this is the last guard.
			return terminal.Errorf(terminal.EINVALID, "the hub's ticket list would hold %d tickets, above the %d a terminal keeps: refused, the list held stays in use", count, db.ticketLimit())
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO ticket_list (one, hub_id, cursor, updated_at, error, error_at) VALUES (1, ?, ?, ?, '', '')
			ON CONFLICT (one) DO UPDATE SET hub_id = excluded.hub_id, cursor = excluded.cursor, updated_at = excluded.updated_at, error = '', error_at = ''`,
			hubID, page[len(page)-1].N, ts(tx.now))
		return err
	})
}

func (db *DB) ticketLimit() int {
	if db.TicketLimit > 0 {
		return db.TicketLimit
	}
	return MaxTickets
}

// RefuseTickets records why a page of tickets was refused (shown by
// `lango sync status`); the list held stays as it is.
func (db *DB) RefuseTickets(ctx context.Context, reason string) error {
	return db.bookkeep(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO ticket_list (one, hub_id, cursor, updated_at, error, error_at) VALUES (1, '', 0, '', ?, ?)
			ON CONFLICT (one) DO UPDATE SET error = excluded.error, error_at = excluded.error_at`, reason, ts(tx.now))
		if err != nil {
			return fmt.Errorf("record the ticket list's refusal: %w", err)
		}
		return nil
	})
}

// checkTickets refuses a page that cannot be taken whole.
func (db *DB) checkTickets(ctx context.Context, hubID string, page []ticket.Change) error {
	refuse := func(format string, args ...any) error {
		return terminal.Errorf(terminal.EINVALID, "the hub's ticket list is refused, the list held stays in use: "+format, args...)
	}
	if len(page) > MaxTicketPage {
		return refuse("a page of %d tickets is above the %d a page may carry", len(page), MaxTicketPage)
	}
	id, err := db.Identity(ctx)
	if err != nil {
		return err
	}
	after, err := db.TicketCursor(ctx, hubID)
	if err != nil {
		return err
	}
	fresh := map[string]bool{}
	for i := range page {
		t := &page[i]
		if err := t.Validate(id.Site); err != nil {
			return refuse("%v", err)
		}
		if t.N <= after {
			return refuse("ticket %s is change %d, not after %d", t.No, t.N, after)
		}
		after = t.N
		fresh[strings.ToUpper(t.No)] = true
	}
	var held int
	if err := db.db.QueryRowContext(ctx, `SELECT count(*) FROM tickets WHERE valid_to >= ?`, ts(db.Now().Add(-TicketKeep))).Scan(&held); err != nil {
		return fmt.Errorf("ticket list: %w", err)
	}
	if held+len(fresh) > db.ticketLimit() {
		// Some of the page may replace tickets held: count exactly.
		known := 0
		for no := range fresh {
			var one int
			err := db.db.QueryRowContext(ctx, `SELECT 1 FROM tickets WHERE no = ? AND valid_to >= ?`, no, ts(db.Now().Add(-TicketKeep))).Scan(&one)
			if err == nil {
				known++
			}
		}
		if held+len(fresh)-known > db.ticketLimit() {
			return refuse("it would take the list to %d tickets, above the %d a terminal keeps", held+len(fresh)-known, db.ticketLimit())
		}
	}
	return nil
}

const (
	sqlTicketByNo = `SELECT no, site, valid_from, valid_to, party, vehicle, status FROM tickets WHERE no = ?`
	sqlTicketUses = `SELECT gate, at FROM ticket_uses WHERE no = ? ORDER BY at, gate`
)

type queryer interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// ticketByNo reads one ticket of the list.
func ticketByNo(ctx context.Context, q queryer, no string) (*ticket.Ticket, error) {
	var t ticket.Ticket
	var from, to, party string
	var vehicle sql.NullString
	err := q.QueryRowContext(ctx, sqlTicketByNo, no).Scan(&t.No, &t.Site, &from, &to, &party, &vehicle, &t.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ticket %s: %w", no, err)
	}
	t.ValidFrom, t.ValidTo = parseTS(from), parseTS(to)
	if err := json.Unmarshal([]byte(party), &t.Party); err != nil {
		return nil, fmt.Errorf("ticket %s party: %w", no, err)
	}
	if vehicle.Valid {
		t.Vehicle = &ticket.Vehicle{}
		if err := json.Unmarshal([]byte(vehicle.String), t.Vehicle); err != nil {
			return nil, fmt.Errorf("ticket %s vehicle: %w", no, err)
		}
	}
	return &t, nil
}

func ticketUses(ctx context.Context, q queryer, no string) ([]ticket.Use, error) {
	rows, err := q.QueryContext(ctx, sqlTicketUses, no)
	if err != nil {
		return nil, fmt.Errorf("ticket uses: %w", err)
	}
	defer rows.Close()
	var out []ticket.Use
	for rows.Next() {
		var u ticket.Use
		var at string
		if err := rows.Scan(&u.Gate, &at); err != nil {
			return nil, err
		}
		u.At = parseTS(at)
		out = append(out, u)
	}
	return out, rows.Err()
}

// checkTicket decides on a scanned code with what q holds.
func (db *DB) checkTicket(ctx context.Context, q queryer, site, code string, now time.Time) (*ticket.Answer, error) {
	tc := &ticket.Answer{}
	no, err := ticket.ParseCode(code)
	if err != nil {
		var r *ticket.Refusal
		errors.As(err, &r)
		tc.Refusal = r
		return tc, nil
	}
	tc.No = no
	t, err := ticketByNo(ctx, q, no)
	if err != nil {
		return nil, err
	}
	var list *ticket.List
	if t != nil {
		t.ValidFrom, t.ValidTo = t.ValidFrom.In(db.location()), t.ValidTo.In(db.location())
		list = ticket.NewList([]ticket.Ticket{*t})
	} else {
		list = ticket.NewList(nil)
	}
	if tc.Uses, err = ticketUses(ctx, q, no); err != nil {
		return nil, err
	}
	tc.Ticket, err = list.Check(code, site, now, func(string) (ticket.Use, bool) {
		if len(tc.Uses) == 0 {
			return ticket.Use{}, false
		}
		u := tc.Uses[0]
		u.At = u.At.In(db.location())
		return u, true
	})
	if err != nil {
		var r *ticket.Refusal
		if !errors.As(err, &r) {
			return nil, err
		}
		tc.Refusal = r
	}
	if tc.Ticket == nil && t != nil {
		tc.Ticket = t
	}
	return tc, nil
}

// CheckTicket decides on a scanned "ECT:…" code against the list held and
// the uses known here (this lane's and, through the feed, the others').
// It changes nothing; a refusal is in TicketCheck.Refusal, with the pass
// refusal reasons.
func (db *DB) CheckTicket(ctx context.Context, code string) (*ticket.Answer, error) {
	id, err := db.Identity(ctx)
	if err != nil {
		return nil, err
	}
	return db.checkTicket(ctx, db.db, id.Site, code, db.Now())
}

type afterSaleKey struct{}

// afterSale is run by Sell inside the sale's transaction, after the sale is
// written: what must commit with it or not at all.
type afterSale func(ctx context.Context, tx *Tx, s *terminal.Sale) error

// runAfterSale runs the hook ctx carries, if any.
func runAfterSale(ctx context.Context, tx *Tx, s *terminal.Sale) error {
	if fn, ok := ctx.Value(afterSaleKey{}).(afterSale); ok {
		return fn(ctx, tx, s)
	}
	return nil
}

// UseTicket lets a prepaid ticket in once: the use and its ticket.redeemed
// event commit together (and, when the party at the gate is larger than
// the ticket, with the sale of the difference: one transaction, so a
// ticket is never let in with the difference unpaid, nor paid for and not
// let in). A refused ticket is returned in TicketCheck.Refusal and stores
// nothing. A party larger than the ticket with no tenders is EINVALID,
// saying what is to be paid.
func (db *DB) UseTicket(ctx context.Context, op *terminal.Operator, code string, req ticket.UseRequest) (*ticket.Answer, error) {
	tc, err := db.CheckTicket(ctx, code)
	if err != nil || tc.Refusal != nil {
		return tc, err
	}
	extra := ticket.ExtraLines(tc.Ticket, req.Party)
	id, err := db.Identity(ctx)
	if err != nil {
		return nil, err
	}
	redeem := func(ctx context.Context, tx *Tx, saleID string) error {
		again, err := db.checkTicket(ctx, tx, id.Site, code, tx.now)
		if err != nil {
			return err
		}
		if again.Refusal != nil {
			return again.Refusal
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_uses (no, gate, at, own, sale_id) VALUES (?, ?, ?, 1, ?)`, tc.No, tx.id.Name, ts(tx.now), nullable(saleID)); err != nil {
			return fmt.Errorf("record ticket use: %w", err)
		}
		_, err = tx.appendEvent(ctx, op.Name, terminal.TicketRedeemed{TicketNo: tc.No, Site: id.Site, SaleID: saleID})
		return err
	}
	if len(extra) == 0 {
		if len(req.Tenders) > 0 {
			return nil, terminal.Errorf(terminal.EINVALID, "ticket %s covers the whole party: nothing to pay", tc.No)
		}
		err = db.record(ctx, "this ticket's use", func(tx *Tx) error { return redeem(ctx, tx, "") })
	} else {
		if len(req.Tenders) == 0 {
			return nil, terminal.Errorf(terminal.EINVALID, "the party is larger than ticket %s: %s to pay (give the tenders)", tc.No, describeLines(extra))
		}
		var hook afterSale = func(ctx context.Context, tx *Tx, s *terminal.Sale) error { return redeem(ctx, tx, s.ID) }
		var res *terminal.SaleResult
		res, err = db.SellSigned(context.WithValue(ctx, afterSaleKey{}, hook), op, terminal.SaleRequest{Lines: extra, Vehicle: req.Vehicle, Tenders: req.Tenders})
		if err == nil {
			tc.SaleID, tc.PrintJob = res.Sale.ID, res.PrintJob
		}
	}
	var r *ticket.Refusal
	if errors.As(err, &r) {
		tc.Refusal = r // let in elsewhere between the check and the use
		return tc, nil
	}
	if err != nil {
		return nil, err
	}
	tc.Uses = append(tc.Uses, ticket.Use{Gate: id.Name, At: db.Now()})
	return tc, nil
}

func describeLines(ls []terminal.LineRequest) string {
	parts := make([]string, 0, len(ls))
	for _, l := range ls {
		parts = append(parts, fmt.Sprintf("%d x %s", l.Qty, l.Code))
	}
	return strings.Join(parts, ", ")
}

// applyFeedTicket records a ticket another lane let in: refused here from
// now on. A payload that names no ticket number changes nothing.
func (tx *Tx) applyFeedTicket(ctx context.Context, e *terminal.FeedEvent, name string) error {
	var p terminal.TicketRedeemed
	if json.Unmarshal(e.Payload, &p) != nil {
		return nil
	}
	no, err := ticket.ParseCode(ticket.Prefix + p.TicketNo)
	if err != nil {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_uses (no, gate, at, own) VALUES (?, ?, ?, 0) ON CONFLICT DO NOTHING`, no, name, ts(e.At)); err != nil {
		return fmt.Errorf("feed ticket use: %w", err)
	}
	return nil
}
