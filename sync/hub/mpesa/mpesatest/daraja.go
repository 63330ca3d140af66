// Package mpesatest is a Daraja stand-in for tests: an HTTP server that
// issues OAuth tokens and answers Transaction Status queries the way
// Safaricom's API is documented to — an acknowledgement at once, the result
// posted later to the query's ResultURL. It defines its own JSON shapes, so
// that it checks the client's wire format rather than sharing it.
package mpesatest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
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
	txns map[string]int64 // code → KES minor units: what M-PESA holds
	n    int
	wg   sync.WaitGroup
	// Queries counts the status queries received.
	Queries int
}

// NewDaraja starts a stand-in for the life of the test.
func NewDaraja(t testing.TB) *Daraja {
	d := &Daraja{txns: map[string]int64{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth/v1/generate", d.token)
	mux.HandleFunc("POST /mpesa/transactionstatus/v1/query", d.query)
	d.srv = httptest.NewServer(mux)
	t.Cleanup(func() { d.Wait(); d.srv.Close() })
	return d
}

// URL is the stand-in's base URL.
func (d *Daraja) URL() string { return d.srv.URL }

// Know makes M-PESA hold a completed payment.
func (d *Daraja) Know(code string, minor int64) {
	d.mu.Lock()
	d.txns[code] = minor
	d.mu.Unlock()
}

// Wait waits for the results posted so far.
func (d *Daraja) Wait() { d.wg.Wait() }

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
	d.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]string{
		"OriginatorConversationID": fmt.Sprintf("%d-%d-1", 10000+d.n, 20000+d.n), "ConversationID": conv,
		"ResponseCode": "0", "ResponseDescription": "Accept the service request successfully.",
	})
	result := map[string]any{"ResultType": 0, "ConversationID": conv, "OriginatorConversationID": "o" + conv, "TransactionID": q.TransactionID}
	if known {
		result["ResultCode"], result["ResultDesc"] = 0, "The service request is processed successfully."
		result["ResultParameters"] = map[string]any{"ResultParameter": []param{
			{"DebitPartyName", "254722000000 - JOHN DOE"},
			{"CreditPartyName", q.PartyA + " - eCitizen"},
			{"ReceiptNo", q.TransactionID},
			{"TransactionStatus", "Completed"},
			{"ReasonType", "Pay Bill Online"},
			{"FinalisedTime", 20240103091500},
			{"Amount", float64(amt) / 100},
		}}
	} else {
		result["ResultCode"], result["ResultDesc"] = 2001, "The initiator information is invalid."
	}
	body, _ := json.Marshal(map[string]any{"Result": result})
	d.wg.Add(1)
	go func() { // asynchronous, like Daraja
		defer d.wg.Done()
		time.Sleep(10 * time.Millisecond)
		if resp, err := http.Post(q.ResultURL, "application/json", bytes.NewReader(body)); err == nil {
			resp.Body.Close()
		}
	}()
}
