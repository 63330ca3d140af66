// Package mpesa reconciles the M-PESA codes that terminals recorded offline
// with what M-PESA says happened. The hub receives Daraja C2B confirmations
// (validation and confirmation URLs), keeps them in a ledger, matches each
// sale's code by code, amount and account reference, and after a grace
// period asks Daraja's Transaction Status API (answered asynchronously on a
// result URL) about the codes still unmatched.
//
// The JSON shapes are Daraja's as documented; a stand-in server speaking
// them drives the tests. Credentials come from configuration, never from
// the repository.
package mpesa

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lango-pos/lango/terminal"
)

// Confirmation is a C2B confirmation (and validation request) as Daraja
// posts it.
type Confirmation struct {
	TransactionType   string `json:"TransactionType"`
	TransID           string `json:"TransID"`
	TransTime         string `json:"TransTime"` // YYYYMMDDHHmmss, Nairobi time
	TransAmount       string `json:"TransAmount"`
	BusinessShortCode string `json:"BusinessShortCode"`
	BillRefNumber     string `json:"BillRefNumber"`
	InvoiceNumber     string `json:"InvoiceNumber"`
	OrgAccountBalance string `json:"OrgAccountBalance"`
	ThirdPartyTransID string `json:"ThirdPartyTransID"`
	MSISDN            string `json:"MSISDN"` // masked by Daraja
	FirstName         string `json:"FirstName"`
	MiddleName        string `json:"MiddleName"`
	LastName          string `json:"LastName"`
}

// Payment is a confirmed M-PESA payment, validated.
type Payment struct {
	Code      string    `json:"code"`
	Amount    int64     `json:"amount"` // KES minor units
	Account   string    `json:"account"`
	ShortCode string    `json:"short_code"`
	At        time.Time `json:"at"`
	Source    string    `json:"source"` // c2b, status or pull
}

var (
	codeRE      = regexp.MustCompile(`^[A-Z0-9]{10}$`)
	shortCodeRE = regexp.MustCompile(`^[0-9]{5,7}$`)
	amountRE    = regexp.MustCompile(`^[0-9]{1,10}(\.[0-9]{1,2})?$`)
)

// ParseAmount reads a Daraja amount ("1500", "1500.00") into KES minor
// units.
func ParseAmount(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if !amountRE.MatchString(s) {
		return 0, fmt.Errorf("amount %q is not a KES amount", s)
	}
	return terminal.ParseMajor("KES", s)
}

// ValidShortCode checks a paybill (business short code): 5 to 7 digits.
func ValidShortCode(s string) error {
	if !shortCodeRE.MatchString(s) {
		return fmt.Errorf("%q is not a paybill number (5 to 7 digits)", s)
	}
	return nil
}

// Payment validates a confirmation and returns the payment it records.
func (c Confirmation) Payment(loc *time.Location) (Payment, error) {
	p := Payment{Code: strings.TrimSpace(c.TransID), Account: strings.TrimSpace(c.BillRefNumber), ShortCode: strings.TrimSpace(c.BusinessShortCode), Source: "c2b"}
	if !codeRE.MatchString(p.Code) {
		return p, fmt.Errorf("TransID %q is not an M-PESA code", c.TransID)
	}
	if !shortCodeRE.MatchString(p.ShortCode) {
		return p, fmt.Errorf("BusinessShortCode %q is not a short code", c.BusinessShortCode)
	}
	if len(p.Account) > 40 {
		return p, fmt.Errorf("BillRefNumber is longer than 40 characters")
	}
	amt, err := ParseAmount(c.TransAmount)
	if err != nil {
		return p, err
	}
	if amt <= 0 {
		return p, fmt.Errorf("amount %q is not positive", c.TransAmount)
	}
	p.Amount = amt
	t, err := time.ParseInLocation("20060102150405", c.TransTime, loc)
	if err != nil {
		return p, fmt.Errorf("TransTime %q is not YYYYMMDDHHmmss", c.TransTime)
	}
	p.At = t
	return p, nil
}

// Ack is the answer to a validation or confirmation call.
type Ack struct {
	ResultCode any    `json:"ResultCode"` // Daraja accepts 0 or "0"
	ResultDesc string `json:"ResultDesc"`
}

// StatusRequest is a Transaction Status query.
type StatusRequest struct {
	Initiator          string `json:"Initiator"`
	SecurityCredential string `json:"SecurityCredential"`
	CommandID          string `json:"CommandID"` // TransactionStatusQuery
	TransactionID      string `json:"TransactionID"`
	PartyA             string `json:"PartyA"`
	IdentifierType     string `json:"IdentifierType"` // 4: organisation short code
	ResultURL          string `json:"ResultURL"`
	QueueTimeOutURL    string `json:"QueueTimeOutURL"`
	Remarks            string `json:"Remarks"`
	Occasion           string `json:"Occasion"`
}

// StatusAck is Daraja's synchronous answer to a query: accepted for
// processing, the result comes later on ResultURL.
type StatusAck struct {
	OriginatorConversationID string `json:"OriginatorConversationID"`
	ConversationID           string `json:"ConversationID"`
	ResponseCode             string `json:"ResponseCode"`
	ResponseDescription      string `json:"ResponseDescription"`
}

// StatusResult is the asynchronous result posted to ResultURL.
type StatusResult struct {
	Result struct {
		ResultType               int    `json:"ResultType"`
		ResultCode               int    `json:"ResultCode"`
		ResultDesc               string `json:"ResultDesc"`
		OriginatorConversationID string `json:"OriginatorConversationID"`
		ConversationID           string `json:"ConversationID"`
		TransactionID            string `json:"TransactionID"`
		ResultParameters         struct {
			ResultParameter []Param `json:"ResultParameter"`
		} `json:"ResultParameters"`
	} `json:"Result"`
}

// Param is a key/value of a result.
type Param struct {
	Key   string          `json:"Key"`
	Value json.RawMessage `json:"Value"`
}

// Get returns a parameter's value as text.
func (r StatusResult) Get(key string) string {
	for _, p := range r.Result.ResultParameters.ResultParameter {
		if p.Key != key {
			continue
		}
		var s string
		if json.Unmarshal(p.Value, &s) == nil {
			return s
		}
		var f json.Number
		if json.Unmarshal(p.Value, &f) == nil {
			return f.String()
		}
	}
	return ""
}

// Payment reads the payment a successful status result describes: the
// ReceiptNo, Amount, FinalisedTime and the account reference where given.
func (r StatusResult) Payment(loc *time.Location) (Payment, error) {
	// A status result names no account reference (ReasonType is the
	// kind of payment, "Pay Bill Online"): the account is left unknown.
	p := Payment{Code: strings.TrimSpace(r.Get("ReceiptNo")), Source: "status"}
	if p.Code == "" {
		p.Code = strings.TrimSpace(r.Result.TransactionID)
	}
	if !codeRE.MatchString(p.Code) {
		return p, fmt.Errorf("status result: receipt %q is not an M-PESA code", p.Code)
	}
	amt, err := ParseAmount(r.Get("Amount"))
	if err != nil {
		return p, fmt.Errorf("status result: %w", err)
	}
	p.Amount = amt
	if t, err := time.ParseInLocation("20060102150405", r.Get("FinalisedTime"), loc); err == nil {
		p.At = t
	}
	if s := r.Get("DebitPartyName"); s != "" {
		p.ShortCode = ""
	}
	if v := r.Get("CreditPartyName"); v != "" {
		if sc, _, ok := strings.Cut(v, " - "); ok && shortCodeRE.MatchString(sc) {
			p.ShortCode = sc
		}
	}
	return p, nil
}

// parseInt is strconv.Atoi for the few integer fields.
func parseInt(s string) int { n, _ := strconv.Atoi(s); return n }
