package wire

import "time"

// Paths a site relay uses at the central hub, signed by the relay's own
// key (enrolled with a token from lango-hub relay add).
const (
	// PathRelayTerminals (GET) lists the terminals of the relay's site:
	// their certified keys and where the hub stands with each.
	PathRelayTerminals = "/v1/relay/terminals"
	// PathRelayEvents (POST) carries one upload exactly as a terminal
	// signed it: the body as the terminal sent it, and the terminal's
	// signature in the Lango-Relayed-* headers.
	PathRelayEvents = "/v1/relay/events"
)

// Headers of a relayed upload: the terminal's own signature headers and
// body encoding, as the terminal sent them to the relay.
const (
	HeaderRelayedTerminal  = "Lango-Relayed-Terminal"
	HeaderRelayedTime      = "Lango-Relayed-Time"
	HeaderRelayedNonce     = "Lango-Relayed-Nonce"
	HeaderRelayedSignature = "Lango-Relayed-Signature"
	HeaderRelayedEncoding  = "Lango-Relayed-Encoding"
)

// RelayedHeader maps a signed request's header to the relayed one that
// carries it (Lango-Terminal to Lango-Relayed-Terminal, ...).
func RelayedHeader(h string) string {
	switch h {
	case HeaderTerminal:
		return HeaderRelayedTerminal
	case HeaderTime:
		return HeaderRelayedTime
	case HeaderNonce:
		return HeaderRelayedNonce
	case HeaderSignature:
		return HeaderRelayedSignature
	}
	return ""
}

// RelayTerminal is a terminal of the relay's site as the central hub
// holds it.
type RelayTerminal struct {
	TerminalID  string     `json:"terminal_id"`
	Name        string     `json:"name"`
	PublicKey   []byte     `json:"public_key"`  // 32 bytes, base64 in JSON
	Certificate string     `json:"certificate"` // PEM, by the site authority
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
	LastSeq     int64      `json:"last_seq"`
	LastHash    string     `json:"last_hash"`
}

// RelayTerminalsResponse is the answer to GET /v1/relay/terminals.
type RelayTerminalsResponse struct {
	HubID       string          `json:"hub_id"`
	Site        string          `json:"site"`
	Authorities string          `json:"authorities"` // PEM, the site's authority public keys
	Terminals   []RelayTerminal `json:"terminals"`
}
