// Package platformtest is a stand-in national payment platform: an HTTP
// handler speaking the interface of ../shared/reference/national-platform.md
// (signed requests, bills, reversals) that tests and `make run` start on
// loopback. Tests make it slow, failing (5xx, timeouts, 429 with
// Retry-After) or lose its answers after it committed, and read its own
// count of bills. It defines its own JSON shapes and its own signature
// check, so it tests the hub's wire format rather than sharing it.
package platformtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Faults make the stand-in misbehave. Rates are probabilities per request
// (0–1), drawn from a seeded generator so a test's run can be repeated.
type Faults struct {
	Delay       time.Duration // every request waits this long first
	FailRate    float64       // 503 before anything is done
	TimeoutRate float64       // no answer until the client gives up; nothing done
	LoseRate    float64       // the bill or reversal is committed, then the connection is dropped
	LimitRate   float64       // 429 with Retry-After
	RetryAfter  int           // seconds, for 429 and 503 (1 if 0)
}

// Bill is a bill the stand-in holds.
type Bill struct {
	Number     string          `json:"bill_number"`
	Ref        string          `json:"bill_ref"`
	Body       json.RawMessage `json:"bill"`
	Status     string          `json:"status"` // settled, reversed
	Reason     string          `json:"reversal_reason,omitempty"`
	ReversedAt string          `json:"reversed_at,omitempty"`
}

// Counts are what the stand-in saw.
type Counts struct {
	Bills     int // distinct bills recorded (201)
	Reversals int // bills reversed (first time)
	Repeats   int // bills or reversals posted again with identical fields (200)
	Conflicts int // 409 answers
	Invalid   int // 422 answers
	Refused   int // 401 answers
	Faults    int // requests a fault hit
}

// Server is the stand-in. The zero value is not usable: call New.
type Server struct {
	agency, secret string
	now            func() time.Time
	log            *slog.Logger

	mu     sync.Mutex
	faults Faults
	rng    *rand.Rand
	bills  map[string]*Bill
	order  []string
	counts Counts

	tickets map[string]*Ticket
	changes int64
}

// New returns a stand-in that accepts requests signed by agency with
// secret. now is its clock (time.Now if nil); seed drives the faults.
func New(agency, secret string, now func() time.Time, seed uint64, log *slog.Logger) *Server {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{agency: agency, secret: secret, now: now, log: log, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), bills: map[string]*Bill{}}
}

// SetFaults replaces the faults.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
}

// Counts returns what the stand-in saw so far.
func (s *Server) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

// Bills returns the bills held, in the order they were recorded.
func (s *Server) Bills() []Bill {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Bill, 0, len(s.order))
	for _, ref := range s.order {
		out = append(out, *s.bills[ref])
	}
	return out
}

// Handler serves the platform's API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/bills", s.postBill)
	mux.HandleFunc("GET /api/v1/bills/{ref}", s.getBill)
	mux.HandleFunc("POST /api/v1/bills/{ref}/reversal", s.postReversal)
	mux.HandleFunc("GET /api/v1/tickets", s.listTickets)
	mux.HandleFunc("POST /api/v1/tickets/{no}/redemptions", s.redeem)
	// Not the platform's: the stand-in's own counts, for tests of real
	// processes and for the demo.
	mux.HandleFunc("GET /standin/counts", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Counts()) })
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, code, format string, args ...any) {
	writeJSON(w, status, map[string]string{"error": code, "message": fmt.Sprintf(format, args...)})
}

// fault draws the request's fault: "", "fail", "timeout", "lose", "limit".
func (s *Server) fault() (string, Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults
	x := s.rng.Float64()
	for _, c := range []struct {
		p    float64
		name string
	}{{f.FailRate, "fail"}, {f.TimeoutRate, "timeout"}, {f.LoseRate, "lose"}, {f.LimitRate, "limit"}} {
		if x < c.p {
			s.counts.Faults++
			return c.name, f
		}
		x -= c.p
	}
	return "", f
}

// admit checks the signature and draws a fault; false if it answered.
func (s *Server) admit(w http.ResponseWriter, r *http.Request) (body []byte, lose bool, ok bool) {
	kind, f := s.fault()
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return nil, false, false
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10+1))
	if err != nil {
		return nil, false, false
	}
	if len(body) > 64<<10 {
		fail(w, http.StatusRequestEntityTooLarge, "too_large", "the body is larger than 64 KiB")
		return nil, false, false
	}
	if msg := s.checkSignature(r, body); msg != "" {
		s.mu.Lock()
		s.counts.Refused++
		s.mu.Unlock()
		fail(w, http.StatusUnauthorized, "unauthorized", "%s", msg)
		return nil, false, false
	}
	retry := strconv.Itoa(max(f.RetryAfter, 1))
	switch kind {
	case "fail":
		w.Header().Set("Retry-After", retry)
		fail(w, http.StatusServiceUnavailable, "unavailable", "the platform is down (stand-in fault)")
		return nil, false, false
	case "limit":
		w.Header().Set("Retry-After", retry)
		fail(w, http.StatusTooManyRequests, "rate_limited", "too many requests (stand-in fault)")
		return nil, false, false
	case "timeout":
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Minute):
		}
		return nil, false, false
	}
	return body, kind == "lose", true
}

func (s *Server) checkSignature(r *http.Request, body []byte) string {
	if r.Header.Get("X-Agency") != s.agency {
		return "unknown agency " + strconv.Quote(r.Header.Get("X-Agency"))
	}
	stamp := r.Header.Get("X-Timestamp")
	at, err := time.Parse(time.RFC3339, stamp)
	if err != nil {
		return "X-Timestamp is not an RFC 3339 time"
	}
	if d := s.now().Sub(at); d > 5*time.Minute || d < -5*time.Minute {
		return "X-Timestamp is more than 5 minutes off"
	}
	sum := sha256.Sum256(body)
	m := hmac.New(sha256.New, []byte(s.secret))
	fmt.Fprintf(m, "%s\n%s\n%s\n%s", r.Method, r.URL.EscapedPath(), stamp, hex.EncodeToString(sum[:]))
	want := m.Sum(nil)
	got, err := hex.DecodeString(r.Header.Get("X-Signature"))
	if err != nil || !hmac.Equal(got, want) {
		return "X-Signature does not verify"
	}
	return ""
}

// drop closes the connection without an answer: the work is done, the
// client never learns it.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

type billIn struct {
	BillRef     string `json:"bill_ref"`
	ServiceCode string `json:"service_code"`
	Description string `json:"description"`
	Amount      string `json:"amount"`
	Currency    string `json:"currency"`
	Client      struct {
		Name     string `json:"name"`
		IDNumber string `json:"id_number"`
		Phone    string `json:"phone"`
	} `json:"client"`
	PaidOffline struct {
		Tender      string `json:"tender"`
		Reference   string `json:"reference"`
		PaidAt      string `json:"paid_at"`
		CollectedBy string `json:"collected_by"`
	} `json:"paid_offline"`
}

var (
	refRE      = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
	amountRE   = regexp.MustCompile(`^(0|[1-9][0-9]{0,14})\.[0-9]{2}$`)
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
)

func (b *billIn) invalid() string {
	p := b.PaidOffline
	switch {
	case !refRE.MatchString(b.BillRef):
		return "bill_ref must be 1–64 letters, digits or '-'"
	case b.ServiceCode == "" || len(b.ServiceCode) > 64:
		return "service_code is missing"
	case len(b.Description) > 500:
		return "description is longer than 500 characters"
	case !amountRE.MatchString(b.Amount) || b.Amount == "0.00":
		return fmt.Sprintf("amount %q is not a positive decimal with two places", b.Amount)
	case !currencyRE.MatchString(b.Currency):
		return fmt.Sprintf("currency %q is not an ISO 4217 code", b.Currency)
	case p.Tender != "cash" && p.Tender != "mpesa" && p.Tender != "card" && p.Tender != "bank":
		return fmt.Sprintf("paid_offline.tender %q is not cash, mpesa, card or bank", p.Tender)
	case p.Tender != "cash" && p.Reference == "":
		return "paid_offline.reference is missing for a " + p.Tender + " payment"
	case len(p.Reference) > 64 || len(p.CollectedBy) > 128:
		return "paid_offline.reference or collected_by is too long"
	}
	if _, err := time.Parse(time.RFC3339, p.PaidAt); err != nil {
		return "paid_offline.paid_at is not an RFC 3339 time"
	}
	return ""
}

func (s *Server) postBill(w http.ResponseWriter, r *http.Request) {
	body, lose, ok := s.admit(w, r)
	if !ok {
		return
	}
	var in billIn
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		s.count(func(c *Counts) { c.Invalid++ })
		fail(w, http.StatusUnprocessableEntity, "invalid", "the bill is not the JSON expected: %v", err)
		return
	}
	if msg := in.invalid(); msg != "" {
		s.count(func(c *Counts) { c.Invalid++ })
		fail(w, http.StatusUnprocessableEntity, "invalid", "%s", msg)
		return
	}
	canon, _ := json.Marshal(in)
	s.mu.Lock()
	b, held := s.bills[in.BillRef]
	status := http.StatusCreated
	switch {
	case held && string(b.Body) != string(canon):
		s.counts.Conflicts++
		s.mu.Unlock()
		fail(w, http.StatusConflict, "bill_ref_conflict", "bill_ref %s was recorded with other fields", in.BillRef)
		return
	case held:
		s.counts.Repeats++
		status = http.StatusOK
	default:
		b = &Bill{Number: fmt.Sprintf("BL-%08d", len(s.order)+1), Ref: in.BillRef, Body: canon, Status: "settled"}
		s.bills[in.BillRef] = b
		s.order = append(s.order, in.BillRef)
		s.counts.Bills++
	}
	answer := map[string]string{"bill_number": b.Number, "status": b.Status}
	s.mu.Unlock()
	if lose {
		drop(w)
		return
	}
	writeJSON(w, status, answer)
}

func (s *Server) count(fn func(*Counts)) {
	s.mu.Lock()
	fn(&s.counts)
	s.mu.Unlock()
}

func (s *Server) getBill(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := s.admit(w, r); !ok {
		return
	}
	s.mu.Lock()
	b, held := s.bills[r.PathValue("ref")]
	var out Bill
	if held {
		out = *b
	}
	s.mu.Unlock()
	if !held {
		fail(w, http.StatusNotFound, "not_found", "no bill %s", r.PathValue("ref"))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) postReversal(w http.ResponseWriter, r *http.Request) {
	body, lose, ok := s.admit(w, r)
	if !ok {
		return
	}
	var in struct {
		Reason     string `json:"reason"`
		ReversedAt string `json:"reversed_at"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		s.count(func(c *Counts) { c.Invalid++ })
		fail(w, http.StatusUnprocessableEntity, "invalid", "the reversal is not the JSON expected: %v", err)
		return
	}
	if _, err := time.Parse(time.RFC3339, in.ReversedAt); err != nil || in.Reason == "" || len(in.Reason) > 500 {
		s.count(func(c *Counts) { c.Invalid++ })
		fail(w, http.StatusUnprocessableEntity, "invalid", "a reversal needs a reason (≤ 500 characters) and reversed_at in RFC 3339")
		return
	}
	ref := r.PathValue("ref")
	s.mu.Lock()
	b, held := s.bills[ref]
	if !held {
		s.mu.Unlock()
		fail(w, http.StatusNotFound, "not_found", "no bill %s to reverse", ref)
		return
	}
	status := http.StatusOK
	if b.Status == "reversed" {
		s.counts.Repeats++
	} else {
		status = http.StatusCreated
		b.Status, b.Reason, b.ReversedAt = "reversed", in.Reason, in.ReversedAt
		s.counts.Reversals++
	}
	answer := map[string]string{"bill_number": b.Number, "status": b.Status}
	s.mu.Unlock()
	if lose {
		drop(w)
		return
	}
	writeJSON(w, status, answer)
}

// Refs returns the bill references held, sorted.
func (s *Server) Refs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]string(nil), s.order...)
	sort.Strings(out)
	return out
}
