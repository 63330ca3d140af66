package sqlitetest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/lango-pos/lango/terminal"
)

// The generators below drive the property tests of issue 12: catalogues a
// careless administrator might publish and sale requests a tired attendant
// (or a script) might make. Most of what they make is valid, so that the
// interesting paths are reached; each field is wrong now and then.

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

// often is true with probability 0.97: most fields right, one wrong now
// and then, so that a fair share of catalogues is valid.
func often(r *rand.Rand) bool { return r.IntN(100) < 97 }

// sometimes is a wrong value now and then, else right.
func sometimes[T any](r *rand.Rand, right T, wrong ...T) T {
	if often(r) {
		return right
	}
	return pick(r, wrong...)
}

func text(r *rand.Rand) map[string]string {
	en := sometimes(r, pick(r, "Adult", "Child/student", "EAC citizen", "Resident", "Conservation fee 2024–2025", "Ada ya uhifadhi", "Überlandfahrzeug"),
		strings.Repeat("x", 80), "", "tab\there")
	t := map[string]string{"en": en}
	if r.IntN(2) == 0 {
		t["sw"] = pick(r, "Mtu mzima", "Mtoto", "Raia wa EAC", "")
	}
	return t
}

func code(r *rand.Rand, prefix string, i int) string {
	if often(r) {
		return fmt.Sprintf("%s%d", prefix, i)
	}
	return pick(r, "lower", "TOO-LONG-"+strings.Repeat("X", 30), "", "É1", prefix+"-"+fmt.Sprint(i))
}

func price(r *rand.Rand, base string) map[string]int64 {
	cur := base
	if !often(r) {
		cur = pick(r, "USD", "EUR", "XXX", "kes")
	}
	var minor int64
	switch r.IntN(40) {
	case 0, 1, 2, 3:
		minor = 0
	case 4:
		minor = -pick(r, int64(1), 100000)
	case 5:
		minor = pick(r, int64(1)<<40, int64(1)<<53, 999_999_999_999)
	default:
		minor = int64(r.IntN(500)) * 500
	}
	return map[string]int64{cur: minor}
}

// RandomCatalogue returns a catalogue file for site (a park when park is
// true, else a counter), valid most of the time.
func RandomCatalogue(r *rand.Rand, site string, park bool) []byte {
	base := "KES"
	if !often(r) {
		base = pick(r, "USD", "ABC")
	}
	version := fmt.Sprintf("GEN-%d.%d", r.IntN(100), r.IntN(1000))
	if r.IntN(12) == 0 {
		version = pick(r, "KWS–2024.1", "", " ", strings.Repeat("V", 41), "V 1", "Toleo\u00a01", "v\n1")
	}
	c := map[string]any{
		"schema":        1,
		"version":       version,
		"name":          pick(r, "Generated catalogue", "Orodha ya bei 2024–2025", ""),
		"timezone":      sometimes(r, pick(r, "Africa/Nairobi", "UTC"), "Mars/Olympus", ""),
		"base_currency": base,
	}
	if r.IntN(3) == 0 {
		c["rates"] = []map[string]any{{"from": "USD", "to": base, "rate": sometimes(r, pick(r, "129.50", "1", "0.0077"), "0", "-3", "abc", "1e400"), "source": "CBK"}}
	}
	if r.IntN(2) == 0 {
		c["pass_hours"] = sometimes(r, pick(r, 0, 1, 6, 24, 48, 744), 745, -1)
	}
	var cats, bands []string
	var catList, bandList []map[string]any
	for i := range 1 + r.IntN(3) {
		cd := code(r, "C", i)
		cats = append(cats, cd)
		catList = append(catList, map[string]any{"code": cd, "name": text(r)})
	}
	for i := range 1 + r.IntN(3) {
		cd := code(r, "B", i)
		bands = append(bands, cd)
		b := map[string]any{"code": cd, "name": text(r), "min_age": 0}
		if i > 0 {
			b["min_age"] = sometimes(r, 5*i+3, -1, 200)
		}
		bandList = append(bandList, b)
	}
	c["categories"], c["age_bands"] = catList, bandList
	if r.IntN(3) == 0 {
		c["seasons"] = []map[string]any{{"code": "HIGH", "name": text(r), "ranges": []map[string]string{
			{"from": sometimes(r, pick(r, "07-01", "01-01"), "13-01", "7-1"), "to": sometimes(r, pick(r, "03-31", "12-31"), "02-30", "")}}}}
	}
	var fees []map[string]any
	for _, cd := range cats {
		for _, b := range bands {
			if often(r) {
				fees = append(fees, map[string]any{"category": cd, "band": b, "price": price(r, base)})
			}
		}
	}
	if r.IntN(8) == 0 {
		fees = append(fees, map[string]any{"category": "NOPE", "band": bands[0], "price": price(r, base)})
	}
	c["classes"] = []map[string]any{{"code": "CL", "name": text(r), "fees": fees}}
	kind, class := "park", "CL"
	if !park {
		kind, class = "counter", ""
	}
	s := map[string]any{"code": site, "name": sometimes(r, pick(r, "Nairobi National Park", "Huduma Centre GPO"), ""), "kind": kind}
	if class != "" {
		s["class"] = class
	}
	if r.IntN(3) == 0 {
		s["overstay_grace_minutes"] = sometimes(r, pick(r, 0, 60), -5)
	}
	sites := []map[string]any{s}
	if !often(r) {
		sites = []map[string]any{{"code": "OTHER", "name": "Elsewhere", "kind": "park", "class": "CL"}}
	}
	c["sites"] = sites
	var vehicles []map[string]any
	for i := range r.IntN(3) {
		min := pick(r, 1, 7, 13)
		vehicles = append(vehicles, map[string]any{"code": code(r, "V", i), "name": text(r), "min_seats": min, "max_seats": min + sometimes(r, pick(r, 5, 0), -2), "price": price(r, base)})
	}
	if len(vehicles) > 0 {
		c["vehicle_bands"] = vehicles
	}
	if r.IntN(3) == 0 {
		c["exemptions"] = []map[string]any{{"code": code(r, "X", 0), "name": text(r), "evidence": text(r)}}
	}
	var services []map[string]any
	for i := range r.IntN(4) {
		sv := map[string]any{"code": code(r, "S", i), "name": text(r), "price": price(r, base)}
		if r.IntN(2) == 0 {
			sv["max_qty"] = sometimes(r, pick(r, 1, 5, 100), -1)
		}
		services = append(services, sv)
	}
	if len(services) > 0 {
		c["services"] = services
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}

// RandomSale returns a sale request against cat at site as an attendant
// or a script might key it: items of the catalogue (and now and then
// others), repeated lines, odd quantities, plates, exemptions, tenders in
// several currencies.
func RandomSale(r *rand.Rand, cat *terminal.Catalogue, site string) terminal.SaleRequest {
	var codes []string // what the site sells
	if s, ok := cat.Site(site); ok && s.Kind == "park" {
		for _, c := range cat.Categories {
			for _, b := range cat.AgeBands {
				codes = append(codes, c.Code+"-"+b.Code)
			}
		}
		for _, v := range cat.Vehicles {
			codes = append(codes, v.Code)
		}
	} else {
		for _, s := range cat.Services {
			codes = append(codes, s.Code)
		}
	}
	if len(codes) == 0 {
		codes = []string{"NOPE"}
	}
	var req terminal.SaleRequest
	for range sometimes(r, 1+r.IntN(4), 0, 12) {
		l := terminal.LineRequest{Code: sometimes(r, pick(r, codes...), "NOPE", "c0-b0", ""), Qty: sometimes(r, 1+r.IntN(3), 0, -1, 500, 1_000_000)}
		if r.IntN(8) == 0 && len(cat.Exemptions) > 0 {
			l.Exemption = cat.Exemptions[0].Code
			l.Evidence = sometimes(r, "ID 12345678", "", strings.Repeat("e", 300))
		}
		req.Lines = append(req.Lines, l)
		if r.IntN(6) == 0 { // the same line again
			req.Lines = append(req.Lines, l)
		}
	}
	if r.IntN(2) == 0 {
		req.Vehicle = sometimes(r, pick(r, "KDA 123A", "KCB456Z", "GK 001", "kda-123a"), " - - ", "ÄÖÜ 1", strings.Repeat("A", 40))
	}
	tenders := []string{sometimes(r, pick(r, "cash", "cash", "defer", "mpesa:SAB1234567"), "cash:KES=0", "card:12", "cash:KES=-5", "mpesa:bad")}
	if r.IntN(4) == 0 {
		tenders = append(tenders, pick(r, "cash:KES=100", "cash:KES=99999999", "cash:USD=50", "cash:EUR=10", "mpesa:QWE98765XY", "card:123456", "defer"))
	}
	if r.IntN(10) == 0 {
		tenders = nil
	}
	for _, s := range tenders {
		if t, err := terminal.ParseTender(s); err == nil {
			req.Tenders = append(req.Tenders, t)
		}
	}
	return req
}
