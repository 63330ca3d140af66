package mpesa

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Config holds Daraja credentials and URLs. They come from the hub's
// configuration (environment), never from the repository.
type Config struct {
	BaseURL            string // https://api.safaricom.co.ke, or a stand-in
	ConsumerKey        string
	ConsumerSecret     string
	Initiator          string // the API operator
	SecurityCredential string // the operator's password encrypted with M-PESA's certificate
	ShortCode          string // the paybill, e.g. 222222
	ResultURL          string // where Daraja posts status results: the hub's /mpesa/result
	TimeoutURL         string
}

// Client calls Daraja's Transaction Status API.
type Client struct {
	cfg  Config
	http *http.Client

	mu      sync.Mutex
	token   string
	expires time.Time
}

// NewClient returns a client; hc nil uses a client with a 30 s timeout.
func NewClient(cfg Config, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return &Client{cfg: cfg, http: hc}
}

func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && time.Now().Before(c.expires) {
		return c.token, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.BaseURL+"/oauth/v1/generate?grant_type=client_credentials", nil)
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(c.cfg.ConsumerKey, c.cfg.ConsumerSecret)
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("daraja token: %w", err)
	}
	defer resp.Body.Close()
	var t struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   string `json:"expires_in"`
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("daraja token: %s", resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&t); err != nil || t.AccessToken == "" {
		return "", fmt.Errorf("daraja token: unreadable answer")
	}
	c.token = t.AccessToken
	c.expires = time.Now().Add(time.Duration(max(parseInt(t.ExpiresIn)-60, 60)) * time.Second)
	return c.token, nil
}

// QueryStatus asks Daraja about a transaction; the answer comes later on
// the result URL. It returns Daraja's conversation id.
func (c *Client) QueryStatus(ctx context.Context, code string) (string, error) {
	tok, err := c.accessToken(ctx)
	if err != nil {
		return "", err
	}
	body, _ := json.Marshal(StatusRequest{
		Initiator: c.cfg.Initiator, SecurityCredential: c.cfg.SecurityCredential, CommandID: "TransactionStatusQuery",
		TransactionID: code, PartyA: c.cfg.ShortCode, IdentifierType: "4", ResultURL: c.cfg.ResultURL,
		QueueTimeOutURL: c.cfg.TimeoutURL, Remarks: "Lango reconciliation", Occasion: "offline sale",
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL+"/mpesa/transactionstatus/v1/query", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("daraja status query: %w", err)
	}
	defer resp.Body.Close()
	var ack StatusAck
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&ack); err != nil {
		return "", fmt.Errorf("daraja status query: %s, unreadable answer", resp.Status)
	}
	if resp.StatusCode != http.StatusOK || ack.ResponseCode != "0" || ack.ConversationID == "" {
		return "", fmt.Errorf("daraja status query for %s refused: %s %s", code, resp.Status, ack.ResponseDescription)
	}
	return ack.ConversationID, nil
}
