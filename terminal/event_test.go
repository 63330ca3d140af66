package terminal

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The expected hashes were computed apart from this code, with Python's
// hashlib over the layout docs/SYNC-PROTOCOL.md gives ("Event hash"):
// "lango-event-v1", then each field as an 8-byte big-endian length and
// its bytes.
func TestComputeHashVectors(t *testing.T) {
	for _, c := range []struct {
		name string
		e    Event
		want string
	}{
		{"sale", Event{
			Seq: 41, ID: "01900000-0000-7000-8000-000000000001", Terminal: "01900000-0000-7000-8000-0000000000aa",
			Type: EventSaleCreated, At: time.Date(2024, 1, 3, 9, 14, 7, 123456789, time.FixedZone("EAT", 3*3600)),
			Actor: "wanjiru", Payload: json.RawMessage(`{"site":"NNP","total":{"amount":"1500.00"}}`),
			PrevHash: "abababababababababababababababababababababababababababababababab",
		}, "6e3af4b9d969a31e5e093354845436ef96d357ae20528c252e029a363cea5375"},
		{"first event, no actor", Event{
			Seq: 1, ID: "id", Terminal: "t", Type: EventTerminalInit, At: time.Date(2024, 1, 3, 3, 0, 0, 0, time.UTC), Payload: json.RawMessage(`{}`),
		}, "fe5b522f09eee58ca8506adf450e8c0b9fe8b62d74c1b4232f0d1acb50ead74e"},
	} {
		if got := c.e.ComputeHash(); got != c.want {
			t.Errorf("%s: hash %s, want %s", c.name, got, c.want)
		}
	}
}

func TestChainVerifier(t *testing.T) {
	a := Event{Seq: 1, ID: "a", Terminal: "t", Type: EventTerminalInit, At: time.Unix(0, 0), Payload: json.RawMessage(`{}`)}
	a.Hash = a.ComputeHash()
	b := Event{Seq: 2, ID: "b", Terminal: "t", Type: EventSaleCreated, At: time.Unix(1, 0), Payload: json.RawMessage(`{"x":1}`), PrevHash: a.Hash}
	b.Hash = b.ComputeHash()
	altered := b
	altered.Payload = json.RawMessage(`{"x":2}`)
	relinked := b
	relinked.PrevHash = b.Hash
	for _, c := range []struct {
		name   string
		events []Event
		reason string // "" when the chain holds
	}{
		{"holds", []Event{a, b}, ""},
		{"altered payload", []Event{a, altered}, "record altered: its hash does not match its content"},
		{"wrong link", []Event{a, relinked}, "previous-hash link does not match"},
		{"gap", []Event{b}, "sequence gap after 0"},
	} {
		var v ChainVerifier
		var got string
		for i := range c.events {
			if err := v.Next(&c.events[i]); err != nil {
				got = err.(*ChainError).Reason
				break
			}
		}
		if got != c.reason {
			t.Errorf("%s: %q, want %q", c.name, got, c.reason)
		}
	}
}

// Run: go test ./terminal -run '^$' -bench ComputeHash -benchmem
func BenchmarkComputeHash(b *testing.B) {
	payload := make([]byte, 1466) // a sale.created payload's size
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	e := Event{Seq: 41, ID: "01900000-0000-7000-8000-000000000001", Terminal: "01900000-0000-7000-8000-0000000000aa",
		Type: EventSaleCreated, At: time.Now(), Actor: "wanjiru", Payload: json.RawMessage(payload),
		PrevHash: "abababababababababababababababababababababababababababababababab"}
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		e.ComputeHash()
	}
}

func TestEventEqual(t *testing.T) {
	a := Event{Seq: 3, ID: "i", Terminal: "t", Type: EventSaleCreated, At: time.Date(2024, 1, 3, 9, 0, 0, 0, time.FixedZone("EAT", 3*3600)),
		Actor: "wanjiru", Payload: json.RawMessage(`{"a":1}`), PrevHash: "p", Hash: "h"}
	b := a
	b.At = a.At.UTC()                                      // the same instant, as the hub gives it back
	b.Payload = append(json.RawMessage(nil), a.Payload...) // another slice, same bytes
	if !a.Equal(&b) {
		t.Fatal("a copy is not Equal")
	}
	for name, change := range map[string]func(e *Event){
		"seq": func(e *Event) { e.Seq++ }, "id": func(e *Event) { e.ID = "j" }, "terminal": func(e *Event) { e.Terminal = "u" },
		"type": func(e *Event) { e.Type = EventSaleVoided }, "at": func(e *Event) { e.At = e.At.Add(time.Nanosecond) },
		"actor": func(e *Event) { e.Actor = "" }, "payload": func(e *Event) { e.Payload = json.RawMessage(`{"a": 1}`) },
		"prev_hash": func(e *Event) { e.PrevHash = "q" }, "hash": func(e *Event) { e.Hash = "g" },
	} {
		c := a
		change(&c)
		if a.Equal(&c) {
			t.Errorf("events differing in %s are Equal", name)
		}
	}
}

func TestErrorID(t *testing.T) {
	base := Errorf(EINVALID, "tender short of the total: KES 5.00 still due").WithID("tender_short", map[string]any{"Due": "KES 5.00"})
	wrapped := fmt.Errorf("sell: %w", base)
	id, args := ErrorID(wrapped)
	if id != "tender_short" || args["Due"] != "KES 5.00" || ErrorMessage(wrapped) != base.Message || ErrorKind(wrapped) != EINVALID {
		t.Errorf("ErrorID = %q %v; message %q", id, args, ErrorMessage(wrapped))
	}
	if id, _ := ErrorID(fmt.Errorf("plain")); id != "" {
		t.Errorf("a plain error has id %q", id)
	}
}

func TestDiffEvents(t *testing.T) {
	a := Event{Seq: 1, ID: "a", Payload: json.RawMessage(`{}`)}
	b := Event{Seq: 2, ID: "b", Payload: json.RawMessage(`{}`)}
	c := b
	c.Hash = "other"
	if err := DiffEvents([]Event{a, b}, []Event{a, b}); err != nil {
		t.Errorf("the same events: %v", err)
	}
	if err := DiffEvents([]Event{a}, []Event{a, b}); err == nil {
		t.Error("one event missing: no difference found")
	}
	if err := DiffEvents([]Event{a, c}, []Event{a, b}); err == nil || !strings.Contains(err.Error(), "event 1 differs") {
		t.Errorf("a changed hash: %v", err)
	}
}
