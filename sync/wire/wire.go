// Package wire is the Lango sync protocol, version 1: the HTTP paths, the
// JSON bodies the terminal and the hub exchange, and the request signature.
// docs/SYNC-PROTOCOL.md is its specification; this package is the reference.
package wire

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Paths of protocol v1.
const (
	PathEnroll    = "/v1/enroll"
	PathState     = "/v1/state"
	PathEvents    = "/v1/events"
	PathFeed      = "/v1/feed"
	PathCatalogue = "/v1/catalogue"
	PathHealth    = "/healthz"
	PathMetrics   = "/metrics"
)

// Request headers of a signed request, and the header every hub answer
// carries with the hub's clock.
const (
	HeaderTerminal  = "Lango-Terminal"  // the terminal id (a UUID)
	HeaderTime      = "Lango-Time"      // Unix milliseconds, hub-corrected
	HeaderNonce     = "Lango-Nonce"     // 32 hex digits, fresh per request
	HeaderSignature = "Lango-Signature" // base64 (standard) Ed25519 signature
	HeaderHubTime   = "Lango-Hub-Time"  // Unix milliseconds, in every answer
)

// Limits.
const (
	// MaxBody bounds a request body both as sent (compressed) and once
	// decompressed; the hub answers 413 past it.
	MaxBody = 8 << 20
	// ClockTolerance is how far a request's Lango-Time may be from the
	// hub's clock.
	ClockTolerance = 5 * time.Minute
	// MaxBatch is the most events one upload may carry.
	MaxBatch = 5000
	// MaxFeedPage is the most events one feed answer carries.
	MaxFeedPage = 1000
	// MaxSeq is the highest event seq the hub takes (2^40 - 1: a sale a
	// second for 30,000 years).
	MaxSeq = 1<<40 - 1
)

// FeedTypes are the event types the site feed carries from the other
// terminals of the site: what a terminal needs to refuse a pass that was
// voided, used or settled elsewhere, and the operators added, given a new
// PIN or disabled elsewhere, and the prepaid tickets let in elsewhere.
// The hub's partial index events_feed lists the same types.
var feedTypes = []string{TypeSaleVoided, TypePassSettled, TypePassUsed, TypeOperatorAdded, TypeOperatorPIN, TypeOperatorOff, TypeMpesaUsed, TypeBankUsed, TypeTicketUsed}

// FeedTypes returns the event types the site feed carries.
func FeedTypes() []string { return append([]string(nil), feedTypes...) }

// Error codes in an ErrorBody.
const (
	CodeMalformed     = "malformed"      // 400: the body or a header cannot be read
	CodeInvalid       = "invalid"        // 400: readable but refused (wrong terminal, bad event)
	CodeUnauthorized  = "unauthorized"   // 401: missing or bad signature, unknown terminal
	CodeClockSkew     = "clock_skew"     // 401: Lango-Time too far from the hub's clock
	CodeReplay        = "replay"         // 401: this nonce was already seen
	CodeRevoked       = "revoked"        // 403: the terminal was revoked
	CodeForbidden     = "forbidden"      // 403: another site's data
	CodeTokenInvalid  = "token_invalid"  // 403: unknown, used or expired enrollment token
	CodeNotFound      = "not_found"      // 404
	CodeGap           = "gap"            // 409: the batch does not follow the hub's last_seq
	CodeFork          = "fork"           // 409: the hub holds other events at these seqs
	CodeConflict      = "conflict"       // 409: other clashes (name taken, duplicate event id)
	CodeTooLarge      = "too_large"      // 413
	CodeEncoding      = "bad_encoding"   // 415: Content-Encoding other than gzip or identity
	CodeInternal      = "internal"       // 500
	CodeUnavailable   = "unavailable"    // 503: shutting down, store busy
	CodeMethod        = "method"         // 405
	CodeWrongSite     = "wrong_site"     // 403: the token is for another site or name
	CodeNotEnrolled   = "not_enrolled"   // client side: no hub setting or key
	CodeNetwork       = "network"        // client side: the hub could not be reached
	CodeBadResponse   = "bad_response"   // client side: the hub's answer was unreadable
	CodeBadCatalogue  = "bad_catalogue"  // client side: a catalogue failed verification
	CodeTerminalAhead = "terminal_ahead" // client side: the hub holds more events than this store
)

// Error is a refusal: the JSON body of every answer that is not 2xx, and
// the error the client returns for it.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"error"`
	Message string `json:"message"`
	// LastSeq is the hub's last applied seq for this terminal, with gap and
	// fork.
	LastSeq *int64 `json:"last_seq,omitempty"`
	// HubTime is the hub's clock in Unix milliseconds, with clock_skew.
	HubTime int64 `json:"hub_time,omitempty"`
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("hub: %d %s: %s", e.Status, e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// EnrollRequest is the body of POST /v1/enroll, the one unsigned request:
// the token proves the hub operator's consent, Proof the key's possession.
type EnrollRequest struct {
	Token      string `json:"token"`
	TerminalID string `json:"terminal_id"`
	Site       string `json:"site"`
	Name       string `json:"name"`
	PublicKey  []byte `json:"public_key"` // 32 bytes, base64 in JSON
	Proof      []byte `json:"proof"`      // Ed25519 over EnrollMessage
}

// EnrollMessage is what the terminal signs to prove it holds the key it
// asks the hub to certify.
func EnrollMessage(token, terminalID string, pub []byte) []byte {
	b := []byte("LANGO-ENROLL-1")
	b = appendField(b, []byte(token))
	b = appendField(b, []byte(terminalID))
	return appendField(b, pub)
}

// EnrollResponse is the hub's answer to an enrollment.
type EnrollResponse struct {
	HubID       string `json:"hub_id"`
	TerminalID  string `json:"terminal_id"`
	Site        string `json:"site"`
	Name        string `json:"name"`
	Certificate string `json:"certificate"` // PEM, LANGO TERMINAL CERTIFICATE
	Authorities string `json:"authorities"` // PEM, one PUBLIC KEY block per site authority key
	LastSeq     int64  `json:"last_seq"`    // events the hub already holds of this terminal
	// Peers are the site's other enrolled terminals with their
	// certificates (Seq unused), so a new verifier holds them from the
	// start: the hub counts them as held (FeedRequest.Holds) at once.
	Peers []Peer `json:"peers,omitempty"`
}

// StateResponse is the answer to GET /v1/state: where the hub stands with
// this terminal.
type StateResponse struct {
	HubID        string `json:"hub_id"`
	TerminalID   string `json:"terminal_id"`
	Site         string `json:"site"`
	Name         string `json:"name"`
	LastSeq      int64  `json:"last_seq"`
	LastHash     string `json:"last_hash"`
	CatalogueSeq int64  `json:"catalogue_seq"` // newest catalogue published for the site
}

// UploadRequest is the body of POST /v1/events: consecutive events of the
// signing terminal, in seq order.
type UploadRequest struct {
	Events []Event `json:"events"`
}

// UploadResponse says what the hub holds after the batch.
type UploadResponse struct {
	HubID      string `json:"hub_id"`
	LastSeq    int64  `json:"last_seq"`
	LastHash   string `json:"last_hash"`
	Applied    int    `json:"applied"`
	Duplicates int    `json:"duplicates"`
}

// FeedRequest is the body of POST /v1/feed: how far the terminal has read
// each other terminal of its site, by that terminal's own seq.
type FeedRequest struct {
	Cursors map[string]int64 `json:"cursors"`
	Limit   int              `json:"limit,omitempty"`
	// RevocationsAfter is the number of the last revocation the terminal
	// holds (Revocation.N).
	RevocationsAfter int64 `json:"revocations_after,omitempty"`
	// TicketsAfter, when set, asks for the site's prepaid tickets of the
	// national platform whose hub change number is above it (0: from the
	// start); a terminal that leaves it out gets none.
	TicketsAfter *int64 `json:"tickets_after,omitempty"`
	// Holds lists the key ids (8 hex digits) of the peer certificates the
	// terminal holds (learnt from Peer.Certificate): the hub promises an
	// issuer compact passes only once every verifier of the site holds its
	// certificate (FeedResponse.Compact).
	Holds []string `json:"holds,omitempty"`
}

// Ticket is a prepaid ticket of the national platform, as the hub brought
// it down for the site's gates to check offline. N is the hub's change
// number: a changed ticket (cancelled) comes again with a higher one.
type Ticket struct {
	N         int64           `json:"n"`
	TicketNo  string          `json:"ticket_no"`
	Site      string          `json:"site"`
	Day       string          `json:"day"`
	ValidFrom time.Time       `json:"valid_from"`
	ValidTo   time.Time       `json:"valid_to"`
	Party     json.RawMessage `json:"party"`
	Vehicle   json.RawMessage `json:"vehicle,omitempty"`
	Status    string          `json:"status"` // valid, cancelled
}

// MaxFeedTickets is how many tickets a feed page carries at most.
const MaxFeedTickets = 2000

// Revocation tells the terminals of a site that one of them was revoked
// (stolen or retired): from now on they refuse every pass its keys issued
// except the honoured ones, the sales the hub had received from it before
// the revocation. Digest is the hex SHA-256 of the honoured ids, sorted,
// each followed by a newline (HonouredDigest), so a list cut short shows.
type Revocation struct {
	N          int64     `json:"n"`
	TerminalID string    `json:"terminal_id"`
	Name       string    `json:"name"`
	KeyIDs     []string  `json:"key_ids"`
	RevokedAt  time.Time `json:"revoked_at"`
	Honoured   []string  `json:"honoured"`
	Digest     string    `json:"digest"`
}

// HonouredDigest is Revocation.Digest of the sorted ids.
func HonouredDigest(sorted []string) string {
	h := sha256.New()
	for _, id := range sorted {
		h.Write([]byte(id))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// FeedEvent is an event of another terminal of the site, with that
// terminal's name.
type FeedEvent struct {
	Event
	Name string `json:"name"`
}

// Peer is another terminal of the site and how far the answer's events
// take the reader through its events: the new cursor.
type Peer struct {
	TerminalID string `json:"terminal_id"`
	Name       string `json:"name"`
	Seq        int64  `json:"seq"`
	// Certificate is the peer's certificate (PEM), so that a verifier
	// checks its compact passes; the reader checks it against the site
	// authority before holding it.
	Certificate string `json:"certificate,omitempty"`
}

// FeedResponse carries feed events, oldest first per terminal, and the new
// cursor of every other terminal of the site. More says another request
// would return more.
type FeedResponse struct {
	Events []FeedEvent `json:"events"`
	Peers  []Peer      `json:"peers"`
	More   bool        `json:"more"`
	// Revocations after the request's RevocationsAfter, oldest first.
	Revocations []Revocation `json:"revocations,omitempty"`
	// Tickets after the request's TicketsAfter, in change order (only
	// when it was set).
	Tickets []Ticket `json:"tickets,omitempty"`
	// Compact lists the key ids of the reader's own certificates that every
	// other enrolled, unrevoked terminal of the site holds (its last feed
	// request said so): the reader may issue compact passes under them.
	// A key id absent withdraws the promise.
	Compact []string `json:"compact,omitempty"`
}

// CatalogueResponse is a catalogue version published for the site, signed
// by the site authority (GET /v1/catalogue?after=SEQ; 204 when none is
// newer than SEQ).
type CatalogueResponse struct {
	Site        string    `json:"site"`
	Seq         int64     `json:"seq"`
	Version     string    `json:"version"`
	Body        []byte    `json:"body"`      // the catalogue JSON file, byte for byte
	Signature   []byte    `json:"signature"` // Ed25519 over CatalogueMessage
	Authority   string    `json:"authority"` // key id of the signing authority key
	PublishedAt time.Time `json:"published_at"`
}

// CatalogueMessage is what the site authority signs when a catalogue is
// published: the site, the publication number (so an old version cannot
// be replayed as new) and the file.
func CatalogueMessage(site string, seq int64, body []byte) []byte {
	b := []byte("LANGO-CATALOGUE-1")
	b = appendField(b, []byte(site))
	b = binary.BigEndian.AppendUint64(b, uint64(seq))
	return appendField(b, body)
}

// SigningMessage is what a terminal signs for a request: the method, the
// path with its query, the SHA-256 of the body exactly as sent
// (compressed), the time and the nonce, each length-prefixed.
func SigningMessage(method, pathQuery string, bodySHA256 []byte, unixMilli int64, nonce string) []byte {
	b := []byte("LANGO-SYNC-1")
	b = appendField(b, []byte(method))
	b = appendField(b, []byte(pathQuery))
	b = appendField(b, bodySHA256)
	b = appendField(b, []byte(strconv.FormatInt(unixMilli, 10)))
	return appendField(b, []byte(nonce))
}

// Signed holds the values of a signed request's headers.
type Signed struct {
	Terminal  string
	UnixMilli int64
	Nonce     string
	Signature []byte
}

// Sign signs a request and returns its header values.
func Sign(key ed25519.PrivateKey, terminalID, method, pathQuery string, body []byte, at time.Time, nonce string) Signed {
	sum := sha256.Sum256(body)
	ms := at.UnixMilli()
	return Signed{Terminal: terminalID, UnixMilli: ms, Nonce: nonce,
		Signature: ed25519.Sign(key, SigningMessage(method, pathQuery, sum[:], ms, nonce))}
}

// Header returns the header values as strings, keyed by header name.
func (s Signed) Header() map[string]string {
	return map[string]string{
		HeaderTerminal:  s.Terminal,
		HeaderTime:      strconv.FormatInt(s.UnixMilli, 10),
		HeaderNonce:     s.Nonce,
		HeaderSignature: base64.StdEncoding.EncodeToString(s.Signature),
	}
}

var (
	uuidRE  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	nonceRE = regexp.MustCompile(`^[0-9a-f]{32}$`)
	msRE    = regexp.MustCompile(`^-?[0-9]{1,16}$`)
)

// ParseSigned reads a request's signature headers, checking only their
// shape; get is http.Header.Get.
func ParseSigned(get func(string) string) (Signed, error) {
	var s Signed
	s.Terminal = get(HeaderTerminal)
	if !uuidRE.MatchString(s.Terminal) {
		return s, fmt.Errorf("%s is missing or not a lower-case UUID", HeaderTerminal)
	}
	t := get(HeaderTime)
	if !msRE.MatchString(t) {
		return s, fmt.Errorf("%s is missing or not Unix milliseconds", HeaderTime)
	}
	s.UnixMilli, _ = strconv.ParseInt(t, 10, 64)
	s.Nonce = get(HeaderNonce)
	if !nonceRE.MatchString(s.Nonce) {
		return s, fmt.Errorf("%s is missing or not 32 lower-case hex digits", HeaderNonce)
	}
	sig, err := base64.StdEncoding.DecodeString(get(HeaderSignature))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return s, fmt.Errorf("%s is missing or not a base64 Ed25519 signature", HeaderSignature)
	}
	s.Signature = sig
	return s, nil
}

// Verify checks the signature of a request against the terminal's key.
func (s Signed) Verify(pub ed25519.PublicKey, method, pathQuery string, body []byte) bool {
	if len(pub) != ed25519.PublicKeySize {
		return false
	}
	sum := sha256.Sum256(body)
	return ed25519.Verify(pub, SigningMessage(method, pathQuery, sum[:], s.UnixMilli, s.Nonce), s.Signature)
}

// IsUUID reports whether s is a lower-case UUID in its canonical text form.
// By hand, not by uuidRE: the hub asks it of every event it takes (the
// expression was 3 % of a hub's CPU in the national backlog).
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		switch c := s[i]; i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !lowerHex[c] {
				return false
			}
		}
	}
	return true
}

// IsHash reports whether s is a hex SHA-256 (or "" when empty is allowed).
func IsHash(s string, emptyOK bool) bool {
	if s == "" {
		return emptyOK
	}
	if len(s) != 64 {
		return false
	}
	for i := range len(s) {
		if !lowerHex[s[i]] {
			return false
		}
	}
	return true
}

// lowerHex: the bytes of lower-case hex.
var lowerHex = func() (t [256]bool) {
	for _, c := range "0123456789abcdef" {
		t[c] = true
	}
	return t
}()

func appendField(b, f []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(f)))
	return append(b, f...)
}
