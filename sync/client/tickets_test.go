package client

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/sync/wire"
)

func wireTicket(party, vehicle string) wire.Ticket {
	from := time.Date(2024, 1, 3, 3, 0, 0, 0, time.UTC)
	return wire.Ticket{N: 1, TicketNo: "KWS-1", Site: "NNP", Day: "2024-01-03", ValidFrom: from, ValidTo: from.Add(12 * time.Hour),
		Party: json.RawMessage(party), Vehicle: json.RawMessage(vehicle), Status: "valid"}
}

// TestTicketsFromWire: a feed ticket's party and vehicle are read
// strictly; what cannot be read is refused naming the ticket.
func TestTicketsFromWire(t *testing.T) {
	ok := `[{"category":"citizen","age_band":"adult","count":2}]`
	got, err := ticketsFromWire([]wire.Ticket{wireTicket(ok, `{"plate":"KDA123A","band":"car"}`), wireTicket(ok, `null`), wireTicket(ok, ``)})
	if err != nil || len(got) != 3 || got[0].Vehicle == nil || got[0].Vehicle.Plate != "KDA123A" || got[1].Vehicle != nil || got[2].Vehicle != nil || got[0].Party[0].Count != 2 {
		t.Fatalf("good tickets: %+v, %v", got, err)
	}
	for name, tk := range map[string]wire.Ticket{
		"party object":   wireTicket(`{"count":2}`, ``),
		"unknown field":  wireTicket(`[{"category":"citizen","age_band":"adult","count":2,"price":1}]`, ``),
		"count a string": wireTicket(`[{"category":"citizen","age_band":"adult","count":"2"}]`, ``),
		"two values":     wireTicket(ok+` []`, ``),
		"vehicle list":   wireTicket(ok, `["KDA123A"]`),
		"no party":       wireTicket(``, ``),
	} {
		if _, err := ticketsFromWire([]wire.Ticket{wireTicket(ok, ``), tk}); err == nil || !strings.Contains(err.Error(), "KWS-1") {
			t.Errorf("%s: %v; want refused naming the ticket", name, err)
		}
	}
}

// FuzzTicketsFromWire: whatever bytes a hub sends as a ticket's party and
// vehicle, reading them and checking the ticket do not panic, and a
// ticket read and valid has a party of real groups.
func FuzzTicketsFromWire(f *testing.F) {
	f.Add(`[{"category":"citizen","age_band":"adult","count":2}]`, `{"plate":"KDA123A","band":"car"}`)
	f.Add(`[]`, `null`)
	f.Add(`[{"count":-1}]`, `{"plate":""}`)
	f.Add(`[[[[`, `{`)
	f.Fuzz(func(t *testing.T, party, vehicle string) {
		got, err := ticketsFromWire([]wire.Ticket{wireTicket(party, vehicle)})
		if err != nil {
			return
		}
		if got[0].Validate("NNP") == nil {
			for _, g := range got[0].Party {
				if g.Count < 1 || g.Category == "" {
					t.Fatalf("a valid ticket with group %+v", g)
				}
			}
		}
	})
}
