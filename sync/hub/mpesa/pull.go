package mpesa

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Daraja's Pull Transactions API: the paybill's own record of what it
// received, asked for by time window and paged by offset. The hub polls
// it (Puller), so a payment whose C2B confirmation never arrived is still
// in the ledger, and reconciliation sees what the paybill actually
// received.

// PullRegisterRequest registers a short code for Pull Transactions.
type PullRegisterRequest struct {
	ShortCode       string `json:"ShortCode"`
	RequestType     string `json:"RequestType"` // Pull
	NominatedNumber string `json:"NominatedNumber"`
	CallBackURL     string `json:"CallBackURL"`
}

// PullRegisterAck is Daraja's answer to a registration.
type PullRegisterAck struct {
	ResponseRefID       string `json:"ResponseRefID"`
	ResponseStatus      string `json:"ResponseStatus"`
	ShortCode           string `json:"ShortCode"`
	ResponseDescription string `json:"ResponseDescription"`
}

// PullQuery asks for a short code's transactions between two times
// (Nairobi, "2006-01-02 15:04:05"), from an offset.
type PullQuery struct {
	ShortCode   string `json:"ShortCode"`
	StartDate   string `json:"StartDate"`
	EndDate     string `json:"EndDate"`
	OffSetValue string `json:"OffSetValue"`
}

// PullAnswer is a page of transactions.
type PullAnswer struct {
	ResponseRefID   string              `json:"ResponseRefID"`
	ResponseCode    string              `json:"ResponseCode"` // 1000: success
	ResponseMessage string              `json:"ResponseMessage"`
	Response        [][]PullTransaction `json:"Response"`
}

// PullTransaction is one transaction of a page.
type PullTransaction struct {
	TransactionID    string      `json:"transactionId"`
	TrxDate          string      `json:"trxDate"`
	MSISDN           json.Number `json:"msisdn"`
	Sender           string      `json:"sender"`
	TransactionType  string      `json:"transactiontype"`
	BillReference    string      `json:"billreference"`
	Amount           json.Number `json:"amount"`
	OrganizationName string      `json:"organizationname"`
}

// pullDateFormat is how Daraja writes the query's window.
const pullDateFormat = "2006-01-02 15:04:05"

// Payment validates a pulled transaction of shortCode and returns the
// payment it records.
func (tx PullTransaction) Payment(shortCode string, loc *time.Location) (Payment, error) {
	p := Payment{Code: strings.TrimSpace(tx.TransactionID), Account: strings.TrimSpace(tx.BillReference), ShortCode: shortCode, Source: "pull"}
	if !codeRE.MatchString(p.Code) {
		return p, fmt.Errorf("pulled transaction %q is not an M-PESA code", tx.TransactionID)
	}
	if len(p.Account) > 40 {
		return p, fmt.Errorf("pulled transaction %s: bill reference longer than 40 characters", p.Code)
	}
	amt, err := ParseAmount(tx.Amount.String())
	if err != nil {
		return p, fmt.Errorf("pulled transaction %s: %w", p.Code, err)
	}
	if amt <= 0 {
		return p, fmt.Errorf("pulled transaction %s: amount %q is not positive", p.Code, tx.Amount)
	}
	p.Amount = amt
	at, err := time.Parse(time.RFC3339, tx.TrxDate)
	if err != nil {
		if at, err = time.ParseInLocation(pullDateFormat, tx.TrxDate, loc); err != nil {
			return p, fmt.Errorf("pulled transaction %s: trxDate %q is not a time", p.Code, tx.TrxDate)
		}
	}
	p.At = at
	return p, nil
}

func (c *Client) post(ctx context.Context, path string, body, answer any) (int, error) {
	tok, err := c.accessToken(ctx)
	if err != nil {
		return 0, err
	}
	b, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL+path, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(answer); err != nil {
		return resp.StatusCode, fmt.Errorf("%s, unreadable answer", resp.Status)
	}
	return resp.StatusCode, nil
}

// RegisterPull registers shortCode for Pull Transactions; a short code
// registered already is no error.
func (c *Client) RegisterPull(ctx context.Context, shortCode, nominated, callbackURL string) error {
	var ack PullRegisterAck
	st, err := c.post(ctx, "/pulltransactions/v1/register", PullRegisterRequest{ShortCode: shortCode, RequestType: "Pull", NominatedNumber: nominated, CallBackURL: callbackURL}, &ack)
	if err != nil {
		return fmt.Errorf("daraja pull registration of %s: %w", shortCode, err)
	}
	if st != http.StatusOK || (ack.ResponseStatus != "1000" && ack.ResponseStatus != "1001") {
		return fmt.Errorf("daraja pull registration of %s refused: %d %s %s", shortCode, st, ack.ResponseStatus, ack.ResponseDescription)
	}
	return nil
}

// PullPage returns the page of shortCode's transactions between from and
// to that starts at offset; an empty page is the end.
func (c *Client) PullPage(ctx context.Context, shortCode string, from, to time.Time, offset int, loc *time.Location) ([]PullTransaction, error) {
	var ans PullAnswer
	q := PullQuery{ShortCode: shortCode, StartDate: from.In(loc).Format(pullDateFormat), EndDate: to.In(loc).Format(pullDateFormat), OffSetValue: fmt.Sprint(offset)}
	st, err := c.post(ctx, "/pulltransactions/v1/query", q, &ans)
	if err != nil {
		return nil, fmt.Errorf("daraja pull of %s: %w", shortCode, err)
	}
	if st != http.StatusOK || ans.ResponseCode != "1000" {
		return nil, fmt.Errorf("daraja pull of %s refused: %d %s %s", shortCode, st, ans.ResponseCode, ans.ResponseMessage)
	}
	var out []PullTransaction
	for _, page := range ans.Response {
		out = append(out, page...)
	}
	return out, nil
}

// Puller polls Pull Transactions for each paybill and stores the
// payments in the ledger. Each run asks for the window from the paybill's
// cursor (less Overlap, for payments Daraja posts late) to now, page by
// page, and moves the cursor to now only once every page is stored, so a
// run that fails is done again; payments already held (by C2B, by an
// earlier run, by another hub process) stay one row each.
type Puller struct {
	Client *Client
	Ledger Ledger
	// ShortCodes are the paybills pulled: the sites' mpesa_paybill and
	// their spares.
	ShortCodes []string
	// Lookback is how far back the first run of a paybill asks (24 h).
	Lookback time.Duration
	// Overlap is how far behind its cursor each run starts again (10 min).
	Overlap  time.Duration
	Location *time.Location
	Now      func() time.Time
}

// maxPullPages bounds one paybill's run: a stand-in or a Daraja that
// pages forever stops here with an error.
const maxPullPages = 10000

// Once pulls every paybill; it returns how many payments were new.
func (p *Puller) Once(ctx context.Context) (int, error) {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	loc := p.Location
	if loc == nil {
		loc = nairobi()
	}
	lookback, overlap := p.Lookback, p.Overlap
	if lookback <= 0 {
		lookback = 24 * time.Hour
	}
	if overlap <= 0 {
		overlap = 10 * time.Minute
	}
	added := 0
	var errs []error
	for _, sc := range p.ShortCodes {
		to := now()
		from := to.Add(-lookback)
		if at, ok, err := p.Ledger.MpesaPullCursor(ctx, sc); err != nil {
			errs = append(errs, err)
			continue
		} else if ok {
			from = at.Add(-overlap)
		}
		n, err := p.pull(ctx, sc, from, to, loc, now)
		added += n
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := p.Ledger.SetMpesaPullCursor(ctx, sc, to); err != nil {
			errs = append(errs, err)
		}
	}
	return added, errors.Join(errs...)
}

func (p *Puller) pull(ctx context.Context, sc string, from, to time.Time, loc *time.Location, now func() time.Time) (int, error) {
	added, offset := 0, 0
	for range maxPullPages {
		page, err := p.Client.PullPage(ctx, sc, from, to, offset, loc)
		if err != nil {
			return added, err
		}
		if len(page) == 0 {
			return added, nil
		}
		// Check the whole page before storing any of it.
		ps := make([]Payment, 0, len(page))
		for _, tx := range page {
			pay, err := tx.Payment(sc, loc)
			if err != nil {
				return added, fmt.Errorf("daraja pull of %s: %w", sc, err)
			}
			ps = append(ps, pay)
		}
		for _, pay := range ps {
			ok, err := p.Ledger.AddMpesaPayment(ctx, pay, now())
			if err != nil {
				return added, err
			}
			if ok {
				added++
			}
		}
		offset += len(page)
	}
	return added, fmt.Errorf("daraja pull of %s: more than %d pages", sc, maxPullPages)
}

func nairobi() *time.Location {
	loc, err := time.LoadLocation("Africa/Nairobi")
	if err != nil {
		return time.FixedZone("EAT", 3*60*60)
	}
	return loc
}
