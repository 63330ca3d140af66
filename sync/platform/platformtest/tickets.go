package platformtest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Ticket is a prepaid ticket the stand-in sells, in the reference's
// shape.
type Ticket struct {
	TicketNo  string    `json:"ticket_no"`
	Site      string    `json:"site"`
	ValidFrom string    `json:"valid_from"`
	ValidTo   string    `json:"valid_to"`
	Party     []Party   `json:"party"`
	Vehicle   *Vehicle  `json:"vehicle"`
	Status    string    `json:"status"` // valid, cancelled
	date      string    // the visit's day, YYYY-MM-DD
	changed   int64     // change number, the list's cursor
	redeemed  *redeemed // first redemption
}

// Party is a group of visitors of one category and age band.
type Party struct {
	Category string `json:"category"`
	AgeBand  string `json:"age_band"`
	Count    int    `json:"count"`
}

// Vehicle is the vehicle a ticket admits.
type Vehicle struct {
	Plate string `json:"plate"`
	Band  string `json:"band"`
}

type redeemed struct{ site, gate, at string }

// ticketPage bounds a page of the list.
const ticketPage = 1000

// AddTicket sells (or changes: same number) a ticket for the day date
// (YYYY-MM-DD).
func (s *Server) AddTicket(date string, t Ticket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tickets == nil {
		s.tickets = map[string]*Ticket{}
	}
	s.changes++
	t.date, t.changed = date, s.changes
	if old, ok := s.tickets[t.TicketNo]; ok {
		t.redeemed = old.redeemed
	}
	s.tickets[t.TicketNo] = &t
}

// CancelTicket cancels a ticket: it appears in the list again, cancelled.
func (s *Server) CancelTicket(no string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tickets[no]; ok {
		s.changes++
		t.Status, t.changed = "cancelled", s.changes
	}
}

// Redemptions returns how many tickets were redeemed (first time).
func (s *Server) Redemptions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, t := range s.tickets {
		if t.redeemed != nil {
			n++
		}
	}
	return n
}

func (s *Server) listTickets(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := s.admit(w, r); !ok {
		return
	}
	q := r.URL.Query()
	site, date := q.Get("site"), q.Get("date")
	if _, err := time.Parse("2006-01-02", date); err != nil || site == "" {
		fail(w, http.StatusUnprocessableEntity, "invalid", "site and date (YYYY-MM-DD) are needed")
		return
	}
	var after int64
	if a := q.Get("after"); a != "" {
		var err error
		if after, err = strconv.ParseInt(a, 10, 64); err != nil || after < 0 {
			fail(w, http.StatusUnprocessableEntity, "invalid", "after %q is not a cursor this platform gave", a)
			return
		}
	}
	s.mu.Lock()
	var page []*Ticket
	for _, t := range s.tickets {
		if t.Site == site && t.date == date && t.changed > after {
			page = append(page, t)
		}
	}
	// Oldest change first, a page at a time.
	for i := 1; i < len(page); i++ {
		for j := i; j > 0 && page[j].changed < page[j-1].changed; j-- {
			page[j], page[j-1] = page[j-1], page[j]
		}
	}
	if len(page) > ticketPage {
		page = page[:ticketPage]
	}
	out := struct {
		Tickets []Ticket `json:"tickets"`
		Next    string   `json:"next"`
	}{Tickets: []Ticket{}, Next: strconv.FormatInt(after, 10)}
	for _, t := range page {
		out.Tickets = append(out.Tickets, *t)
		out.Next = strconv.FormatInt(t.changed, 10)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) redeem(w http.ResponseWriter, r *http.Request) {
	body, lose, ok := s.admit(w, r)
	if !ok {
		return
	}
	var in struct {
		Site       string `json:"site"`
		Gate       string `json:"gate"`
		RedeemedAt string `json:"redeemed_at"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || in.Site == "" || in.Gate == "" {
		fail(w, http.StatusUnprocessableEntity, "invalid", "a redemption needs site, gate and redeemed_at")
		return
	}
	if _, err := time.Parse(time.RFC3339, in.RedeemedAt); err != nil {
		fail(w, http.StatusUnprocessableEntity, "invalid", "redeemed_at is not an RFC 3339 time")
		return
	}
	no := r.PathValue("no")
	s.mu.Lock()
	t, held := s.tickets[no]
	switch {
	case !held:
		s.mu.Unlock()
		fail(w, http.StatusNotFound, "not_found", "no ticket %s", no)
		return
	case t.Site != in.Site:
		s.mu.Unlock()
		fail(w, http.StatusUnprocessableEntity, "invalid", "ticket %s is for %s, not %s", no, t.Site, in.Site)
		return
	case t.redeemed != nil && (t.redeemed.gate != in.Gate || t.redeemed.at != in.RedeemedAt):
		at, gate := t.redeemed.at, t.redeemed.gate
		s.mu.Unlock()
		writeJSON(w, http.StatusConflict, map[string]string{"error": "already_redeemed", "at": at, "gate": gate,
			"message": "ticket " + no + " was redeemed at " + gate + " at " + at})
		return
	}
	status := http.StatusOK
	if t.redeemed == nil {
		t.redeemed = &redeemed{site: in.Site, gate: in.Gate, at: in.RedeemedAt}
		status = http.StatusCreated
	}
	s.mu.Unlock()
	if lose {
		drop(w)
		return
	}
	writeJSON(w, status, map[string]string{"ticket_no": no, "status": "redeemed"})
}
