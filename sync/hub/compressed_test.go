package hub_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/lango-pos/lango/terminal"
)

// TestDrainSendsTheBytesHashed: a terminal stores its event payloads
// compressed (terminal/sqlite payload.go); what it uploads are the bytes
// each event's hash covers, which the hub checks at ingest (it would
// refuse anything else as a broken chain): the hub holds every event once,
// as JSON, and the sale documents there are the sales the terminal made.
func TestDrainSendsTheBytesHashed(t *testing.T) {
	c := &clock{}
	h := newHub(t, c)
	te := newTerm(t, h, "gate-1", 0)
	sold := map[string]*terminal.Sale{}
	for i := range 30 {
		s := te.sell([]string{"cash", "mpesa", "defer"}[i%3])
		sold[s.ID] = s
	}
	var compressed int
	if err := te.db.SQL().QueryRow(`SELECT count(*) FROM events WHERE substr(payload, 1, 1) = x'01'`).Scan(&compressed); err != nil {
		t.Fatal(err)
	}
	if compressed < len(sold) {
		t.Fatalf("%d events stored compressed; want at least the %d sales", compressed, len(sold))
	}
	syncAll(t, te)
	checkExactlyOnce(t, h, te)
	got, err := h.Store().TerminalEvents(context.Background(), te.id, 0, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, e := range got {
		if len(e.Payload) == 0 || e.Payload[0] != '{' {
			t.Fatalf("hub event %d: payload %.20q; want the JSON document", e.Seq, e.Payload)
		}
		if e.Type != terminal.EventSaleCreated {
			continue
		}
		var p terminal.SaleCreated
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			t.Fatalf("hub event %d: %v", e.Seq, err)
		}
		want := sold[p.Sale.ID]
		if want == nil || p.Sale.Pass != want.Pass || p.Sale.Totals["KES"] != want.Totals["KES"] {
			t.Fatalf("hub event %d: sale %s is not one the terminal made as it made it", e.Seq, p.Sale.ID)
		}
		found++
	}
	if found != len(sold) {
		t.Errorf("the hub holds %d sale documents; the terminal made %d", found, len(sold))
	}
}
