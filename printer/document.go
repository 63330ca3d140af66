package printer

import (
	"time"

	"github.com/lango-pos/lango/terminal"
)

// The documents Lango prints. They are plain data, filled by the caller
// from the domain; Layout.Render turns one into an ESC/POS job for a
// profile. Lang is "en" or "sw" (English otherwise); Copy marks a reprint.

// Line is one sold item: "2 × Adult, EAC citizen  KES 4,000.00".
type Line struct {
	Qty         int            `json:"qty"`
	Description string         `json:"description"`
	Amount      terminal.Money `json:"amount"` // the line's total, not the unit price
}

// Tender is one payment: Kind is a contract tender word (cash, mpesa,
// card, defer); Reference is the M-PESA code or the card approval.
type Tender struct {
	Kind      string         `json:"kind"`
	Amount    terminal.Money `json:"amount"`
	Reference string         `json:"reference,omitempty"`
	Bank      string         `json:"bank,omitempty"` // bank tenders: the bank's code
}

// PassSlip is a gate pass, paid at entry or to be paid at exit.
type PassSlip struct {
	Lang     string
	Copy     bool
	Site     string // "Nairobi National Park"
	Gate     string // "Main Gate, lane 2"; optional
	Terminal string
	Operator string
	PassID   string // printed in 4-character groups
	Issued   time.Time
	// ValidUntil is printed when set.
	ValidUntil time.Time
	Lines      []Line
	Vehicle    string // plate, "KDA 123A", on a line of its own (the vehicle's band is one of Lines)
	Totals     terminal.Totals
	Tenders    []Tender
	// Change is the change given per currency, and Conversions the rates
	// a tender in another currency was taken at.
	Change      terminal.Totals
	Conversions []Conversion
	// Due, when it has a non-zero amount, prints the PAY AT EXIT banner
	// with the amount due per currency instead of the payment.
	Due terminal.Totals
	// Owed, on a deferred pass, is the tour operator who owes and the
	// driver's phone, printed under the vehicle.
	Owed *terminal.Owed
	// QR is the exact pass text the exit terminal verifies.
	QR     string
	Footer string
	// OpenDrawer kicks the cash drawer (never on a copy).
	OpenDrawer bool
}

// Receipt is a sale receipt.
type Receipt struct {
	Lang     string
	Copy     bool
	Site     string
	Terminal string
	Operator string
	SaleID   string
	Time     time.Time
	Lines    []Line
	Totals   terminal.Totals
	Tenders  []Tender
	Change   terminal.Totals
	// Conversions are the rates a tender in another currency was taken at.
	Conversions []Conversion
	PassID      string // when the sale issued a pass
	Footer      string
	OpenDrawer  bool
}

// Settlement is the receipt for a deferred pass settled at exit. It names
// the pass and the terminal that issued it, which may be another one.
type Settlement struct {
	Lang      string
	Copy      bool
	Site      string
	Terminal  string
	Operator  string
	ReceiptID string
	Time      time.Time
	PassID    string
	IssuedBy  string // issuing terminal
	IssuedAt  time.Time
	Vehicle   string
	Lines     []Line // what was deferred; optional
	Totals    terminal.Totals
	Tenders   []Tender
	Change    terminal.Totals
	// Conversions are the rates a tender in another currency was taken
	// at: the exit receipt says what a USD due cost in shillings.
	Conversions []Conversion
	Footer      string
	OpenDrawer  bool
}

// Conversion is a tender taken in one currency for an amount due in
// another, at a rate ("129.5": units of To for one of From).
type Conversion struct {
	From, To terminal.Money
	Rate     string
}

// TenderTotal is the takings of one tender kind over a shift.
type TenderTotal struct {
	Kind   string          `json:"kind"`
	Count  int             `json:"count"`
	Totals terminal.Totals `json:"totals"`
}

// ZReport closes a shift: takings by tender and currency, and the cash
// drawer per currency — float, expected, counted and their variance.
type ZReport struct {
	Lang     string
	Copy     bool
	Site     string
	Terminal string
	Operator string
	ShiftID  string
	Opened   time.Time
	Closed   time.Time
	Sales    int
	Voids    int
	Visitors int // people admitted; the line is left out when 0 (a counter)
	ByTender []TenderTotal
	Float    terminal.Totals
	Expected terminal.Totals // cash that should be in the drawer, float included
	Counted  terminal.Totals
	Printed  time.Time
	// OpenPasses are the deferred passes still owed at the close, named
	// by OpenPassesBy (a supervisor).
	OpenPasses   []terminal.UnsettledPass
	OpenPassesBy string
}

// TestPage shows that a printer works and what a profile prints: styles,
// characters, columns and a QR code.
type TestPage struct {
	Lang     string
	Terminal string
	Printed  time.Time
	QR       string // defaults to "LANGO TEST <terminal> <time>"
}
