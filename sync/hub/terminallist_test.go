package hub_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/lango-pos/lango/sync/hub"
)

// scanRefused is a real store whose ScanEvents fails: what uses it reads
// every event.
type scanRefused struct{ hub.Store }

func (scanRefused) ScanEvents(context.Context, []string, func(hub.StoredEvent) error) error {
	return errors.New("this listing read the events")
}

// TestTerminalListReadsNoEvent: lango-hub terminal list answers from the
// terminals' rows, the same terminals the report gives, without the
// report's pass over every event.
func TestTerminalListReadsNoEvent(t *testing.T) {
	ctx := context.Background()
	c := &clock{}
	h := newHub(t, c)
	te := newTerm(t, h, "gate-1", 0)
	for range 3 {
		te.sell("cash")
	}
	te.mustSync()
	want, err := h.hub.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := hub.New(scanRefused{h.store}, hub.Options{Now: c.Now, Logger: quietLogger()}).TerminalList(ctx)
	if err != nil {
		t.Fatalf("terminal list: %v", err)
	}
	if len(got) != 1 || !reflect.DeepEqual(got, want.Terminals) {
		t.Fatalf("terminal list = %+v; want the report's %+v", got, want.Terminals)
	}
}
