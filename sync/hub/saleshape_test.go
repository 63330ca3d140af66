package hub_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/google/uuid"
	"github.com/lango-pos/lango/sync/hub"
	"github.com/lango-pos/lango/sync/hub/hubtest"
	"github.com/lango-pos/lango/terminal"
)

// sameAsUnmarshal fails t when QuickSale, having answered, parts from
// json.Unmarshal into terminal.Sale: it accepted what that refuses, or
// read other id, state or tenders.
func sameAsUnmarshal(t *testing.T, p []byte) (quick bool) {
	t.Helper()
	got, ok := hub.QuickSale(p)
	if !ok {
		return false
	}
	var want terminal.Sale
	if err := json.Unmarshal(p, &want); err != nil {
		t.Fatalf("QuickSale accepted %s; json.Unmarshal refuses it: %v", p, err)
	}
	if got.ID != want.ID || got.State != want.State || !reflect.DeepEqual(got.Tenders, want.Tenders) {
		t.Fatalf("QuickSale of %s: id %q state %q tenders %+v; want %q %q %+v", p, got.ID, got.State, got.Tenders, want.ID, want.State, want.Tenders)
	}
	return true
}

// TestQuickSaleCrafted: on every crafted sale, QuickSale either gives up
// or reads what json.Unmarshal reads, and refuses nothing json.Unmarshal
// accepts; and it does answer for the real sale and the harmless
// variations (else the report would be as slow as before and this test
// would prove nothing).
func TestQuickSaleCrafted(t *testing.T) {
	answered := 0
	for i, p := range hubtest.CraftedSales("NNP", uuid.NewString) {
		if sameAsUnmarshal(t, []byte(p)) {
			answered++
		} else if i < 2 {
			t.Errorf("QuickSale gave up on the plain sale %s", p)
		}
	}
	t.Logf("QuickSale answered %d of the crafted sales", answered)
	if answered < 15 {
		t.Errorf("QuickSale answered %d crafted sales; want the harmless ones (15 or more)", answered)
	}
}

// FuzzQuickSale: whatever the bytes, QuickSale never accepts a sale that
// json.Unmarshal refuses, nor reads it otherwise.
func FuzzQuickSale(f *testing.F) {
	for _, p := range hubtest.CraftedSales("NNP", uuid.NewString) {
		f.Add([]byte(p))
	}
	f.Fuzz(func(t *testing.T, p []byte) { sameAsUnmarshal(t, p) })
}

// BenchmarkDecodeSale: the report's read of a paid sale, QuickSale
// against json.Unmarshal into terminal.Sale (what it replaced).
func BenchmarkDecodeSale(b *testing.B) {
	p := []byte(hubtest.CraftedSales("NNP", uuid.NewString)[0])
	b.Run("quick", func(b *testing.B) {
		b.SetBytes(int64(len(p)))
		for range b.N {
			if _, ok := hub.QuickSale(p); !ok {
				b.Fatal("gave up")
			}
		}
	})
	b.Run("unmarshal", func(b *testing.B) {
		b.SetBytes(int64(len(p)))
		for range b.N {
			var s terminal.Sale
			if err := json.Unmarshal(p, &s); err != nil {
				b.Fatal(err)
			}
		}
	})
}
