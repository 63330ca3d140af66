package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lango-pos/lango/terminal"
	"github.com/lango-pos/lango/terminal/sqlite"
)

// A sale within every per-sale limit whose pass is still too big for the
// format (32 kinds of visitor with long codes, from a terminal with a long
// name) is refused as EINVALID with the pass's reason, nothing stored: the
// last guard behind the sale's own checks, never an internal error.
func TestPassTooBigIsRefusedNotInternal(t *testing.T) {
	ctx := context.Background()
	var doc map[string]any
	if err := json.Unmarshal(readCatalogue(t, "kws.json"), &doc); err != nil {
		t.Fatal(err)
	}
	var cats, bands, fees []any
	var lines []terminal.LineRequest
	for i := range 6 {
		c := fmt.Sprintf("CATEGORY%03d", i) // 11 characters
		b := fmt.Sprintf("AGEBAND%04d", i)  // 11: CATEGORY000-AGEBAND0000 is 23
		cats = append(cats, map[string]any{"code": c, "name": map[string]any{"en": c}})
		bands = append(bands, map[string]any{"code": b, "name": map[string]any{"en": b}, "min_age": i})
	}
	for _, c := range cats {
		for _, b := range bands {
			cc, bb := c.(map[string]any)["code"].(string), b.(map[string]any)["code"].(string)
			fees = append(fees, map[string]any{"category": cc, "band": bb, "price": map[string]any{"KES": 100}})
			if len(lines) < 32 {
				lines = append(lines, terminal.LineRequest{Code: cc + "-" + bb, Qty: 500})
			}
		}
	}
	doc["categories"], doc["age_bands"], doc["exemptions"], doc["free_days"] = cats, bands, nil, nil
	doc["classes"] = []any{map[string]any{"code": "URBAN", "name": map[string]any{"en": "Urban"}, "fees": fees}}
	doc["sites"] = []any{map[string]any{"code": "NNP", "name": "Nairobi National Park", "kind": "park", "class": "URBAN"}}
	doc["version"] = strings.Repeat("V", 40)
	body, _ := json.Marshal(doc)

	path := filepath.Join(t.TempDir(), "lango.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.Now = fakeClock()
	if _, err := db.Init(ctx, terminal.InitRequest{Site: "NNP", Name: strings.Repeat("g", 32), Catalogue: body, AdminPIN: "1234"}); err != nil {
		t.Fatal(err)
	}
	admin, err := db.Authenticate(ctx, "admin", "1234")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.OpenShift(ctx, admin, terminal.Totals{"KES": 0}); err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, admin: admin, path: path}
	refusedSale(t, f, issuer(t, f), terminal.SaleRequest{Lines: lines, Vehicle: "KCB456Z12345", Tenders: mustTender(t, "defer")},
		terminal.EINVALID, "the gate pass cannot be issued for this sale", "bytes, more than 1024: split the sale")
}
