package hubtest

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/terminal"
)

// CraftedSales are sale.created payloads of site made to find where a
// decoder of the sale's few fields could part from json.Unmarshal into
// terminal.Sale, which the report's rescan uses: keys that match a field
// only by case, through an escape or a letter that folds; keys given
// twice; values of the wrong type deep in fields the report does not
// read; numbers a field cannot hold; bad times; syntax errors where only
// a full parse sees them. Each is a variation of one real paid sale (the
// first, unchanged); ids are fresh at each call.
func CraftedSales(site string, newID func() string) []string {
	at := time.Date(2024, 1, 3, 7, 0, 0, 0, time.UTC)
	base := func() terminal.Sale {
		return terminal.Sale{ID: newID(), Number: 7, Kind: "sale", Terminal: "t", Site: site, ShiftID: "shift", Operator: "op", At: at, State: terminal.SalePaid,
			CatalogueVersion: "2024-01", Lines: []terminal.Line{{Code: "ADULT", Name: "Adult", Kind: "entry", Qty: 2, Currency: "KES", Unit: 50000, Total: 100000}},
			Totals: terminal.Totals{"KES": 100000}, Tenders: []terminal.Tender{{Kind: terminal.TenderCash, Currency: "KES", Amount: 110000, Change: 10000}},
			Void: &terminal.Void{By: "sup", Reason: "x", At: at}, Owed: &terminal.Owed{Name: "n"}}
	}
	enc := func(s terminal.Sale) string {
		b, err := json.Marshal(s)
		if err != nil {
			panic(err)
		}
		return string(b)
	}
	// edit makes a payload of a fresh base sale with old replaced by new
	// (once; old must be in it).
	edit := func(old, new string) string {
		p := enc(base())
		if !strings.Contains(p, old) {
			panic("crafted sale: no " + old + " in " + p)
		}
		return strings.Replace(p, old, new, 1)
	}
	// prefix puts members before the sale's own.
	prefix := func(members string) string { return "{" + members + "," + enc(base())[1:] }
	mpesa := base()
	mpesa.Tenders = []terminal.Tender{{Kind: terminal.TenderMpesa, Currency: "KES", Amount: 100000, Reference: "QCR1234567", Paybill: "222222"}}
	deferred := base()
	deferred.State, deferred.Tenders, deferred.Due, deferred.Void = terminal.SaleDeferred, []terminal.Tender{{Kind: terminal.TenderDefer, Currency: "KES", Amount: 100000}}, terminal.Totals{"KES": 100000}, nil
	return []string{
		enc(base()),
		enc(mpesa),
		enc(deferred),
		// Keys json.Unmarshal matches to a field by other spellings.
		prefix(`"ID":"` + newID() + `"`),
		edit(`"id":`, `"Id":"`+newID()+`","id":`),
		edit(`"id":`, `"\u0069d":"`+newID()+`","id":`),
		edit(`"state":"paid"`, `"state":"paid","STATE":"deferred"`),
		edit(`"state":"paid"`, `"state":"paid","ſtate":"deferred"`), // U+017F folds to s
		edit(`"amount":110000`, `"amount":110000,"Amount":5`),
		edit(`"amount":110000`, `"amount":110000,"amount":7`),
		// Keys given twice.
		edit(`"id":`, `"id":"`+newID()+`","id":`),
		edit(`"tenders":`, `"tenders":[{"kind":"card","currency":"KES","amount":3}],"tenders":`),
		edit(`"state":"paid"`, `"state":"deferred","state":"paid"`),
		edit(`"state":"paid"`, `"state":"paid","state":"voided"`),
		// Escapes and bytes in the fields read.
		edit(`"state":"paid"`, `"state":"p\u0061id"`),
		edit(`"state":"paid"`, `"state":"paid\u0000"`),
		edit(`"kind":"cash"`, `"kind":"c\u0061sh"`),
		edit(`"site":"`+site+`"`, `"site":"`+site+`","id":"é`+newID()[2:]+`"`),
		edit(`"id":"`, "\"id\":\"\xff"),
		edit(`"id":"`, `"id":null,"x":"`),
		edit(`"tenders":`, `"tenders":null,"x":`),
		// Wrong types where the report reads nothing.
		edit(`"qty":2`, `"qty":"2"`),
		edit(`"qty":2`, `"qty":2.5`),
		edit(`"qty":2`, `"qty":2e1`),
		edit(`"qty":2`, `"qty":-0`),
		edit(`"qty":2`, `"qty":9223372036854775808`),
		edit(`"number":7`, `"number":9223372036854775807`),
		edit(`"number":7`, `"number":-9223372036854775809`),
		edit(`"number":7`, `"number":true`),
		edit(`"totals":{"KES":100000}`, `"totals":{"KES":"100000"}`),
		edit(`"totals":{"KES":100000}`, `"totals":[100000]`),
		edit(`"totals":{"KES":100000}`, `"totals":{"K\u0045S":100000,"":1}`),
		edit(`"lines":`, `"lines":{},"x":`),
		edit(`"lines":`, `"lines":null,"x":`),
		edit(`"void":{`, `"void":null,"y":{`),
		edit(`"void":{`, `"void":[],"y":{`),
		edit(`"owed":{`, `"owed":"n","y":{`),
		edit(`"tenders":`, `"tenders":{"kind":"cash"},"x":`),
		edit(`"kind":"cash"`, `"kind":7`),
		edit(`"amount":110000`, `"amount":"110000"`),
		edit(`"amount":110000`, `"amount":110000.0`),
		edit(`"amount":110000`, `"amount":null`),
		// Times.
		edit(`"at":"2024-01-03T07:00:00Z"`, `"at":"yesterday"`),
		edit(`"at":"2024-01-03T07:00:00Z"`, `"at":null`),
		edit(`"at":"2024-01-03T07:00:00Z"`, `"at":20240103`),
		edit(`"at":"2024-01-03T07:00:00Z"`, `"at":"2024-01-03T07:00:00+24:00"`),
		edit(`"at":"2024-01-03T07:00:00Z","st`, `"at":"2024-01-03 07:00:00Z","st`),
		// Syntax only a full parse sees.
		edit(`"operator":"op"`, `"operator":"op","note":{"a":[1,2,{"b":tru}]}`),
		edit(`"operator":"op"`, `"operator":"op","note":"\x"`),
		edit(`"operator":"op"`, `"operator":"op","note":"a`+"\t"+`b"`),
		edit(`"operator":"op"`, `"operator":"op","note":01`),
		edit(`"operator":"op"`, `"operator":"op","note":1.`),
		edit(`"operator":"op"`, `"operator":"op","note":-`),
		edit(`"operator":"op"`, `"operator":"op","note":"\u12"`),
		edit(`"operator":"op"`, `"operator":"op","note":[1,]`),
		edit(`"operator":"op"`, `"operator":"op",`),
		edit(`"operator":"op"`, `"operator" "op"`),
		edit(`"operator":"op"`, `"operator":"op","note":`+strings.Repeat("[", 200)+strings.Repeat("]", 200)),
		edit(`"operator":"op"`, `"operator":"op","note":"\ud800 é \u00e9 \/"`),
		edit(`"operator":"op"`, `"operator":"op" , "note" : { } `),
		enc(base()) + " \n",
		enc(base()) + "x",
		enc(base()) + "{}",
		strings.TrimSuffix(enc(base()), "}"),
		"{}",
		`{"id":"` + newID() + `"}`,
		"null",
		"[]",
		`{"id":` + strings.Repeat(" ", 3) + `"` + newID() + `"` + "\t}",
	}
}

// emitRaw appends an event whose payload is raw as it is (emit encodes
// its payload, which would refuse or compact a crafted one).
func (l *lane) emitRaw(typ, raw string) {
	l.seq++
	l.clock = l.clock.Add(time.Minute)
	e := terminal.Event{Seq: l.seq, ID: uuid.Must(uuid.NewV7()).String(), Terminal: l.term.ID, Type: typ, At: l.clock, Actor: "admin", Payload: json.RawMessage(raw), PrevHash: l.prev}
	e.Hash = e.ComputeHash()
	l.prev = e.Hash
	l.pending = append(l.pending, e)
}

// reportCraftedSales: the crafted sales (CraftedSales) applied, each id
// they hold let in at another site (a forbidden_reference when a sale
// has that id), every other one at the sale's site too: the report from the state
// kept at ingest is the rescan's, byte for byte, so the state decoded
// each sale as json.Unmarshal does (which it took, its id, state and
// tenders).
func reportCraftedSales(t *testing.T, s hub.Store) {
	g1 := newLane(t, s, "NNP", "gate-1", t0)
	amb := newLane(t, s, "AMB", "gate-1", t0.Add(29*time.Second))
	uuidRE := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	crafted := CraftedSales("NNP", uuid.NewString)
	// AMB lets in every id first, as a lane that has not heard of the
	// sales (a use of another site's pass the hub holds is refused).
	for _, p := range crafted {
		for _, id := range uuidRE.FindAllString(p, -1) {
			amb.use(id)
		}
	}
	amb.upload(5)
	applied := 0
	for i, p := range crafted {
		// Apply refuses some (an id that is not a UUID where the hub
		// reads it): each alone, and the refused left out of the chain.
		seq, prev := g1.seq, g1.prev
		g1.emitRaw(terminal.EventSaleCreated, p)
		if _, err := s.Apply(context.Background(), g1.term.ID, g1.pending, g1.clock); err != nil {
			g1.seq, g1.prev, g1.pending = seq, prev, nil
			continue
		}
		g1.pending = nil
		applied++
		for j, id := range uuidRE.FindAllString(p, -1) {
			if (i+j)%2 == 0 {
				g1.use(id)
			}
		}
	}
	if applied < 40 {
		t.Fatalf("the store applied %d crafted sales; want most", applied)
	}
	g1.upload(7)
	r := stateAsRescan(t, s)
	if len(r.Takings) == 0 || len(r.Conflicts) == 0 || len(r.Unsettled) == 0 {
		t.Errorf("takings %d, conflicts %d, unsettled %d; want some of each", len(r.Takings), len(r.Conflicts), len(r.Unsettled))
	}
}
