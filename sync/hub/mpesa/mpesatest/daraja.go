// Package mpesatest is a Daraja stand-in for tests: an HTTP server that
// issues OAuth tokens, answers Transaction Status queries the way
// Safaricom's API is documented to — an acknowledgement at once, the result
// posted later to the query's ResultURL —, serves the Pull Transactions API
// (register, then query by time window, paged by offset) and posts C2B
// confirmations of the payments it receives, unless told to drop them. It
// defines its own JSON shapes, so that it checks the client's wire format
// rather than sharing it.
package mpesatest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Credentials the stand-in accepts.
const (
	ConsumerKey    = "key"
	ConsumerSecret = "secret"
)

// Daraja is the stand-in.
type Daraja struct {
	srv  *httptest.Server
	mu   sync.Mutex
	txns map[string]int64     // code → KES minor units: what M-PESA holds
	when map[string]time.Time // code → when it was paid
	paid []Payment            // what the paybills received, in order
	reg  map[string]bool      // short codes registered for Pull Transactions
	n    int
	wg   sync.WaitGroup
	// Queries counts the status queries received, Pulls the Pull
	// Transactions queries.
	Queries, Pulls int
	// PageSize is how many transactions a pull page holds (Daraja's is
	// larger; small here, so that tests page).
	PageSize int
	// ConfirmationURL is where Pay posts C2B confirmations ("": none).
	ConfirmationURL string
	// DropCallbacks makes Pay post no confirmation: the callback lost.
	DropCallbacks bool
}

// Payment is a payment a paybill received.
type Payment struct {
	ShortCode string
	Code      string
	Amount    int64 // KES minor units
	Account   string
	At        time.Time
}

var nairobi = time.FixedZone("EAT", 3*60*60)

// NewDaraja starts a stand-in for the life of the test.
func NewDaraja(t testing.TB) *Daraja {
	d := &Daraja{txns: map[string]int64{}, when: map[string]time.Time{}, reg: map[string]bool{}, PageSize: 2}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth/v1/generate", d.token)
	mux.HandleFunc("POST /mpesa/transactionstatus/v1/query", d.query)
	mux.HandleFunc("POST /pulltransactions/v1/register", d.pullRegister)
	mux.HandleFunc("POST /pulltransactions/v1/query", d.pullQuery)
	d.srv = httptest.NewServer(mux)
	t.Cleanup(func() { d.Wait(); d.srv.Close() })
	return d
}

// URL is the stand-in's base URL.
func (d *Daraja) URL() string { return d.srv.URL }

// Know makes M-PESA hold a completed payment.
func (d *Daraja) Know(code string, minor int64) {
	d.KnowAt(code, minor, time.Date(2024, 1, 3, 9, 15, 0, 0, nairobi))
}

// KnowAt makes M-PESA hold a completed payment made at a given time.
func (d *Daraja) KnowAt(code string, minor int64, at time.Time) {
	d.mu.Lock()
	d.txns[code], d.when[code] = minor, at
	d.mu.Unlock()
}

// Pay makes a paybill receive a payment: M-PESA holds it (status queries
// and pulls find it) and, unless DropCallbacks, its C2B confirmation is
// posted to ConfirmationURL before Pay returns; the confirmation's HTTP
// status is returned (0 when none was posted).
func (d *Daraja) Pay(t testing.TB, p Payment) int {
	t.Helper()
	d.mu.Lock()
	d.txns[p.Code], d.when[p.Code] = p.Amount, p.At
	d.paid = append(d.paid, p)
	url, drop := d.ConfirmationURL, d.DropCallbacks
	d.mu.Unlock()
	if url == "" || drop {
		return 0
	}
	body, _ := json.Marshal(map[string]string{
		"TransactionType": "Pay Bill", "TransID": p.Code, "TransTime": p.At.In(nairobi).Format("20060102150405"),
		"TransAmount": strconv.FormatFloat(float64(p.Amount)/100, 'f', 2, 64), "BusinessShortCode": p.ShortCode,
		"BillRefNumber": p.Account, "MSISDN": "2547 ***** 126", "FirstName": "JOHN",
	})
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("stand-in C2B confirmation of %s: %v", p.Code, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (d *Daraja) authorized(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Authorization") != "Bearer standin-token" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"errorCode":"404.001.03","errorMessage":"Invalid Access Token"}`)
		return false
	}
	return true
}

func (d *Daraja) pullRegister(w http.ResponseWriter, r *http.Request) {
	if !d.authorized(w, r) {
		return
	}
	var q struct{ ShortCode, RequestType, NominatedNumber, CallBackURL string }
	if err := json.NewDecoder(r.Body).Decode(&q); err != nil || q.ShortCode == "" || q.RequestType != "Pull" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"errorCode":"400.002.02","errorMessage":"Bad Request - Invalid parameters"}`)
		return
	}
	d.mu.Lock()
	already := d.reg[q.ShortCode]
	d.reg[q.ShortCode] = true
	d.mu.Unlock()
	status, desc := "1000", "ShortCode Registered Successfully"
	if already {
		status, desc = "1001", "ShortCode already Registered"
	}
	json.NewEncoder(w).Encode(map[string]string{"ResponseRefID": "ref-" + q.ShortCode, "ResponseStatus": status, "ShortCode": q.ShortCode, "ResponseDescription": desc})
}

// pullQuery answers a page: the registered short code's payments with
// StartDate ≤ time ≤ EndDate (Nairobi), in time order, from OffSetValue.
func (d *Daraja) pullQuery(w http.ResponseWriter, r *http.Request) {
	if !d.authorized(w, r) {
		return
	}
	var q struct{ ShortCode, StartDate, EndDate, OffSetValue string }
	bad := func(msg string) {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"errorCode": "400.002.02", "errorMessage": "Bad Request - " + msg})
	}
	if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
		bad("Invalid parameters")
		return
	}
	from, err1 := time.ParseInLocation("2006-01-02 15:04:05", q.StartDate, nairobi)
	to, err2 := time.ParseInLocation("2006-01-02 15:04:05", q.EndDate, nairobi)
	off, err3 := strconv.Atoi(q.OffSetValue)
	if err1 != nil || err2 != nil || err3 != nil || off < 0 || to.Before(from) {
		bad("Invalid StartDate, EndDate or OffSetValue")
		return
	}
	d.mu.Lock()
	d.Pulls++
	registered := d.reg[q.ShortCode]
	var in []Payment
	for _, p := range d.paid {
		at := p.At.Truncate(time.Second)
		if p.ShortCode == q.ShortCode && !at.Before(from) && !at.After(to) {
			in = append(in, p)
		}
	}
	size := d.PageSize
	d.mu.Unlock()
	if !registered {
		bad("ShortCode not registered for Pull")
		return
	}
	slices.SortStableFunc(in, func(a, b Payment) int { return a.At.Compare(b.At) })
	page := []map[string]any{}
	for i := off; i < len(in) && i < off+size; i++ {
		p := in[i]
		page = append(page, map[string]any{
			"transactionId": p.Code, "trxDate": p.At.In(nairobi).Format(time.RFC3339), "msisdn": 254722000000, "sender": "UNKNOWN",
			"transactiontype": "c2b-pay-bill-debit", "billreference": p.Account, "amount": strconv.FormatFloat(float64(p.Amount)/100, 'f', 2, 64),
			"organizationname": "Kenya Wildlife Service",
		})
	}
	json.NewEncoder(w).Encode(map[string]any{"ResponseRefID": fmt.Sprintf("pull-%d", off), "ResponseCode": "1000", "ResponseMessage": "Success", "Response": [][]map[string]any{page}})
}

// Wait waits for the results posted so far.
func (d *Daraja) Wait() { d.wg.Wait() }

// PullCount is how many pull queries the fake has answered; safe while the
// hub's puller is still querying.
func (d *Daraja) PullCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Pulls
}

func (d *Daraja) token(w http.ResponseWriter, r *http.Request) {
	if u, p, ok := r.BasicAuth(); !ok || u != ConsumerKey || p != ConsumerSecret || r.URL.Query().Get("grant_type") != "client_credentials" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"errorCode":"400.008.01","errorMessage":"Invalid Authentication passed"}`)
		return
	}
	fmt.Fprint(w, `{"access_token":"standin-token","expires_in":"3599"}`)
}

type param struct {
	Key   string `json:"Key"`
	Value any    `json:"Value"`
}

func (d *Daraja) query(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer standin-token" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"errorCode":"404.001.03","errorMessage":"Invalid Access Token"}`)
		return
	}
	var q struct {
		Initiator, SecurityCredential, CommandID, TransactionID, PartyA, IdentifierType, ResultURL, QueueTimeOutURL, Remarks, Occasion string
	}
	if err := json.NewDecoder(r.Body).Decode(&q); err != nil || q.CommandID != "TransactionStatusQuery" || q.TransactionID == "" || q.ResultURL == "" || q.IdentifierType != "4" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"errorCode":"400.002.02","errorMessage":"Bad Request - Invalid parameters"}`)
		return
	}
	d.mu.Lock()
	d.n++
	d.Queries++
	conv := fmt.Sprintf("AG_20240103_%020d", d.n)
	amt, known := d.txns[q.TransactionID]
	finalised, _ := strconv.ParseInt(d.when[q.TransactionID].In(nairobi).Format("20060102150405"), 10, 64)
	d.mu.Unlock()
	result := map[string]any{"ResultType": 0, "ConversationID": conv, "OriginatorConversationID": "o" + conv, "TransactionID": q.TransactionID}
	if known {
		result["ResultCode"], result["ResultDesc"] = 0, "The service request is processed successfully."
		result["ResultParameters"] = map[string]any{"ResultParameter": []param{
			{"DebitPartyName", "254722000000 - JOHN DOE"},
			{"CreditPartyName", q.PartyA + " - eCitizen"},
			{"ReceiptNo", q.TransactionID},
			{"TransactionStatus", "Completed"},
			{"ReasonType", "Pay Bill Online"},
			{"FinalisedTime", finalised},
			{"Amount", float64(amt) / 100},
		}}
	} else {
		result["ResultCode"], result["ResultDesc"] = 2001, "The initiator information is invalid."
	}
	body, _ := json.Marshal(map[string]any{"Result": result})
	// Counted before the acknowledgement leaves, so that Wait after the
	// client's call returns waits for this result too.
	d.wg.Add(1)
	json.NewEncoder(w).Encode(map[string]string{
		"OriginatorConversationID": fmt.Sprintf("o%s", conv), "ConversationID": conv,
		"ResponseCode": "0", "ResponseDescription": "Accept the service request successfully.",
	})
	go func() { // asynchronous, like Daraja
		defer d.wg.Done()
		// Delivered again while refused (Daraja retries its callbacks): the
		// result may reach the hub before it has recorded the query.
		for range 20 {
			time.Sleep(10 * time.Millisecond)
			resp, err := http.Post(q.ResultURL, "application/json", bytes.NewReader(body))
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
			}
		}
	}()
}
