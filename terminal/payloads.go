package terminal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Payload is the typed payload of an event: one type per event type, so
// that what a terminal writes and what the hub reads are one definition.
// Every payload written today is version 1; a later version adds "v" to
// the payload (absent means 1), and readers keep decoding version 1 for as
// long as terminals in the field upload it (testdata/events/v1.jsonl).
type Payload interface {
	EventType() string
}

// TerminalInitialized is the first event of a terminal.
type TerminalInitialized struct {
	TerminalID string `json:"terminal_id"`
	Name       string `json:"name"`
	Site       string `json:"site"`
}

// TerminalEnrolled records the hub a terminal enrolled with.
type TerminalEnrolled struct {
	Hub                  string    `json:"hub"`
	CertificateAuthority string    `json:"certificate_authority"`
	NotAfter             time.Time `json:"not_after"`
}

// ConfigSet is settings changed (key → value).
type ConfigSet map[string]string

// CatalogueLoaded names the catalogue version a terminal switched to.
type CatalogueLoaded struct {
	Version string `json:"version"`
}

// CatalogueRefused is a hub publication a terminal could not use.
type CatalogueRefused struct {
	Seq     int64  `json:"seq"`
	Version string `json:"version"`
	Reason  string `json:"reason"`
}

// OperatorRecord is an operator as the operator events carry it. PINHash
// travels only for site operators; AddedAt only in a PIN change or a
// disabling (so a terminal that learns of the operator from it records
// when it was added).
type OperatorRecord struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Role    Role      `json:"role"`
	Scope   string    `json:"scope,omitempty"`
	PINHash string    `json:"pin_hash,omitempty"`
	AddedAt time.Time `json:"added_at,omitzero"`
}

// OperatorAdded, OperatorPINChanged and OperatorDisabled are the three
// operator events: one record, three meanings.
type (
	OperatorAdded      OperatorRecord
	OperatorPINChanged OperatorRecord
	OperatorDisabled   OperatorRecord
)

// OperatorLocked records a lockout after too many wrong PINs.
type OperatorLocked struct {
	Operator string    `json:"operator"`
	Until    time.Time `json:"until"`
}

// OperatorUnlocked records that a supervisor (the event's actor) lifted
// an operator's PIN lockout at this terminal.
type OperatorUnlocked struct {
	Operator string `json:"operator"`
}

// ShiftOpened is a shift as opened.
type ShiftOpened struct{ Shift }

// ShiftClosed is the shift's Z-report.
type ShiftClosed struct{ ZReport }

// SaleCreated is the sale as recorded.
type SaleCreated struct{ Sale }

// SaleVoid voids a sale of this terminal (and revokes its pass): the
// payload of sale.voided.
type SaleVoid struct {
	SaleID string `json:"sale_id"`
	Number int64  `json:"number"`
	Reason string `json:"reason"`
	PassID string `json:"pass_id,omitempty"`
}

// SaleRefunded is the reversing sale of a refund.
type SaleRefunded struct {
	Refund Sale   `json:"refund"`
	Reason string `json:"reason"`
}

// PassSettled is a deferred pass settled at exit. Settlement is the
// settlement document, byte for byte as stored.
type PassSettled struct {
	SettlementID   string          `json:"settlement_id"`
	PassID         string          `json:"pass_id"`
	IssuerTerminal string          `json:"issuer_terminal"`
	Settlement     json.RawMessage `json:"settlement"`
	SaleID         string          `json:"sale_id,omitempty"`
}

// PassUsed is a pass let in.
type PassUsed struct {
	PassID         string `json:"pass_id"`
	IssuerTerminal string `json:"issuer_terminal"`
}

// PrintReprint is a supervisor's reprint of a sale's slip.
type PrintReprint struct {
	SaleID string `json:"sale_id"`
	Job    string `json:"job"`
}

// MpesaUsed is an M-PESA receipt code taken as a tender, for a sale or a
// settlement at this terminal. The site feed carries it, so a code taken
// at one lane is refused at every other lane of the site.
type MpesaUsed struct {
	Code         string   `json:"code"`
	Currency     Currency `json:"currency"`
	Amount       int64    `json:"amount"`
	SaleID       string   `json:"sale_id,omitempty"`
	SettlementID string   `json:"settlement_id,omitempty"`
}

// BankUsed is a bank reference taken at this terminal: a transfer or
// deposit slip tendered for a sale or a settlement, or the slip of a
// supervisor's deposit of a shift's cash (DepositID, ShiftID). The site
// feed carries it, so a reference is taken once per site; the hub
// matches it against the bank's statements.
type BankUsed struct {
	Bank         string   `json:"bank"`
	Reference    string   `json:"reference"`
	Currency     Currency `json:"currency"`
	Amount       int64    `json:"amount"`
	SaleID       string   `json:"sale_id,omitempty"`
	SettlementID string   `json:"settlement_id,omitempty"`
	DepositID    string   `json:"deposit_id,omitempty"`
	ShiftID      string   `json:"shift_id,omitempty"`
}

// TicketRedeemed is a prepaid ticket of the national platform let in at
// this terminal (terminal/ticket). The site feed carries it, so the other
// lanes refuse the ticket as already used; the hub forwards it to the
// platform as a redemption. SaleID names the sale of the part of the party
// the ticket did not cover, when there was one.
type TicketRedeemed struct {
	TicketNo string `json:"ticket_no"`
	Site     string `json:"site"`
	SaleID   string `json:"sale_id,omitempty"`
}

func (TerminalInitialized) EventType() string { return EventTerminalInit }
func (TerminalEnrolled) EventType() string    { return EventEnrolled }
func (ConfigSet) EventType() string           { return EventConfigSet }
func (CatalogueLoaded) EventType() string     { return EventCatalogue }
func (CatalogueRefused) EventType() string    { return EventCatalogueBad }
func (OperatorAdded) EventType() string       { return EventOperatorAdded }
func (OperatorPINChanged) EventType() string  { return EventOperatorPIN }
func (OperatorDisabled) EventType() string    { return EventOperatorOff }
func (OperatorLocked) EventType() string      { return EventOperatorLocked }
func (OperatorUnlocked) EventType() string    { return EventOperatorUnlock }
func (ShiftOpened) EventType() string         { return EventShiftOpened }
func (ShiftClosed) EventType() string         { return EventShiftClosed }
func (SaleCreated) EventType() string         { return EventSaleCreated }
func (SaleVoid) EventType() string            { return EventSaleVoided }
func (SaleRefunded) EventType() string        { return EventSaleRefunded }
func (PassSettled) EventType() string         { return EventPassSettled }
func (PassUsed) EventType() string            { return EventPassUsed }
func (PrintReprint) EventType() string        { return EventPrintReprint }
func (MpesaUsed) EventType() string           { return EventMpesaUsed }
func (BankUsed) EventType() string            { return EventBankUsed }
func (TicketRedeemed) EventType() string      { return EventTicketRedeemed }

// payloadOf is the empty payload of each event type.
var payloadOf = map[string]func() Payload{
	EventTerminalInit:   func() Payload { return &TerminalInitialized{} },
	EventEnrolled:       func() Payload { return &TerminalEnrolled{} },
	EventConfigSet:      func() Payload { return &ConfigSet{} },
	EventCatalogue:      func() Payload { return &CatalogueLoaded{} },
	EventCatalogueBad:   func() Payload { return &CatalogueRefused{} },
	EventOperatorAdded:  func() Payload { return &OperatorAdded{} },
	EventOperatorPIN:    func() Payload { return &OperatorPINChanged{} },
	EventOperatorOff:    func() Payload { return &OperatorDisabled{} },
	EventOperatorLocked: func() Payload { return &OperatorLocked{} },
	EventOperatorUnlock: func() Payload { return &OperatorUnlocked{} },
	EventShiftOpened:    func() Payload { return &ShiftOpened{} },
	EventShiftClosed:    func() Payload { return &ShiftClosed{} },
	EventSaleCreated:    func() Payload { return &SaleCreated{} },
	EventSaleVoided:     func() Payload { return &SaleVoid{} },
	EventSaleRefunded:   func() Payload { return &SaleRefunded{} },
	EventPassSettled:    func() Payload { return &PassSettled{} },
	EventPassUsed:       func() Payload { return &PassUsed{} },
	EventPrintReprint:   func() Payload { return &PrintReprint{} },
	EventMpesaUsed:      func() Payload { return &MpesaUsed{} },
	EventBankUsed:       func() Payload { return &BankUsed{} },
	EventTicketRedeemed: func() Payload { return &TicketRedeemed{} },
}

// EventTypes lists every event type a terminal writes.
func EventTypes() []string { return slices.Sorted(maps.Keys(payloadOf)) }

// DecodePayload decodes b as the payload of an event of type typ,
// refusing unknown fields: a payload of a known type with a field its
// version does not have is not that version.
func DecodePayload(typ string, b []byte) (Payload, error) {
	mk, ok := payloadOf[typ]
	if !ok {
		return nil, fmt.Errorf("unknown event type %q", typ)
	}
	p := mk()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		return nil, fmt.Errorf("%s payload: %w", typ, err)
	}
	return p, nil
}
