package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lango-pos/lango/internal/sqlitefile"
	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/pass"
)

// Statements of the sale path, prepared at open.
const (
	// The next receipt number and the printer setting, in one step.
	sqlNextNumber = `SELECT (SELECT coalesce(max(number), 0) + 1 FROM sales), coalesce((SELECT value FROM settings WHERE key = 'printer'), 'none')`
	// sqlSaleStart reads in one statement what a sale needs before it
	// writes: the operator's open shift ('' if none), the next number, the
	// printer, and the end of the event log its event chains to.
	sqlSaleStart = `SELECT coalesce((SELECT id FROM shifts WHERE operator_id = ? AND closed_at IS NULL), ''),
		(SELECT coalesce(max(number), 0) + 1 FROM sales), coalesce((SELECT value FROM settings WHERE key = 'printer'), 'none'),
		coalesce((SELECT seq FROM events ORDER BY seq DESC LIMIT 1), 0), coalesce((SELECT hash FROM events ORDER BY seq DESC LIMIT 1), '')`
	sqlMpesaUsed  = `SELECT coalesce(s.number, 0) FROM mpesa_codes m LEFT JOIN sales s ON s.id = m.sale_id WHERE m.code = ?`
	sqlMpesaFeed  = `SELECT terminal, at FROM feed_mpesa_codes WHERE code = ?`
	sqlInsertSale = `INSERT INTO sales (id, number, kind, shift_id, operator_id, at, state, site, vehicle, catalogue_version, event_seq, refund_of)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlInsertMpesa    = `INSERT INTO mpesa_codes (code, sale_id, settlement_id, amount) VALUES (?, ?, ?, ?)`
	sqlPrinterSetting = `SELECT value FROM settings WHERE key = 'printer'`
	sqlInsertPrintJob = `INSERT INTO print_jobs (sale_id, kind, copy, created_at) VALUES (?, ?, ?, ?)`
	// The first sale of its hour marks where that hour starts (sale_hours,
	// 0009_history.sql); any other writes nothing.
	sqlSaleHour = `INSERT INTO sale_hours (hour, first) VALUES (?, ?) ON CONFLICT (hour) DO NOTHING`
)

// Sell prices, tenders and records one sale in a single transaction: the
// sale, its tenders, its pass, its print job and its event commit together,
// before anything is printed or shown.
func (db *DB) Sell(ctx context.Context, op *terminal.Operator, req terminal.SaleRequest, passes terminal.PassIssuer) (*terminal.SaleResult, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	plate, _ := terminal.NormalizePlate(req.Vehicle)
	if err := terminal.CheckApproved(req.Tenders); err != nil {
		return nil, err
	}
	cat, err := db.Catalogue(ctx)
	if err != nil {
		return nil, err
	}
	id, err := db.Identity(ctx)
	if err != nil {
		return nil, err
	}
	res := &terminal.SaleResult{}
	err = db.record(ctx, "this sale", func(tx *Tx) error {
		var shiftID, printer string
		var number int64
		var last chainEnd
		if err := tx.QueryRowContext(ctx, sqlSaleStart, op.ID).Scan(&shiftID, &number, &printer, &last.seq, &last.hash); err != nil {
			return fmt.Errorf("open shift: %w", err)
		}
		tx.last = &last
		if shiftID == "" {
			return terminal.Errorf(terminal.ECONFLICT, "%s has no open shift: open a shift before selling", op.Name).WithID("no_shift", map[string]any{"Name": op.Name})
		}
		priced, err := cat.Price(tx.now, id.Site, req.Lines)
		if err != nil {
			return err
		}
		if err := req.CheckQuoted(priced.Totals); err != nil {
			return err
		}
		tendering, err := terminal.ApplyTenders(cat, priced.Totals, req.Tenders)
		if err != nil {
			return err
		}
		if o := req.Override; o != nil {
			// The override names a supervisor of this terminal, not
			// whoever the caller says.
			sup, _, err := tx.operatorNamed(ctx, o.By)
			if terminal.ErrorKind(err) == terminal.ENOTFOUND || (err == nil && (sup.Role != terminal.RoleSupervisor || !sup.DisabledAt.IsZero())) {
				return terminal.Errorf(terminal.EUNAUTHORIZED, "the override names %s, who is not a supervisor here", o.By)
			}
			if err != nil {
				return err
			}
		}
		if tendering.State == terminal.SaleDeferred {
			if s, _ := cat.Site(id.Site); s.Kind != "park" {
				return terminal.Errorf(terminal.EINVALID, "payment can be deferred only at a park gate, where the pass is settled at exit")
			}
		}
		owed, err := terminal.ResolveOwed(cat, tendering.State, req.OwedBy, req.Phone)
		if err != nil {
			return err
		}
		if err := tx.checkTendersUnused(ctx, tendering.Tenders); err != nil {
			return err
		}
		if err := tx.stampPaybill(ctx, tendering.Tenders); err != nil {
			return err
		}
		saleID, err := newSaleID(tx.now)
		if err != nil {
			return err
		}
		s := &terminal.Sale{
			ID: saleID, Kind: "sale", Terminal: id.TerminalID, Site: id.Site, ShiftID: shiftID, Operator: op.Name,
			At: tx.now, State: tendering.State, Vehicle: plate, CatalogueVersion: cat.Version, Season: priced.Season,
			Lines: priced.Lines, Totals: priced.Totals, Tenders: tendering.Tenders, Conversions: tendering.Conversions,
			Due: tendering.Due, Override: req.Override, Owed: owed,
		}
		if s.Tenders == nil {
			s.Tenders = []terminal.Tender{}
		}
		s.Number = number
		if passes != nil {
			for _, l := range s.Lines {
				if l.Kind == "vehicle" && s.Vehicle == "" {
					return terminal.Errorf(terminal.EINVALID, "enter the vehicle plate: the pass names the vehicle it admits")
				}
			}
			if s.Pass, err = passes.IssuePass(ctx, s, cat); err != nil {
				return passError(err)
			}
		}
		tx.dictTag = saleDictTag(cat, passes, shiftID)
		ev, err := tx.appendEvent(ctx, op.Name, terminal.SaleCreated{Sale: *s})
		if err != nil {
			return err
		}
		if err := tx.insertSale(ctx, s, op.ID, ev.Seq); err != nil {
			return err
		}
		if res.PrintJob, err = tx.queuePrintOn(ctx, printer, s.ID, printKind(s), false); err != nil {
			return err
		}
		if err := runAfterSale(ctx, tx, s); err != nil { // a prepaid ticket let in with it (tickets.go)
			return err
		}
		res.Sale = s
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// saleDictTag says what shapes a sale's document, for its payload's
// dictionary (payload.go): the catalogue version (its items' names and
// codes), the pass key (the certificate a pass carries, or none) and the
// shift (its id, its operator, its day are in every sale of it).
func saleDictTag(cat *terminal.Catalogue, passes terminal.PassIssuer, shiftID string) string {
	key := "no pass"
	switch p := passes.(type) {
	case nil:
	case passIssuer:
		key = "pass " + p.iss.Certificate().KeyID().String()
		if p.compact {
			key += " compact"
		}
	default:
		key = fmt.Sprintf("pass %T", p)
	}
	return cat.Version + ", " + key + ", shift " + shiftID
}

// passError says why a pass could not be issued. Sale validation and the
// catalogue's checks refuse, with their own messages, whatever a pass
// cannot carry; this is the last guard, so that a limit they miss is still
// an input the attendant can change (EINVALID), not an internal error.
func passError(err error) error {
	if !errors.Is(err, pass.ErrInvalid) {
		return err
	}
	return &terminal.Error{Kind: terminal.EINVALID, Err: err,
		Message: "the gate pass cannot be issued for this sale: " + strings.TrimPrefix(err.Error(), pass.ErrInvalid.Error()+": ")}
}

func printKind(s *terminal.Sale) string {
	if s.Pass != "" {
		return "pass"
	}
	return "receipt"
}

func (tx *Tx) checkMpesaUnused(ctx context.Context, code string) error {
	var lane, at string
	switch err := tx.QueryRowContext(ctx, sqlMpesaFeed, code).Scan(&lane, &at); {
	case err == nil:
		when := tx.db.SiteTime(parseTS(at), "2006-01-02 15:04")
		return terminal.Errorf(terminal.ECONFLICT, "M-PESA code %s was already used at %s (%s)", code, lane, when).
			WithID("mpesa_used_elsewhere", map[string]any{"Code": code, "Terminal": lane, "At": when})
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("check M-PESA code: %w", err)
	}
	var n int64
	err := tx.QueryRowContext(ctx, sqlMpesaUsed, code).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check M-PESA code: %w", err)
	}
	if n == 0 {
		return terminal.Errorf(terminal.ECONFLICT, "M-PESA code %s was already used to settle a pass", code)
	}
	return terminal.Errorf(terminal.ECONFLICT, "M-PESA code %s was already used on sale %d", code, n).WithID("mpesa_used", map[string]any{"Code": code, "N": n})
}

// insertSale stores a sale's row and its tenders. The sale itself (as
// JSON) is the payload of its event, at seq.
func (tx *Tx) insertSale(ctx context.Context, s *terminal.Sale, opID string, seq int64) error {
	var refundOf any
	if s.RefundOf != "" {
		refundOf = s.RefundOf
	}
	if _, err := tx.ExecContext(ctx, sqlInsertSale,
		s.ID, s.Number, s.Kind, s.ShiftID, opID, ts(s.At), s.State, s.Site, s.Vehicle, s.CatalogueVersion, seq, refundOf); err != nil {
		if sqlitefile.IsUnique(err) && s.RefundOf != "" {
			return terminal.Errorf(terminal.ECONFLICT, "that sale was already refunded")
		}
		return fmt.Errorf("insert sale: %w", err)
	}
	if err := tx.markSaleHour(ctx, s); err != nil {
		return err
	}
	if err := tx.useMpesaCodes(ctx, s.Operator, s.Tenders, s.ID, ""); err != nil {
		return err
	}
	return tx.useBankRefs(ctx, s.Operator, s.Tenders, s.ID, "")
}

// useMpesaCodes records the M-PESA codes that tenders pay with (refunds,
// negative, use none), refusing one already used, each with its mpesa.used
// event for the site feed.
func (tx *Tx) useMpesaCodes(ctx context.Context, actor string, ts []terminal.Tender, saleID, settlementID string) error {
	for _, t := range ts {
		if t.Kind != terminal.TenderMpesa || t.Amount <= 0 {
			continue
		}
		var sale, st any
		if saleID != "" {
			sale = saleID
		}
		if settlementID != "" {
			st = settlementID
		}
		if _, err := tx.ExecContext(ctx, sqlInsertMpesa, t.Reference, sale, st, t.Amount); err != nil {
			if sqlitefile.IsUnique(err) {
				return terminal.Errorf(terminal.ECONFLICT, "M-PESA code %s was already used", t.Reference)
			}
			return fmt.Errorf("record M-PESA code: %w", err)
		}
		used := terminal.MpesaUsed{Code: t.Reference, Currency: t.Currency, Amount: t.Net(), SaleID: saleID, SettlementID: settlementID}
		if _, err := tx.appendEvent(ctx, actor, used); err != nil {
			return err
		}
	}
	return nil
}

// queuePrint stores a print job in tx, unless the printer is "none".
func (tx *Tx) queuePrint(ctx context.Context, saleID, kind string, copy bool) (string, error) {
	var printer string
	err := tx.QueryRowContext(ctx, sqlPrinterSetting).Scan(&printer)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	return tx.queuePrintOn(ctx, printer, saleID, kind, copy)
}

// queuePrintOn queues a job given the printer setting already read.
func (tx *Tx) queuePrintOn(ctx context.Context, printer, saleID, kind string, copy bool) (string, error) {
	if printer == "" || printer == "none" {
		return "", nil
	}
	var sid any
	if saleID != "" {
		sid = saleID
	}
	r, err := tx.ExecContext(ctx, sqlInsertPrintJob, sid, kind, copy, ts(tx.now))
	if err != nil {
		return "", fmt.Errorf("queue print: %w", err)
	}
	id, err := r.LastInsertId()
	if err != nil {
		return "", fmt.Errorf("queue print: %w", err)
	}
	return strconv.FormatInt(id, 10), nil
}

// saleCols and saleFrom read a sale: its document from its event (a refund's
// event carries it under "refund"), its state and void from its row. The
// payload is read as stored and decoded in Go (scanSale).
const (
	saleCols = `s.kind, e.payload, s.state, s.void`
	saleFrom = ` FROM sales s JOIN events e ON e.seq = s.event_seq`
)

// scanSale reads a sale's columns (saleCols), after any columns of its
// own in extra.
func (db *DB) scanSale(row interface{ Scan(...any) error }, extra ...any) (*terminal.Sale, error) {
	var kind, state string
	var stored []byte
	var void sql.NullString
	if err := row.Scan(append(extra, &kind, &stored, &state, &void)...); err != nil {
		return nil, err
	}
	s, err := db.saleDoc(kind, stored)
	if err != nil {
		return nil, err
	}
	s.State = terminal.SaleState(state)
	if void.Valid {
		s.Void = new(terminal.Void)
		if err := json.Unmarshal([]byte(void.String), s.Void); err != nil {
			return nil, fmt.Errorf("sale void: %w", err)
		}
	}
	return s, nil
}

// saleDoc is the sale document of a stored event payload: the sale's own
// (sale.created), or a refund's (sale.refunded, under "refund").
func (db *DB) saleDoc(kind string, stored []byte) (*terminal.Sale, error) {
	doc, err := db.decodePayload(stored)
	if err != nil {
		return nil, fmt.Errorf("sale document: %w", err)
	}
	var s terminal.Sale
	if kind == "refund" {
		var p struct {
			Refund *terminal.Sale `json:"refund"`
		}
		p.Refund = &s
		err = json.Unmarshal(doc, &p)
	} else {
		err = json.Unmarshal(doc, &s)
	}
	if err != nil {
		return nil, fmt.Errorf("sale document: %w", err)
	}
	return &s, nil
}

// Sale returns a sale by id.
func (db *DB) Sale(ctx context.Context, id string) (*terminal.Sale, error) {
	s, err := db.scanSale(db.db.QueryRowContext(ctx, `SELECT `+saleCols+saleFrom+` WHERE s.id = ?`, strings.ToLower(strings.TrimSpace(id))))
	if errors.Is(err, sql.ErrNoRows) {
		return db.archivedSale(ctx, strings.ToLower(strings.TrimSpace(id)))
	}
	return s, err
}

// archivedSale reads a sale whose event was archived: its document from
// the archive file (read through: a reprint of a sale older than the
// retention costs a file's read), its state and void from its row.
func (db *DB) archivedSale(ctx context.Context, id string) (*terminal.Sale, error) {
	var n, seq int64
	var kind, state string
	var void sql.NullString
	err := db.db.QueryRowContext(ctx, `SELECT number, event_seq, kind, state, void FROM sales WHERE id = ?`, id).Scan(&n, &seq, &kind, &state, &void)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, terminal.Errorf(terminal.ENOTFOUND, "no sale %q in this terminal", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sale %s: %w", id, err)
	}
	evs, err := db.Events(ctx, seq-1, 1)
	if err != nil {
		return nil, fmt.Errorf("sale %d from the archive: %w", n, err)
	}
	if len(evs) != 1 || evs[0].Seq != seq {
		return nil, terminal.Errorf(terminal.ENOTFOUND, "sale %d: its event %d is neither in the store nor in the archive folder", n, seq)
	}
	return db.scanSale(archivedRow{kind, evs[0].Payload, state, void})
}

// archivedRow is a sale's columns (saleCols) put together from its row
// and its archived event.
type archivedRow struct {
	kind    string
	payload []byte
	state   string
	void    sql.NullString
}

func (r archivedRow) Scan(dst ...any) error {
	*dst[0].(*string), *dst[1].(*[]byte), *dst[2].(*string), *dst[3].(*sql.NullString) = r.kind, r.payload, r.state, r.void
	return nil
}

// SaleIDByNumber returns the id of the sale or refund numbered n on this
// terminal (the number every screen and slip shows).
func (db *DB) SaleIDByNumber(ctx context.Context, n int64) (string, error) {
	var id string
	err := db.db.QueryRowContext(ctx, `SELECT id FROM sales WHERE number = ?`, n).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", terminal.Errorf(terminal.ENOTFOUND, "no sale number %d on this terminal", n)
	}
	if err != nil {
		return "", fmt.Errorf("sale %d: %w", n, err)
	}
	return id, nil
}

// saleHour is the sale_hours bucket of t: its UTC hour, as ts writes it.
func saleHour(t time.Time) string { return ts(t)[:13] }

// markSaleHour writes s's hour to sale_hours if s is the first sale of it.
// Once a sale of this process has committed its hour's row, the later
// sales of that hour skip the statement: it could only do nothing.
func (tx *Tx) markSaleHour(ctx context.Context, s *terminal.Sale) error {
	h := saleHour(s.At)
	tx.db.mu.Lock()
	known := tx.db.hour == h
	tx.db.mu.Unlock()
	if known {
		return nil
	}
	if _, err := tx.ExecContext(ctx, sqlSaleHour, h, s.Number); err != nil {
		return fmt.Errorf("sale hour: %w", err)
	}
	tx.hour = h
	return nil
}

// Sales returns the sales made at or after since, oldest first.
func (db *DB) Sales(ctx context.Context, since time.Time) ([]*terminal.Sale, error) {
	out := []*terminal.Sale{}
	err := db.EachSale(ctx, terminal.SaleQuery{Since: since}, func(s *terminal.Sale) error {
		out = append(out, s)
		return nil
	})
	return out, err
}

// EachSale calls fn with each sale q selects, oldest (lowest number) first,
// as it reads them: memory does not grow with the number of sales. With
// Since, it reads from the first sale of Since's hour (sale_hours), not
// from the first sale ever made. fn runs while the store's read is open:
// it must not call the store.
func (db *DB) EachSale(ctx context.Context, q terminal.SaleQuery, fn func(*terminal.Sale) error) error {
	from := int64(0)
	if !q.Since.IsZero() {
		if err := db.db.QueryRowContext(ctx, `SELECT coalesce((SELECT min(first) FROM sale_hours WHERE hour >= ?), (SELECT coalesce(max(number), 0) + 1 FROM sales))`,
			saleHour(q.Since)).Scan(&from); err != nil {
			return fmt.Errorf("sales: %w", err)
		}
	}
	until := "9999"
	if !q.Until.IsZero() {
		until = ts(q.Until)
	}
	limit := int64(-1)
	if q.Limit > 0 {
		limit = int64(q.Limit)
	}
	rows, err := db.db.QueryContext(ctx, `SELECT `+saleCols+saleFrom+` WHERE s.number >= ? AND s.at >= ? AND s.at < ? ORDER BY s.number LIMIT ?`,
		from, ts(q.Since), until, limit)
	if err != nil {
		return fmt.Errorf("sales: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		s, err := db.scanSale(rows)
		if err != nil {
			return err
		}
		if err := fn(s); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Void voids a sale of an open shift (a supervisor, with a reason), revoking
// its pass. A sale of a closed shift is refunded instead.
func (db *DB) Void(ctx context.Context, sup *terminal.Operator, saleID, reason string) (*terminal.Sale, error) {
	if sup == nil || sup.Role != terminal.RoleSupervisor {
		return nil, terminal.Errorf(terminal.EUNAUTHORIZED, "only a supervisor can void a sale")
	}
	r, err := terminal.ValidateReason(reason)
	if err != nil {
		return nil, err
	}
	var out *terminal.Sale
	err = db.record(ctx, "this void", func(tx *Tx) error {
		s, err := tx.db.scanSale(tx.QueryRowContext(ctx, `SELECT `+saleCols+saleFrom+` WHERE s.id = ?`, strings.ToLower(strings.TrimSpace(saleID))))
		if errors.Is(err, sql.ErrNoRows) {
			return terminal.Errorf(terminal.ENOTFOUND, "no sale %q in this terminal", saleID)
		}
		if err != nil {
			return err
		}
		var closed sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT closed_at FROM shifts WHERE id = ?`, s.ShiftID).Scan(&closed); err != nil {
			return err
		}
		if err := s.CanVoid(closed.Valid); err != nil {
			return err
		}
		s.State = terminal.SaleVoided
		s.Void = &terminal.Void{By: sup.Name, Reason: r, At: tx.now}
		vj, _ := json.Marshal(s.Void)
		if _, err := tx.ExecContext(ctx, `UPDATE sales SET state = ?, void = ? WHERE id = ?`, s.State, string(vj), s.ID); err != nil {
			return fmt.Errorf("void: %w", err)
		}
		ev := terminal.SaleVoid{SaleID: s.ID, Number: s.Number, Reason: r}
		if s.Pass != "" {
			// The pass id is the sale id: revoke it here at once; the hub
			// spreads the revocation to the other terminals.
			if err := tx.mark(ctx, s.ID, "revoked", r); err != nil {
				return err
			}
			ev.PassID = s.ID
		}
		if _, err := tx.appendEvent(ctx, sup.Name, ev); err != nil {
			return err
		}
		out = s
		return nil
	})
	return out, err
}

// Refund records a reversing sale for a paid or settled sale: negative lines
// and totals, tenders mirrored negative, in the supervisor's open shift. The
// original is never edited.
func (db *DB) Refund(ctx context.Context, sup *terminal.Operator, saleID, reason string) (*terminal.Sale, error) {
	if sup == nil || sup.Role != terminal.RoleSupervisor {
		return nil, terminal.Errorf(terminal.EUNAUTHORIZED, "only a supervisor can refund a sale")
	}
	r, err := terminal.ValidateReason(reason)
	if err != nil {
		return nil, err
	}
	var out *terminal.Sale
	err = db.record(ctx, "this refund", func(tx *Tx) error {
		orig, err := tx.db.scanSale(tx.QueryRowContext(ctx, `SELECT `+saleCols+saleFrom+` WHERE s.id = ?`, strings.ToLower(strings.TrimSpace(saleID))))
		if errors.Is(err, sql.ErrNoRows) {
			return terminal.Errorf(terminal.ENOTFOUND, "no sale %q in this terminal", saleID)
		}
		if err != nil {
			return err
		}
		sh, err := tx.openShift(ctx, sup.ID)
		if err != nil {
			return err
		}
		rf, err := orig.Reversal(newID(), "", sup.Name, tx.now)
		if err != nil {
			return err
		}
		if sh == nil {
			return terminal.Errorf(terminal.ECONFLICT, "%s has no open shift: open one to pay the refund from", sup.Name)
		}
		rf.ShiftID = sh.ID
		if err := tx.QueryRowContext(ctx, sqlNextNumber).Scan(&rf.Number, new(string)); err != nil { // a refund prints nothing
			return err
		}
		ev, err := tx.appendEvent(ctx, sup.Name, terminal.SaleRefunded{Refund: *rf, Reason: r})
		if err != nil {
			return err
		}
		if err := tx.insertSale(ctx, rf, sup.ID, ev.Seq); err != nil {
			return err
		}
		out = rf
		return nil
	})
	return out, err
}
