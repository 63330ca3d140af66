package postgres_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lango-pos/lango/internal/sqlitefile"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/hub/mpesa"
	"github.com/lango-pos/lango/sync/hub/sqlite"
	"github.com/lango-pos/lango/terminal"
)

// notCompared are the embedded hub's tables the copy does not carry row
// for row, and why; every other table must come across equal.
var notCompared = map[string]string{
	"schema_migrations": "each store's own migrations",
}

// compareAs says how a table of both stores is read for the comparison
// when not every column of the embedded one is in PostgreSQL as it is: a
// query for each store giving the same rows.
var compareAs = map[string][2]string{
	// An embedded event's key k is its terminal's number and its seq.
	"events": {`SELECT k >> 40, k & 1099511627775, id, type, at, actor, lower(hex(payload)), prev_hash, hash, received_at FROM events`,
		`SELECT terminal, seq, id::text, type, at, actor, encode(payload, 'hex'), prev_hash, hash, received_at FROM events`},
	"quarantine": {`SELECT k >> 40, k & 1099511627775, type, reason FROM quarantine`, `SELECT terminal, seq, type, reason FROM quarantine`},
	"records":    {`SELECT lower(hex(id)), kind, terminal FROM records`, `SELECT replace(id::text, '-', ''), kind, terminal FROM records`},
	// PostgreSQL seals the private keys (TestDatabaseAloneHoldsNoUsableKey).
	"authorities": {`SELECT kid, site, created_at FROM authorities`, `SELECT kid, site, created_at FROM authorities`},
	"meta":        {`SELECT key, value FROM meta WHERE key IN ('hub_id', 'report_state')`, `SELECT key, value FROM meta WHERE key IN ('hub_id', 'report_state')`},
	// PostgreSQL keeps a terminal's certificate holds in one row (migration 0010).
	"cert_holds": {`SELECT terminal_id, key_id FROM cert_holds`, `SELECT terminal_id, unnest(key_ids) FROM cert_hold_sets`},
	// Kept by triggers; PostgreSQL counts in shards.
	"forward_counts": {`SELECT state, kind, n FROM forward_counts WHERE n != 0`, `SELECT state, kind, sum(n)::bigint FROM forward_counts GROUP BY state, kind HAVING sum(n) != 0`},
	// Sums: a row that came to nothing in one store need not be in the other.
	"report_takings":      {`SELECT * FROM report_takings WHERE amount != 0 OR tenders != 0`, `SELECT * FROM report_takings WHERE amount != 0 OR tenders != 0`},
	"report_mpesa_totals": {`SELECT * FROM report_mpesa_totals WHERE codes != 0 OR recorded != 0 OR paid != 0`, `SELECT * FROM report_mpesa_totals WHERE codes != 0 OR recorded != 0 OR paid != 0`},
}

// TestCopyCarriesEveryTable: an embedded hub holding a row of every kind
// (every table of its schema, listed from the schema: a table added
// later without copy support fails here) is copied into PostgreSQL, and
// each table there holds what the embedded one does.
func TestCopyCarriesEveryTable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hub.db")
	es, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	fillEveryTable(t, es)
	es.Close()
	src, err := sql.Open("sqlite", sqlitefile.DSN(path, true))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	dst, _ := open(t)
	defer dst.Close()
	if _, err := dst.CopyFromSQLite(ctx, src); err != nil {
		t.Fatal(err)
	}
	pgRows := func(q string) []string {
		t.Helper()
		rows, err := dst.Pool().Query(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, rowText(vals))
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		slices.Sort(out)
		return out
	}

	tables := queryStrings(t, src, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	for _, table := range tables {
		if _, ok := notCompared[table]; ok {
			continue
		}
		q := [2]string{`SELECT * FROM ` + table, ""}
		if c, ok := compareAs[table]; ok {
			q = c
		} else {
			// The embedded table's columns, read from PostgreSQL as text
			// (bytea as hex, as the embedded blobs are read).
			cols := queryStrings(t, src, `SELECT name FROM pragma_table_info('`+table+`') ORDER BY cid`)
			types := map[string]string{}
			for _, ct := range pgRows(`SELECT column_name || ' ' || data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '` + table + `'`) {
				c, typ, _ := strings.Cut(ct, " ")
				types[c] = typ
			}
			var sc, pc []string
			for _, c := range cols {
				sc = append(sc, fmt.Sprintf(`CASE typeof(%s) WHEN 'blob' THEN lower(hex(%s)) ELSE CAST(%s AS TEXT) END`, c, c, c))
				switch types[c] {
				case "":
					t.Errorf("%s.%s: no such column in PostgreSQL", table, c)
					pc = append(pc, "NULL")
				case "bytea":
					pc = append(pc, fmt.Sprintf(`encode(%s, 'hex')`, c))
				case "boolean": // 0 or 1 in SQLite
					pc = append(pc, c+"::int::text")
				default:
					pc = append(pc, c+"::text")
				}
			}
			q = [2]string{`SELECT ` + strings.Join(sc, ", ") + ` FROM ` + table, `SELECT ` + strings.Join(pc, ", ") + ` FROM ` + table}
		}
		from, to := tableRows(t, src, q[0]), pgRows(q[1])
		if len(from) == 0 {
			t.Errorf("%s: the embedded hub holds no row: fillEveryTable must put one there", table)
			continue
		}
		if !slices.Equal(from, to) {
			t.Errorf("%s after the copy:\n%s\nthe embedded hub's:\n%s", table, strings.Join(to, "\n"), strings.Join(from, "\n"))
		}
	}
}

// fillEveryTable puts a row of every kind into s, through the store.
func fillEveryTable(t *testing.T, s hub.Store) {
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	must(s.AddAuthorityKey(ctx, hub.AuthorityKey{KeyID: "0000000a", Site: "NNP", Private: priv, CreatedAt: t0}))
	must(s.AddEnrollment(ctx, hub.Enrollment{TokenHash: "unused", Site: "NNP", Name: "gate-9", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	g1 := enroll(t, s, "gate-1")
	g2 := enroll(t, s, "gate-2")
	must(s.AddEnrollment(ctx, hub.Enrollment{TokenHash: "relay", Site: "NNP", Name: "relay-1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), Relay: true}))
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := s.RedeemEnrollment(ctx, "relay", hub.Terminal{ID: uuid.Must(uuid.NewV7()).String(), Site: "NNP", Name: "relay-1", PublicKey: pub, Certificate: "c"}, t0); err != nil {
		t.Fatal(err)
	}
	must(s.RevokeTerminal(ctx, "NNP", "gate-2", t0))
	must(s.SetCertificateHolds(ctx, g1.ID, []string{"0000000a"}))
	must(s.PublishCatalogue(ctx, hub.Catalogue{Site: "NNP", Seq: 1, Version: "2024-01", Body: []byte(`{}`), Signature: []byte{1, 2}, KeyID: "0000000a", PublishedAt: t0}))
	must(s.AddConflict(ctx, hub.Conflict{Kind: "hash_chain", Site: "NNP", Terminal: "gate-2", TerminalID: g2.ID, Seq: 1, Reason: "a break", At: t0}))

	// Events: sales by M-PESA and deferred, a pass used twice (a hot
	// group), a catalogue refusal, one quarantined.
	var events []terminal.Event
	prev := ""
	emit := func(typ string, p any) {
		raw, err := json.Marshal(p)
		must(err)
		e := terminal.Event{Seq: int64(len(events) + 1), ID: uuid.Must(uuid.NewV7()).String(), Terminal: g1.ID, Type: typ, At: t0.Add(time.Duration(len(events)) * time.Minute),
			Actor: "admin", Payload: raw, PrevHash: prev}
		e.Hash = e.ComputeHash()
		prev = e.Hash
		events = append(events, e)
	}
	sale := func(state terminal.SaleState, tender terminal.Tender) string {
		id := uuid.Must(uuid.NewV7()).String()
		emit(terminal.EventSaleCreated, terminal.Sale{ID: id, Number: int64(len(events) + 1), Kind: "sale", Terminal: g1.ID, Site: "NNP", At: t0, State: state,
			Totals: terminal.Totals{"KES": tender.Amount}, Due: map[bool]terminal.Totals{true: {"KES": tender.Amount}}[state == terminal.SaleDeferred], Tenders: []terminal.Tender{tender}})
		return id
	}
	sale(terminal.SalePaid, terminal.Tender{Kind: terminal.TenderMpesa, Currency: "KES", Amount: 50000, Reference: "QCOPY00001"})
	sale(terminal.SalePaid, terminal.Tender{Kind: terminal.TenderMpesa, Currency: "KES", Amount: 50000, Reference: "QCOPY00002"})
	owed := sale(terminal.SaleDeferred, terminal.Tender{Kind: terminal.TenderDefer, Currency: "KES", Amount: 30000})
	emit(terminal.EventPassUsed, terminal.PassUsed{PassID: owed})
	emit(terminal.EventPassUsed, terminal.PassUsed{PassID: owed})
	emit(terminal.EventCatalogueBad, terminal.CatalogueRefused{Seq: 2, Version: "2024-02", Reason: "unknown site"})
	emit("bench.event", map[string]string{"site": "NNP"})
	if _, err := s.Apply(ctx, g1.ID, events, t0, hub.EventFlag{Seq: int64(len(events)), Kind: hub.FlagQuarantine, Reason: "unknown type"}); err != nil {
		t.Fatal(err)
	}
	_, err := s.AddMpesaPayment(ctx, mpesa.Payment{Code: "QCOPY00001", Amount: 50000, ShortCode: "400200", At: t0, Source: "c2b"}, t0)
	must(err)
	must(s.AskedMpesa(ctx, "QCOPY00002", "conv-1", t0))
	must(s.SetMpesaPullCursor(ctx, "400200", t0))

	// The queue to the national platform: a bill posted, one pending, a
	// void, the cursor.
	body := json.RawMessage(`{"amount": 500}`)
	must(s.EnqueueForwards(ctx, hub.ForwardBatch{TerminalID: g1.ID, ThroughSeq: 3, At: t0,
		Bills: []hub.Forward{{Ref: "NNP-1", Kind: hub.ForwardBill, SaleKey: "NNP/1", Site: "NNP", Terminal: "gate-1", Seq: 1, At: t0, Body: body},
			{Ref: "NNP-2", Kind: hub.ForwardBill, SaleKey: "NNP/2", Site: "NNP", Terminal: "gate-1", Seq: 2, At: t0, Body: body}},
		Voids: []hub.ForwardVoid{{SaleKey: "NNP/2", Site: "NNP", Terminal: "gate-1", Seq: 3, Body: body, At: t0}}}))
	claimed, err := s.ClaimForwards(ctx, "copy-test", t0, time.Minute, 1)
	must(err)
	if len(claimed) != 1 {
		t.Fatalf("claimed %d forwards; want 1", len(claimed))
	}
	f := claimed[0]
	f.State, f.BillNumber = hub.ForwardPosted, "BILL-1"
	must(s.FinishForward(ctx, "copy-test", f, t0.Add(time.Second)))

	must(s.PutTickets(ctx, "NNP", "2024-01-03", "1", []hub.Ticket{{No: "ECT-1", ValidFrom: t0, ValidTo: t0.Add(12 * time.Hour),
		Party: json.RawMessage(`[{"category":"citizen","age_band":"adult","count":2}]`), Vehicle: json.RawMessage(`null`), Status: "valid"}}, 10, t0))
	must(s.RefuseTicketList(ctx, "NNP", "2024-01-04", "platform down", t0))
}

func queryStrings(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// tableRows reads q's rows, each as its values' text joined, sorted.
func tableRows(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, rowText(vals))
	}
	slices.Sort(out)
	return out
}

func rowText(vals []any) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case nil:
			parts[i] = "NULL"
		case []byte:
			parts[i] = string(x)
		default:
			parts[i] = fmt.Sprint(x)
		}
	}
	return strings.Join(parts, " | ")
}
