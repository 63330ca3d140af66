package terminal

import "time"

// ShiftSheet is one shift's takings by tender and currency (as its
// Z-report counts them) and the tenders behind them, sale by sale: what
// `lango shift report` prints for a finance office.
type ShiftSheet struct {
	ShiftID  string        `json:"shift_id"`
	Terminal string        `json:"terminal"`
	Site     string        `json:"site"`
	Operator string        `json:"operator"`
	OpenedAt time.Time     `json:"opened_at"`
	ClosedAt *time.Time    `json:"closed_at,omitempty"`
	Takings  []TenderTotal `json:"takings"`
	Rows     []ShiftRow    `json:"sales"`
}

// ShiftRow is one tender of a sale, refund or settlement of the shift (a
// deferred sale: one "defer" row per currency with Due), with the sale's
// state; voided sales are listed but counted in no taking.
type ShiftRow struct {
	At           time.Time `json:"at"`
	Kind         string    `json:"kind"` // sale, refund, settlement
	SaleID       string    `json:"sale_id"`
	Settles      string    `json:"settles,omitempty"` // a settlement: the pass it settles
	Number       int64     `json:"number,omitempty"`
	State        string    `json:"state"`
	Tender       string    `json:"tender"`
	Currency     Currency  `json:"currency"`
	Amount       int64     `json:"amount"`
	Due          int64     `json:"due,omitempty"`
	Reference    string    `json:"reference,omitempty"`
	Bank         string    `json:"bank,omitempty"`
	Vehicle      string    `json:"vehicle,omitempty"`
	TourOperator string    `json:"tour_operator,omitempty"`
	Phone        string    `json:"phone,omitempty"`
}
