package mpesa

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// maxCallback bounds a callback body: Daraja's are well under 4 KiB.
const maxCallback = 16 << 10

// Callbacks serves the URLs Daraja calls: /validation and /confirmation
// (C2B) and /result and /timeout (Transaction Status). Calls from addresses
// outside Allowed, oversized or malformed bodies are refused, logged, and
// store nothing.
type Callbacks struct {
	Ledger Ledger
	// Allowed are the networks Daraja calls from (Safaricom publishes its
	// ranges); empty refuses every call.
	Allowed []netip.Prefix
	// ShortCodes, if set, are the only short codes accepted: the
	// paybills, a spare one included.
	ShortCodes []string
	Location   *time.Location
	Now        func() time.Time
	Log        *slog.Logger
}

func (c *Callbacks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := c.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	refuse := func(code int, why string) {
		log.Warn("mpesa callback refused", "path", r.URL.Path, "from", r.RemoteAddr, "reason", why)
		http.Error(w, why, code)
	}
	if r.Method != http.MethodPost {
		refuse(http.StatusMethodNotAllowed, "POST only")
		return
	}
	if !c.allowed(r.RemoteAddr) {
		refuse(http.StatusForbidden, "caller not allowed")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallback))
	if err != nil {
		refuse(http.StatusRequestEntityTooLarge, "body too large")
		return
	}
	ctx := r.Context()
	switch strings.TrimSuffix(r.URL.Path[strings.LastIndex(r.URL.Path, "/"):], "/") {
	case "/validation", "/confirmation":
		p, err := c.confirmation(body)
		if err != nil {
			refuse(http.StatusBadRequest, err.Error())
			return
		}
		if strings.HasSuffix(r.URL.Path, "/confirmation") {
			if _, err := c.Ledger.AddMpesaPayment(ctx, p, c.now()); err != nil {
				log.Error("mpesa: store confirmation", "err", err)
				http.Error(w, "try again", http.StatusServiceUnavailable)
				return
			}
		}
		writeJSON(w, Ack{ResultCode: 0, ResultDesc: "Accepted"})
	case "/result":
		if err := c.result(ctx, body); err != nil {
			var se storeError
			if errors.As(err, &se) {
				log.Error("mpesa: store status result", "err", err)
				http.Error(w, "try again", http.StatusServiceUnavailable)
				return
			}
			refuse(http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(w, Ack{ResultCode: 0, ResultDesc: "Accepted"})
	case "/timeout":
		writeJSON(w, Ack{ResultCode: 0, ResultDesc: "Accepted"})
	default:
		refuse(http.StatusNotFound, "unknown callback")
	}
}

func (c *Callbacks) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Callbacks) loc() *time.Location {
	if c.Location != nil {
		return c.Location
	}
	loc, err := time.LoadLocation("Africa/Nairobi")
	if err != nil {
		return time.UTC
	}
	return loc
}

func (c *Callbacks) allowed(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	for _, p := range c.Allowed {
		if p.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}

func strictJSON(body []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(v); err != nil {
		return errors.New("body is not the JSON Daraja sends")
	}
	if dec.More() {
		return errors.New("data after the JSON body")
	}
	return nil
}

func (c *Callbacks) confirmation(body []byte) (Payment, error) {
	var conf Confirmation
	if err := strictJSON(body, &conf); err != nil {
		return Payment{}, err
	}
	p, err := conf.Payment(c.loc())
	if err != nil {
		return p, err
	}
	if len(c.ShortCodes) > 0 && !slices.Contains(c.ShortCodes, p.ShortCode) {
		return p, errors.New("payment to another short code")
	}
	return p, nil
}

func (c *Callbacks) result(ctx context.Context, body []byte) error {
	var res StatusResult
	if err := strictJSON(body, &res); err != nil {
		return err
	}
	// Check everything before storing anything.
	code, err := c.Ledger.MpesaConversation(ctx, res.Result.ConversationID)
	if errors.Is(err, ErrUnknownConversation) {
		return err
	}
	if err != nil {
		return storeError{err}
	}
	var p Payment
	if res.Result.ResultCode == 0 {
		if p, err = res.Payment(c.loc()); err != nil {
			return err
		}
		if p.Code != code {
			return errors.New("status result for another code than asked")
		}
	}
	if _, err := c.Ledger.AnsweredMpesa(ctx, res.Result.ConversationID, res.Result.ResultCode, res.Result.ResultDesc, c.now()); err != nil {
		return storeError{err}
	}
	if res.Result.ResultCode != 0 {
		return nil // M-PESA does not know the code: it stays unknown
	}
	if _, err = c.Ledger.AddMpesaPayment(ctx, p, c.now()); err != nil {
		return storeError{err}
	}
	return nil
}

// storeError is a ledger that did not answer: Daraja is told to try
// again (503), not that its call was wrong.
type storeError struct{ err error }

func (e storeError) Error() string { return e.err.Error() }
func (e storeError) Unwrap() error { return e.err }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
