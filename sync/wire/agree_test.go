package wire_test

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
)

// TestWireEventAgreesWithTheDomain: the wire's event and the terminal's
// have the same fields under the same JSON names, hash alike, and the feed
// types are event types the terminal writes.
func TestWireEventAgreesWithTheDomain(t *testing.T) {
	wt, dt := reflect.TypeFor[wire.Event](), reflect.TypeFor[terminal.Event]()
	if wt.NumField() != dt.NumField() {
		t.Fatalf("wire.Event has %d fields, terminal.Event %d", wt.NumField(), dt.NumField())
	}
	for i := range wt.NumField() {
		if w, d := wt.Field(i), dt.Field(i); w.Name != d.Name || w.Type != d.Type || w.Tag.Get("json") != d.Tag.Get("json") {
			t.Errorf("field %d: wire %s %s %q, terminal %s %s %q", i, w.Name, w.Type, w.Tag.Get("json"), d.Name, d.Type, d.Tag.Get("json"))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"", "a", "sale.created", "ñ\x01\"\\", strings.Repeat("z", 300), "0190a000-0000-7000-8000-000000000001"}
	zones := []*time.Location{time.UTC, time.FixedZone("EAT", 3*3600), time.FixedZone("odd", -5*3600-1800)}
	for range 2000 {
		e := terminal.Event{Seq: r.Int64N(1 << 40), ID: words[r.IntN(len(words))], Terminal: words[r.IntN(len(words))], Type: words[r.IntN(len(words))],
			At: time.Unix(r.Int64N(1<<33), r.Int64N(1e9)).In(zones[r.IntN(len(zones))]), Actor: words[r.IntN(len(words))],
			Payload: json.RawMessage(`{"k":"` + words[r.IntN(2)] + `"}`), PrevHash: words[r.IntN(len(words))]}
		w := wire.Event(e)
		if got, want := w.ComputeHash(), e.ComputeHash(); got != want {
			t.Fatalf("%+v: wire hash %s, terminal hash %s", e, got, want)
		}
	}
	domain := []string{terminal.EventSaleVoided, terminal.EventPassSettled, terminal.EventPassUsed, terminal.EventOperatorAdded, terminal.EventOperatorPIN, terminal.EventOperatorOff, terminal.EventMpesaUsed, terminal.EventBankUsed, terminal.EventTicketRedeemed}
	if got := wire.FeedTypes(); !slices.Equal(got, domain) {
		t.Errorf("wire feed types %v; the terminal applies %v from the feed", got, domain)
	}
}
