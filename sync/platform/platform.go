// Package platform is the hub's client of the national payment platform,
// as ../shared/reference/national-platform.md fixes its interface: bills
// for sales paid offline, their reversals, and (later) prepaid tickets.
// Every request is signed with the agency's shared secret.
package platform

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Bill is a sale paid offline, as the platform records it.
type Bill struct {
	BillRef     string      `json:"bill_ref"`
	ServiceCode string      `json:"service_code"`
	Description string      `json:"description"`
	Amount      string      `json:"amount"` // a decimal string, two places
	Currency    string      `json:"currency"`
	Client      Party       `json:"client"`
	PaidOffline PaidOffline `json:"paid_offline"`
}

// Party is the payer; empty for walk-ins.
type Party struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
	Phone    string `json:"phone"`
}

// PaidOffline says how and when the money was taken.
type PaidOffline struct {
	Tender      string `json:"tender"`    // cash, mpesa, card, bank
	Reference   string `json:"reference"` // "" for cash
	PaidAt      string `json:"paid_at"`   // RFC 3339 with offset
	CollectedBy string `json:"collected_by"`
}

// Reversal undoes a posted bill (a void or a refund).
type Reversal struct {
	Reason     string `json:"reason"`
	ReversedAt string `json:"reversed_at"`
}

// Answer is the platform's answer to a bill or a reversal.
type Answer struct {
	BillNumber string `json:"bill_number"`
	Status     string `json:"status"`
	// Created is true for 201 (recorded now), false for 200 (recorded
	// before: a retry).
	Created bool `json:"-"`
}

var billRefRE = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

// ValidBillRef reports whether s is a bill reference the platform takes:
// 1–64 letters, digits or '-'.
func ValidBillRef(s string) bool { return billRefRE.MatchString(s) }

// Error is a refusal or failure the platform answered with.
type Error struct {
	Status     int
	Code       string // the platform's error code: bill_ref_conflict, invalid...
	Message    string
	RetryAfter time.Duration // from Retry-After on 429 and 503
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.Code != "" {
		return fmt.Sprintf("platform: %d %s: %s", e.Status, e.Code, msg)
	}
	return fmt.Sprintf("platform: %d: %s", e.Status, msg)
}

// Permanent reports whether err is an answer that retrying the same
// request will not change: 409 (the reference exists with other fields),
// 422 or 400 (a field is wrong), 404 (no such bill). 401/403 are not: they
// say the hub's configuration is wrong, for every bill alike.
func Permanent(err error) bool {
	var pe *Error
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Status {
	case http.StatusConflict, http.StatusUnprocessableEntity, http.StatusBadRequest, http.StatusNotFound:
		return true
	}
	return false
}

// RetryAfter is how long the platform asked to be left alone (0 if it did
// not say).
func RetryAfter(err error) time.Duration {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.RetryAfter
	}
	return 0
}

// Sign is the request signature: hex HMAC-SHA256 over method, path,
// timestamp and the body's SHA-256, one per line.
func Sign(secret, method, path, timestamp string, body []byte) string {
	sum := sha256.Sum256(body)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(method + "\n" + path + "\n" + timestamp + "\n" + hex.EncodeToString(sum[:])))
	return hex.EncodeToString(m.Sum(nil))
}

// Config configures a Client.
type Config struct {
	BaseURL string // e.g. https://platform.example/ (a path prefix is kept)
	Agency  string // X-Agency, e.g. KWS
	Secret  string
	// HTTP is the client (its Timeout bounds each request); a client with
	// a 30 s timeout if nil.
	HTTP *http.Client
	Now  func() time.Time // time.Now
}

// Client talks to the platform.
type Client struct {
	base *url.URL
	cfg  Config
}

// NewClient checks cfg and returns a client.
func NewClient(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(cfg.BaseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("platform URL %q is not an http(s) URL", cfg.BaseURL)
	}
	if cfg.Agency == "" || cfg.Secret == "" {
		return nil, errors.New("the platform needs an agency code and a secret")
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return &Client{base: u, cfg: cfg}, nil
}

// Agency is the agency code the client signs as.
func (c *Client) Agency() string { return c.cfg.Agency }

// PostBill posts a bill. A retry of a recorded bill answers as the first
// post did, with Created false.
func (c *Client) PostBill(ctx context.Context, b Bill) (Answer, error) {
	return c.post(ctx, "/api/v1/bills", b)
}

// PostReversal reverses the posted bill ref; reversing it again is not an
// error.
func (c *Client) PostReversal(ctx context.Context, ref string, r Reversal) (Answer, error) {
	if !ValidBillRef(ref) {
		return Answer{}, fmt.Errorf("bill_ref %q is not valid", ref)
	}
	return c.post(ctx, "/api/v1/bills/"+ref+"/reversal", r)
}

// GetBill returns the stored bill ref (a *Error with Status 404 if the
// platform has none).
func (c *Client) GetBill(ctx context.Context, ref string) (json.RawMessage, error) {
	if !ValidBillRef(ref) {
		return nil, fmt.Errorf("bill_ref %q is not valid", ref)
	}
	var out json.RawMessage
	_, err := c.do(ctx, http.MethodGet, "/api/v1/bills/"+ref, nil, &out)
	return out, err
}

func (c *Client) post(ctx context.Context, path string, v any) (Answer, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return Answer{}, fmt.Errorf("platform %s: %w", path, err)
	}
	var a Answer
	status, err := c.do(ctx, http.MethodPost, path, body, &a)
	a.Created = status == http.StatusCreated
	return a, err
}

// maxAnswer bounds what is read of an answer: a page of tickets is well
// under it.
const maxAnswer = 4 << 20

func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) (int, error) {
	u := *c.base
	p, query, _ := strings.Cut(path, "?")
	u.Path += p
	u.RawQuery = query
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("platform %s %s: %w", method, path, err)
	}
	stamp := c.cfg.Now().UTC().Format(time.RFC3339)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Agency", c.cfg.Agency)
	req.Header.Set("X-Timestamp", stamp)
	req.Header.Set("X-Signature", Sign(c.cfg.Secret, method, req.URL.EscapedPath(), stamp, body))
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		return 0, fmt.Errorf("platform %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("platform %s %s: reading the answer: %w", method, path, err)
	}
	if len(data) > maxAnswer {
		return resp.StatusCode, &Error{Status: resp.StatusCode, Code: "too_large",
			Message: fmt.Sprintf("the platform's answer to %s %s is larger than %d MiB: refused", method, path, maxAnswer>>20)}
	}
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("platform %s %s: the answer is not JSON: %w", method, path, err)
		}
		return resp.StatusCode, nil
	}
	pe := &Error{Status: resp.StatusCode}
	var e struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &e) == nil {
		pe.Code, pe.Message = e.Error, e.Message
	}
	if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s > 0 {
		pe.RetryAfter = time.Duration(min(s, 3600)) * time.Second
	}
	return resp.StatusCode, pe
}
