package terminal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // a kiosk may have no zoneinfo; seasons are in Africa/Nairobi time
	"unicode/utf8"
)

// SiteTime formats t as a person at the site reads it: in loc (the
// catalogue's time zone; time.Local when nil), with the zone's name after
// layout, as in "18:34 EAT".
func SiteTime(t time.Time, loc *time.Location, layout string) string {
	if loc == nil {
		loc = time.Local
	}
	return t.In(loc).Format(layout + " MST")
}

// CashCurrencies are those a drawer takes: the base currency and every
// currency with a rate to it.
func (c *Catalogue) CashCurrencies() []Currency {
	cs := []Currency{c.BaseCurrency}
	for _, r := range c.Rates {
		if r.To == c.BaseCurrency {
			cs = append(cs, r.From)
		}
	}
	return cs
}

// CatalogueSchema is the schema version this code reads.
const CatalogueSchema = 1

// Text is a person-facing name in several languages: {"en": …, "sw": …}.
type Text map[string]string

// In returns the text in lang, falling back to English.
func (t Text) In(lang string) string {
	if s, ok := t[lang]; ok && s != "" {
		return s
	}
	return t["en"]
}

// Price is an amount in one currency. Its JSON form is the contract's money
// object with exactly one key: {"USD": 8000}.
type Price Money

func (p Price) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[Currency]int64{p.Currency: p.Minor})
}

func (p *Price) UnmarshalJSON(b []byte) error {
	var m map[Currency]int64
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if len(m) != 1 {
		return fmt.Errorf("a price names exactly one currency, e.g. {\"KES\": 200000}")
	}
	for c, v := range m {
		*p = Price{Currency: c, Minor: v}
	}
	return nil
}

// Catalogue is the priced list a terminal sells from: a data file with a
// documented schema (docs/CATALOGUE.md), versioned so that a sale records the
// version it was priced with.
type Catalogue struct {
	Schema       int    `json:"schema"`
	Version      string `json:"version"`
	Name         string `json:"name"`
	Illustrative bool   `json:"illustrative,omitempty"`
	// TimeZone in which seasons and free days are evaluated.
	TimeZone     string   `json:"timezone"`
	BaseCurrency Currency `json:"base_currency"`
	Rates        []Rate   `json:"rates,omitempty"`
	// PassHours is how long an entry pass is valid (a daily fee covers a
	// single entry of up to 24 hours).
	PassHours  int           `json:"pass_hours,omitempty"`
	Categories []Category    `json:"categories,omitempty"`
	AgeBands   []AgeBand     `json:"age_bands,omitempty"`
	Seasons    []Season      `json:"seasons,omitempty"`
	Classes    []TariffClass `json:"classes,omitempty"`
	Sites      []Site        `json:"sites"`
	Vehicles   []VehicleBand `json:"vehicle_bands,omitempty"`
	Exemptions []Exemption   `json:"exemptions,omitempty"`
	FreeDays   []FreeDay     `json:"free_days,omitempty"`
	Services   []Service     `json:"services,omitempty"`
	// Banks are the banks a transfer or deposit slip may be tendered from
	// (bank:BANK:REFERENCE); none: no bank tender is taken.
	Banks []Bank `json:"banks,omitempty"`
	// TourOperators are the operators whose vans may defer to exit on
	// account (sell --owed-by CODE|LICENCE); none: no account is named.
	TourOperators []TourOperator `json:"tour_operators,omitempty"`
	loc           *time.Location
	rateByPair    map[[2]Currency]*Rate
	raw           []byte
	categoryIdx   map[string]*Category
	bandIdx       map[string]*AgeBand
}

// Rate converts an amount of From into To: To = From × Rate. Rate is a
// decimal string ("129.50") so it is kept exactly; Source says where it came
// from (recorded with every sale that uses it).
type Rate struct {
	From   Currency `json:"from"`
	To     Currency `json:"to"`
	Rate   string   `json:"rate"`
	Source string   `json:"source"`
	r      *big.Rat
}

// Bank is a bank the site accepts transfers and deposit slips from: its
// code as keyed and printed (KCB), and its name.
type Bank struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// CheckBank refuses a bank code that is not one of the catalogue's
// accepted banks.
func (c *Catalogue) CheckBank(code string) error {
	var codes []string
	for _, b := range c.Banks {
		if b.Code == code {
			return nil
		}
		codes = append(codes, b.Code)
	}
	if len(codes) == 0 {
		return Errorf(EINVALID, "catalogue %s accepts no bank tenders", c.Version).WithID("bank_none", nil)
	}
	return Errorf(EINVALID, "bank %s is not one the site accepts (%s)", code, strings.Join(codes, ", ")).
		WithID("bank_unknown", map[string]any{"Bank": code, "Banks": strings.Join(codes, ", ")})
}

// Category is a visitor category (EAC citizen, resident, …).
type Category struct {
	Code string `json:"code"`
	Name Text   `json:"name"`
}

// AgeBand is an age band (adult, child/student, under five).
type AgeBand struct {
	Code   string `json:"code"`
	Name   Text   `json:"name"`
	MinAge int    `json:"min_age"`
	MaxAge int    `json:"max_age,omitempty"` // 0: no upper bound
}

// Season is a named set of recurring date ranges ("07-01".."03-31" wraps
// the new year), inclusive, in the catalogue's time zone.
type Season struct {
	Code   string      `json:"code"`
	Name   Text        `json:"name"`
	Ranges []DateRange `json:"ranges"`
}

// DateRange is an inclusive range of month-days, "MM-DD".
type DateRange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// TariffClass groups sites that share entry fees.
type TariffClass struct {
	Code string     `json:"code"`
	Name Text       `json:"name"`
	Fees []EntryFee `json:"fees"`
}

// EntryFee prices one person of a category and age band for a day. An empty
// Season applies in every season; a season-specific fee wins over it.
type EntryFee struct {
	Category string `json:"category"`
	Band     string `json:"band"`
	Season   string `json:"season,omitempty"`
	Price    Price  `json:"price"`
}

// Site is a park gate or a service counter.
type Site struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Kind  string `json:"kind"`            // "park" or "counter"
	Class string `json:"class,omitempty"` // tariff class, for parks
	// OverstayGraceMinutes after a pass's validity before overstay is due.
	OverstayGraceMinutes int `json:"overstay_grace_minutes,omitempty"`
}

// VehicleBand prices a vehicle by seat capacity. Its code is the item code.
type VehicleBand struct {
	Code     string `json:"code"`
	Name     Text   `json:"name"`
	MinSeats int    `json:"min_seats"`
	MaxSeats int    `json:"max_seats"`
	Tour     bool   `json:"tour,omitempty"` // a tour operator's vehicle
	Price    Price  `json:"price"`
}

// Exemption lets a person enter free on showing evidence, which the sale
// records.
type Exemption struct {
	Code       string   `json:"code"`
	Name       Text     `json:"name"`
	Evidence   Text     `json:"evidence"`             // what the attendant must see
	Categories []string `json:"categories,omitempty"` // empty: every category
}

// FreeDay makes entry free on a date ("MM-DD" every year, or "YYYY-MM-DD")
// for some categories (empty: all) at some sites (empty: all).
type FreeDay struct {
	Code       string   `json:"code"`
	Name       Text     `json:"name"`
	Date       string   `json:"date"`
	Categories []string `json:"categories,omitempty"`
	Sites      []string `json:"sites,omitempty"`
}

// Service is a gazetted flat fee sold at a counter.
type Service struct {
	Code   string   `json:"code"`
	Name   Text     `json:"name"`
	Price  Price    `json:"price"`
	MaxQty int      `json:"max_qty,omitempty"` // 0: 1 per sale
	Sites  []string `json:"sites,omitempty"`   // empty: every counter
}

var (
	monthDayRE = regexp.MustCompile(`^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$`)
)

// ParseCatalogue decodes and validates a catalogue file. Unknown fields are
// refused, so that a misspelt key is an error rather than a silent default.
func ParseCatalogue(b []byte) (*Catalogue, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c Catalogue
	if err := dec.Decode(&c); err != nil {
		return nil, &Error{Kind: EINVALID, Message: "catalogue file is not valid: " + err.Error()}
	}
	if dec.More() {
		return nil, Errorf(EINVALID, "catalogue file is not valid: data after the catalogue")
	}
	if err := c.init(); err != nil {
		// init's errors describe the file, not a fault of the program.
		return nil, &Error{Kind: EINVALID, Message: "catalogue file is not valid: " + err.Error()}
	}
	c.raw = slices.Clone(b)
	return &c, nil
}

// Raw returns the bytes the catalogue was parsed from.
func (c *Catalogue) Raw() []byte { return c.raw }

// Location returns the catalogue's time zone.
func (c *Catalogue) Location() *time.Location { return c.loc }

func (c *Catalogue) init() error {
	if c.Schema != CatalogueSchema {
		return fmt.Errorf("schema %d; this version of Lango reads schema %d", c.Schema, CatalogueSchema)
	}
	// Every sale's pass carries the version: what the pass cannot carry is
	// refused here, at load and at publication, not at the first sale.
	if err := CheckPassCatalogueVersion(c.Version); err != nil {
		return fmt.Errorf("version %q: %w", c.Version, err)
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil || c.TimeZone == "" {
		return fmt.Errorf("unknown time zone %q", c.TimeZone)
	}
	c.loc = loc
	if !c.BaseCurrency.Valid() {
		return fmt.Errorf("unknown base currency %q", c.BaseCurrency)
	}
	if c.PassHours < 0 || c.PassHours > 24*31 {
		return fmt.Errorf("pass_hours %d out of range", c.PassHours)
	}
	if c.PassHours == 0 {
		c.PassHours = 24
	}
	c.rateByPair = map[[2]Currency]*Rate{}
	for i := range c.Rates {
		r := &c.Rates[i]
		if !r.From.Valid() || !r.To.Valid() || r.From == r.To {
			return fmt.Errorf("rate %s→%s: unknown or equal currencies", r.From, r.To)
		}
		v, ok := new(big.Rat).SetString(r.Rate)
		if !ok || v.Sign() <= 0 || strings.ContainsAny(r.Rate, "/eE") {
			return fmt.Errorf("rate %s→%s: %q is not a positive decimal", r.From, r.To, r.Rate)
		}
		if r.Source == "" {
			return fmt.Errorf("rate %s→%s: source is required", r.From, r.To)
		}
		r.r = v
		c.rateByPair[[2]Currency{r.From, r.To}] = r
	}
	seen := map[string]string{}
	claim := func(kind, code string) error {
		if !IsPassCode(code) {
			return fmt.Errorf("%s code %q: use A–Z, 0–9, '-' or '_' (at most 24, starting with a letter or digit)", kind, code)
		}
		if prev, ok := seen[kind+":"+code]; ok {
			return fmt.Errorf("%s code %q appears twice (%s)", kind, code, prev)
		}
		seen[kind+":"+code] = kind
		return nil
	}
	banks := map[string]bool{}
	for _, b := range c.Banks {
		if code, err := NormalizeBankCode(b.Code); err != nil || code != b.Code {
			return fmt.Errorf("bank code %q: 2–8 capital letters and digits, starting with a letter", b.Code)
		}
		if banks[b.Code] {
			return fmt.Errorf("bank %s appears twice", b.Code)
		}
		banks[b.Code] = true
		if n := strings.TrimSpace(b.Name); n == "" || len(n) > 60 || !printable(n) {
			return fmt.Errorf("bank %s: a name of at most 60 printable characters is required", b.Code)
		}
	}
	if err := c.validateTourOperators(); err != nil {
		return err
	}
	c.categoryIdx = map[string]*Category{}
	for i := range c.Categories {
		if err := claim("category", c.Categories[i].Code); err != nil {
			return err
		}
		if err := checkName("category "+c.Categories[i].Code, c.Categories[i].Name); err != nil {
			return err
		}
		c.categoryIdx[c.Categories[i].Code] = &c.Categories[i]
	}
	c.bandIdx = map[string]*AgeBand{}
	for i := range c.AgeBands {
		if err := claim("age band", c.AgeBands[i].Code); err != nil {
			return err
		}
		if err := checkName("age band "+c.AgeBands[i].Code, c.AgeBands[i].Name); err != nil {
			return err
		}
		c.bandIdx[c.AgeBands[i].Code] = &c.AgeBands[i]
	}
	for _, s := range c.Seasons {
		if err := claim("season", s.Code); err != nil {
			return err
		}
		if len(s.Ranges) == 0 {
			return fmt.Errorf("season %s has no date ranges", s.Code)
		}
		for _, r := range s.Ranges {
			if !monthDayRE.MatchString(r.From) || !monthDayRE.MatchString(r.To) {
				return fmt.Errorf("season %s: ranges are \"MM-DD\", got %q..%q", s.Code, r.From, r.To)
			}
		}
	}
	checkPrice := func(what string, p Price) error {
		if !p.Currency.Valid() || !IsPassCurrency(string(p.Currency)) {
			return fmt.Errorf("%s: price: unknown currency %q", what, p.Currency)
		}
		if p.Minor < 0 {
			return fmt.Errorf("%s: price %d %s minor units is negative: a price is 0 (free) or more", what, p.Minor, p.Currency)
		}
		if p.Minor > MaxMinor {
			return fmt.Errorf("%s: price %d %s minor units is more than %d", what, p.Minor, p.Currency, MaxMinor)
		}
		if p.Currency != c.BaseCurrency && c.rateByPair[[2]Currency{p.Currency, c.BaseCurrency}] == nil {
			return fmt.Errorf("%s: priced in %s but no %s→%s rate", what, p.Currency, p.Currency, c.BaseCurrency)
		}
		return nil
	}
	classes := map[string]bool{}
	for _, cl := range c.Classes {
		if err := claim("class", cl.Code); err != nil {
			return err
		}
		classes[cl.Code] = true
		dup := map[[3]string]bool{}
		for _, f := range cl.Fees {
			what := fmt.Sprintf("item %s-%s (class %s fee", f.Category, f.Band, cl.Code)
			if f.Season != "" {
				what += ", season " + f.Season
			}
			what += ")"
			if c.categoryIdx[f.Category] == nil || c.bandIdx[f.Band] == nil {
				return fmt.Errorf("%s: unknown category or age band", what)
			}
			if f.Season != "" && seen["season:"+f.Season] == "" {
				return fmt.Errorf("%s: unknown season %q", what, f.Season)
			}
			k := [3]string{f.Category, f.Band, f.Season}
			if dup[k] {
				return fmt.Errorf("%s season %q appears twice", what, f.Season)
			}
			dup[k] = true
			if err := checkPrice(what, f.Price); err != nil {
				return err
			}
		}
	}
	if len(c.Sites) == 0 {
		return fmt.Errorf("no sites")
	}
	for _, s := range c.Sites {
		if err := claim("site", s.Code); err != nil {
			return err
		}
		switch s.Kind {
		case "park":
			if !classes[s.Class] {
				return fmt.Errorf("site %s: unknown tariff class %q", s.Code, s.Class)
			}
		case "counter":
		default:
			return fmt.Errorf("site %s: kind must be park or counter, got %q", s.Code, s.Kind)
		}
		if s.Name == "" {
			return fmt.Errorf("site %s has no name", s.Code)
		}
		if err := checkName("site "+s.Code, Text{"en": s.Name}); err != nil {
			return err
		}
	}
	// Item codes share one namespace: entry codes CAT-BAND, vehicle bands and
	// services.
	for _, cat := range c.Categories {
		for _, b := range c.AgeBands {
			if err := claim("item", cat.Code+"-"+b.Code); err != nil {
				return err
			}
		}
	}
	for _, v := range c.Vehicles {
		if err := claim("item", v.Code); err != nil {
			return err
		}
		if v.MinSeats < 1 || v.MaxSeats < v.MinSeats || v.MaxSeats > 200 {
			return fmt.Errorf("vehicle band %s: seats %d–%d out of range", v.Code, v.MinSeats, v.MaxSeats)
		}
		if err := checkPrice("item "+v.Code+" (vehicle band)", v.Price); err != nil {
			return err
		}
		if err := checkName("item "+v.Code+" (vehicle band)", v.Name); err != nil {
			return err
		}
	}
	for _, e := range c.Exemptions {
		if err := claim("exemption", e.Code); err != nil {
			return err
		}
		if e.Evidence.In("en") == "" {
			return fmt.Errorf("exemption %s: say what evidence the attendant must see", e.Code)
		}
		for _, cat := range e.Categories {
			if c.categoryIdx[cat] == nil {
				return fmt.Errorf("exemption %s: unknown category %q", e.Code, cat)
			}
		}
	}
	for _, f := range c.FreeDays {
		if err := claim("free day", f.Code); err != nil {
			return err
		}
		d := f.Date
		if len(d) == 10 {
			if _, err := time.Parse("2006-01-02", d); err != nil {
				return fmt.Errorf("free day %s: date %q", f.Code, d)
			}
		} else if !monthDayRE.MatchString(d) {
			return fmt.Errorf("free day %s: date is \"MM-DD\" or \"YYYY-MM-DD\", got %q", f.Code, d)
		}
	}
	for _, s := range c.Services {
		if err := claim("item", s.Code); err != nil {
			return err
		}
		if err := checkPrice("item "+s.Code+" (service)", s.Price); err != nil {
			return err
		}
		if err := checkName("item "+s.Code+" (service)", s.Name); err != nil {
			return err
		}
		if s.MaxQty < 0 || s.MaxQty > MaxQty {
			return fmt.Errorf("service %s: max_qty out of range", s.Code)
		}
	}
	return nil
}

// maxName bounds a person-facing name: a line of a receipt, twice.
const maxName = 80

// checkName checks a person-facing name, printed on receipts and passes
// and shown on the kiosk: an English text, and every text at most maxName
// printable characters.
func checkName(what string, t Text) error {
	if strings.TrimSpace(t["en"]) == "" {
		return fmt.Errorf("%s: name: an English name (\"en\") is required", what)
	}
	for _, lang := range slices.Sorted(maps.Keys(t)) {
		if s := t[lang]; utf8.RuneCountInString(s) > maxName || !utf8.ValidString(s) || !printable(s) {
			return fmt.Errorf("%s: name (%s) %q: at most %d printable characters", what, lang, s, maxName)
		}
	}
	return nil
}

// Site returns the site with the given code.
func (c *Catalogue) Site(code string) (Site, bool) {
	for _, s := range c.Sites {
		if s.Code == code {
			return s, true
		}
	}
	return Site{}, false
}

// SeasonAt returns the season code in force at t (in the catalogue's zone),
// or "" when no season covers the date.
func (c *Catalogue) SeasonAt(t time.Time) string {
	md := t.In(c.loc).Format("01-02")
	for _, s := range c.Seasons {
		for _, r := range s.Ranges {
			if r.From <= r.To {
				if md >= r.From && md <= r.To {
					return s.Code
				}
			} else if md >= r.From || md <= r.To { // wraps the new year
				return s.Code
			}
		}
	}
	return ""
}

// Convert converts minor units of from into the base currency at the
// catalogue's rate, rounding half up, and returns the rate used.
func (c *Catalogue) Convert(from Currency, minor int64) (int64, Rate, error) {
	r := c.rateByPair[[2]Currency{from, c.BaseCurrency}]
	if r == nil {
		return 0, Rate{}, Errorf(EINVALID, "no exchange rate from %s to %s in catalogue %s", from, c.BaseCurrency, c.Version)
	}
	// to_minor = from_minor × rate × 10^(to_digits − from_digits)
	v := new(big.Rat).Mul(new(big.Rat).SetInt64(minor), r.r)
	shift := c.BaseCurrency.Digits() - from.Digits()
	scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(shift))), nil))
	if shift >= 0 {
		v.Mul(v, scale)
	} else {
		v.Quo(v, scale)
	}
	// round half up (amounts are non-negative here)
	num, den := v.Num(), v.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if new(big.Int).Mul(m, big.NewInt(2)).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if !q.IsInt64() || q.Int64() > MaxMinor {
		return 0, Rate{}, Errorf(EINVALID, "converted amount too large")
	}
	return q.Int64(), *r, nil
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// MaxQty bounds the quantity of one line: more than this many people or
// vehicles in one sale is a typing mistake.
const MaxQty = 500

// LineRequest is one line as keyed: an item code and a quantity, with the
// exemption claimed and the evidence seen, if any.
type LineRequest struct {
	Code      string `json:"code"`
	Qty       int    `json:"qty"`
	Exemption string `json:"exemption,omitempty"`
	Evidence  string `json:"evidence,omitempty"`
}

// Line is a priced line of a sale.
type Line struct {
	Code      string   `json:"code"`
	Name      string   `json:"name"`
	Kind      string   `json:"kind"` // entry, vehicle, service
	Category  string   `json:"category,omitempty"`
	Band      string   `json:"band,omitempty"`
	Qty       int      `json:"qty"`
	Currency  Currency `json:"currency"`
	Unit      int64    `json:"unit"`  // minor units each, before exemption
	Total     int64    `json:"total"` // minor units for the line
	Season    string   `json:"season,omitempty"`
	Exemption string   `json:"exemption,omitempty"`
	Evidence  string   `json:"evidence,omitempty"`
	FreeDay   string   `json:"free_day,omitempty"`
}

// Priced is the result of pricing: lines and totals per currency.
type Priced struct {
	Site             string    `json:"site"`
	CatalogueVersion string    `json:"catalogue_version"`
	Season           string    `json:"season,omitempty"`
	Lines            []Line    `json:"lines"`
	Totals           Totals    `json:"totals"`
	At               time.Time `json:"at"`
}

// Price prices lines sold at site at time at. It is a pure function of its
// arguments: the same catalogue, time, site and lines give the same result.
func (c *Catalogue) Price(at time.Time, site string, reqs []LineRequest) (Priced, error) {
	s, ok := c.Site(site)
	if !ok {
		return Priced{}, Errorf(EINVALID, "unknown site %q in catalogue %s", site, c.Version)
	}
	if len(reqs) == 0 {
		return Priced{}, Errorf(EINVALID, "the sale has no items")
	}
	if len(reqs) > 50 {
		return Priced{}, Errorf(EINVALID, "too many lines (%d); at most 50", len(reqs))
	}
	p := Priced{Site: site, CatalogueVersion: c.Version, Season: c.SeasonAt(at), Totals: Totals{}, At: at}
	for _, r := range reqs {
		l, err := c.priceLine(at, s, p.Season, r)
		if err != nil {
			return Priced{}, err
		}
		p.Lines = append(p.Lines, l)
		p.Totals.Add(l.Currency, l.Total)
	}
	if err := c.checkSaleBounds(s, p); err != nil {
		return Priced{}, err
	}
	return p, nil
}

// PriceOverstay prices days of overstay for the lines of a pass (its party
// and its seat band, with the pass's counts): each line is the day's fee
// for its count, times days. The counts come from a signed pass, not from
// the keyboard, so the per-sale quantity limits do not apply (a party of
// 300 two days over is 600 visitor-days); the amounts stay within MaxMinor.
func (c *Catalogue) PriceOverstay(at time.Time, site string, reqs []LineRequest, days int) (Priced, error) {
	s, ok := c.Site(site)
	if !ok {
		return Priced{}, Errorf(EINVALID, "unknown site %q in catalogue %s", site, c.Version)
	}
	if days < 1 || days > 10000 {
		return Priced{}, Errorf(EINVALID, "%d days of overstay; 1 to 10000", days)
	}
	if len(reqs) == 0 || len(reqs) > 50 {
		return Priced{}, Errorf(EINVALID, "%d lines of overstay; 1 to 50", len(reqs))
	}
	p := Priced{Site: site, CatalogueVersion: c.Version, Season: c.SeasonAt(at), Totals: Totals{}, At: at}
	for _, r := range reqs {
		if r.Qty < 1 || r.Qty > PassMaxCount {
			return Priced{}, Errorf(EINVALID, "overstay of %s: count %d; 1 to %d", r.Code, r.Qty, PassMaxCount)
		}
		one := r
		one.Qty = 1
		l, err := c.priceLine(at, s, p.Season, one)
		if err != nil {
			return Priced{}, err
		}
		n := int64(r.Qty) * int64(days)
		if l.Total > 0 && n > MaxMinor/l.Total {
			return Priced{}, Errorf(EINVALID, "the overstay of %d × %s comes to more than %s", n, l.Code, Money{l.Currency, MaxMinor})
		}
		l.Qty, l.Total = int(n), l.Total*n
		p.Lines = append(p.Lines, l)
		p.Totals.Add(l.Currency, l.Total)
		if p.Totals[l.Currency] > MaxMinor {
			return Priced{}, Errorf(EINVALID, "the overstay comes to more than %s", Money{l.Currency, MaxMinor})
		}
	}
	return p, nil
}

// checkSaleBounds refuses priced lines that are each valid but together
// exceed what one sale (and its gate pass) holds: more than MaxQty of one
// item or a service's max_qty over several lines, more kinds of visitor
// than a pass has lines, a total beyond MaxMinor.
func (c *Catalogue) checkSaleBounds(s Site, p Priced) error {
	reqs := make([]LineRequest, len(p.Lines))
	for i, l := range p.Lines {
		reqs[i] = LineRequest{Code: l.Code, Qty: l.Qty}
	}
	if err := CheckItemQuantities(reqs); err != nil {
		return err
	}
	qty := map[string]int{}
	party := map[[2]string]bool{}
	for _, l := range p.Lines {
		qty[l.Code] += l.Qty
		if l.Kind == "entry" {
			party[[2]string{l.Category, l.Band}] = true
		}
	}
	for _, l := range p.Lines {
		if l.Kind != "service" {
			continue
		}
		if maxQty := max(c.service(l.Code, s.Code).MaxQty, 1); qty[l.Code] > maxQty {
			return Errorf(EINVALID, "%s: %d in this sale; at most %d in one sale", l.Code, qty[l.Code], maxQty)
		}
	}
	if len(party) > PassMaxPartyLines {
		return Errorf(EINVALID, "%d kinds of visitor (category and age band) in one sale; a pass holds at most %d: split the sale", len(party), PassMaxPartyLines)
	}
	for _, cur := range p.Totals.Currencies() {
		if p.Totals[cur] > MaxMinor {
			return Errorf(EINVALID, "the total in %s is more than %s: split the sale", cur, Money{cur, MaxMinor})
		}
	}
	return nil
}

func (c *Catalogue) priceLine(at time.Time, s Site, season string, r LineRequest) (Line, error) {
	code := strings.ToUpper(strings.TrimSpace(r.Code))
	if code == "" {
		return Line{}, Errorf(EINVALID, "an item code is empty")
	}
	if r.Qty <= 0 {
		return Line{}, Errorf(EINVALID, "quantity of %s must be at least 1, got %d", code, r.Qty)
	}
	if r.Qty > MaxQty {
		return Line{}, Errorf(EINVALID, "quantity of %s is %d; at most %d in one sale", code, r.Qty, MaxQty)
	}
	l := Line{Code: code, Qty: r.Qty}
	switch {
	case s.Kind == "park" && c.entryItem(code) != nil:
		cat, band := c.entryItem(code)[0], c.entryItem(code)[1]
		fee, ok := c.entryFee(s.Class, cat, band, season)
		if !ok {
			return Line{}, Errorf(EINVALID, "%s has no fee at %s in season %q", code, s.Name, season)
		}
		l.Kind, l.Category, l.Band, l.Season = "entry", cat, band, season
		l.Name = c.categoryIdx[cat].Name.In("en") + ", " + c.bandIdx[band].Name.In("en")
		l.Currency, l.Unit = fee.Currency, fee.Minor
		l.Total = fee.Minor * int64(r.Qty)
		if fd := c.freeDay(at, s.Code, cat); fd != "" {
			l.FreeDay, l.Total = fd, 0
		}
	case s.Kind == "park" && c.vehicle(code) != nil:
		v := c.vehicle(code)
		l.Kind, l.Name = "vehicle", v.Name.In("en")
		l.Currency, l.Unit, l.Total = v.Price.Currency, v.Price.Minor, v.Price.Minor*int64(r.Qty)
	case s.Kind == "counter" && c.service(code, s.Code) != nil:
		sv := c.service(code, s.Code)
		maxQty := max(sv.MaxQty, 1)
		if r.Qty > maxQty {
			return Line{}, Errorf(EINVALID, "quantity of %s is %d; at most %d in one sale", code, r.Qty, maxQty)
		}
		l.Kind, l.Name = "service", sv.Name.In("en")
		l.Currency, l.Unit, l.Total = sv.Price.Currency, sv.Price.Minor, sv.Price.Minor*int64(r.Qty)
	default:
		return Line{}, Errorf(EINVALID, "unknown item %q at %s", r.Code, s.Name)
	}
	if r.Exemption == "" && r.Evidence != "" {
		return Line{}, Errorf(EINVALID, "%s: evidence given without an exemption", code)
	}
	if r.Exemption != "" {
		ex := c.Exemption(r.Exemption)
		if ex == nil {
			return Line{}, Errorf(EINVALID, "unknown exemption %q", r.Exemption)
		}
		if l.Kind != "entry" {
			return Line{}, Errorf(EINVALID, "exemption %s applies to people, not to %s", ex.Code, code)
		}
		if len(ex.Categories) > 0 && !slices.Contains(ex.Categories, l.Category) {
			return Line{}, Errorf(EINVALID, "exemption %s does not apply to %s", ex.Code, l.Name)
		}
		ev := strings.TrimSpace(r.Evidence)
		if ev == "" {
			return Line{}, Errorf(EINVALID, "exemption %s needs the evidence seen: %s", ex.Code, ex.Evidence.In("en"))
		}
		if len(ev) > 64 || !printable(ev) {
			return Line{}, Errorf(EINVALID, "evidence for %s must be at most 64 printable characters", ex.Code)
		}
		l.Exemption, l.Evidence, l.Total = ex.Code, ev, 0
	}
	return l, nil
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || !strconv.IsPrint(r) {
			return false
		}
	}
	return true
}

// entryItem splits an entry item code CAT-BAND into its parts, or nil.
func (c *Catalogue) entryItem(code string) []string {
	for _, cat := range c.Categories {
		if band, ok := strings.CutPrefix(code, cat.Code+"-"); ok && c.bandIdx[band] != nil {
			return []string{cat.Code, band}
		}
	}
	return nil
}

func (c *Catalogue) entryFee(class, cat, band, season string) (Price, bool) {
	var any *Price
	for _, cl := range c.Classes {
		if cl.Code != class {
			continue
		}
		for i, f := range cl.Fees {
			if f.Category != cat || f.Band != band {
				continue
			}
			if f.Season == season && season != "" {
				return f.Price, true
			}
			if f.Season == "" {
				any = &cl.Fees[i].Price
			}
		}
	}
	if any != nil {
		return *any, true
	}
	return Price{}, false
}

func (c *Catalogue) vehicle(code string) *VehicleBand {
	for i := range c.Vehicles {
		if c.Vehicles[i].Code == code {
			return &c.Vehicles[i]
		}
	}
	return nil
}

// VehicleBandFor returns the (non-tour or tour) band that fits seats.
func (c *Catalogue) VehicleBandFor(seats int, tour bool) (VehicleBand, bool) {
	for _, v := range c.Vehicles {
		if v.Tour == tour && seats >= v.MinSeats && seats <= v.MaxSeats {
			return v, true
		}
	}
	return VehicleBand{}, false
}

func (c *Catalogue) service(code, site string) *Service {
	for i := range c.Services {
		s := &c.Services[i]
		if s.Code == code && (len(s.Sites) == 0 || slices.Contains(s.Sites, site)) {
			return s
		}
	}
	return nil
}

// Exemption returns the exemption of that code (nil if none).
func (c *Catalogue) Exemption(code string) *Exemption {
	code = strings.ToUpper(strings.TrimSpace(code))
	for i := range c.Exemptions {
		if c.Exemptions[i].Code == code {
			return &c.Exemptions[i]
		}
	}
	return nil
}

func (c *Catalogue) freeDay(at time.Time, site, cat string) string {
	local := at.In(c.loc)
	md, ymd := local.Format("01-02"), local.Format("2006-01-02")
	for _, f := range c.FreeDays {
		if f.Date != md && f.Date != ymd {
			continue
		}
		if len(f.Categories) > 0 && !slices.Contains(f.Categories, cat) {
			continue
		}
		if len(f.Sites) > 0 && !slices.Contains(f.Sites, site) {
			continue
		}
		return f.Code
	}
	return ""
}

// Item is a sellable code as listed by `lango catalogue show`.
type Item struct {
	Code   string      `json:"code"`
	Name   string      `json:"name"`
	Kind   string      `json:"kind"`
	Prices []ItemPrice `json:"prices"`
}

// ItemPrice is one price of an item: for a tariff class and season where the
// price depends on them.
type ItemPrice struct {
	Class  string `json:"class,omitempty"`
	Season string `json:"season,omitempty"`
	Amount Totals `json:"amount"`
}

// Items lists every sellable code of the catalogue.
func (c *Catalogue) Items() []Item {
	var items []Item
	for _, cat := range c.Categories {
		for _, b := range c.AgeBands {
			it := Item{Code: cat.Code + "-" + b.Code, Name: cat.Name.In("en") + ", " + b.Name.In("en"), Kind: "entry"}
			for _, cl := range c.Classes {
				for _, f := range cl.Fees {
					if f.Category == cat.Code && f.Band == b.Code {
						it.Prices = append(it.Prices, ItemPrice{Class: cl.Code, Season: f.Season, Amount: Totals{f.Price.Currency: f.Price.Minor}})
					}
				}
			}
			if len(it.Prices) > 0 {
				items = append(items, it)
			}
		}
	}
	for _, v := range c.Vehicles {
		items = append(items, Item{Code: v.Code, Name: v.Name.In("en"), Kind: "vehicle", Prices: []ItemPrice{{Amount: Totals{v.Price.Currency: v.Price.Minor}}}})
	}
	for _, s := range c.Services {
		items = append(items, Item{Code: s.Code, Name: s.Name.In("en"), Kind: "service", Prices: []ItemPrice{{Amount: Totals{s.Price.Currency: s.Price.Minor}}}})
	}
	return items
}

// CategoryName and BandName give the people-facing names of codes.
func (c *Catalogue) CategoryName(code, lang string) string {
	if x := c.categoryIdx[code]; x != nil {
		return x.Name.In(lang)
	}
	return code
}

func (c *Catalogue) BandName(code, lang string) string {
	if x := c.bandIdx[code]; x != nil {
		return x.Name.In(lang)
	}
	return code
}
