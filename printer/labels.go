package printer

import "strings"

// label keys. Printed labels are short: they share a 32-column line with
// an amount on 58 mm paper.
const (
	lGatePass = iota
	lReceipt
	lSettlement
	lZReport
	lTestPage
	lCopy
	lDate
	lValidUntil
	lTerminal
	lOperator
	lReceiptNo
	lPassID
	lVehicle
	lRate
	lTotal
	lPaid
	lPayAtExit
	lAmountDue
	lChange
	lCash
	lMPesa
	lCard
	lDeferred
	lApproval
	lReference
	lBank
	lIssuedBy
	lIssuedAt
	lShowAtExit
	lThankYou
	lShift
	lOpened
	lClosed
	lSales
	lVoids
	lVisitors
	lByTender
	lCashDrawer
	lFloat
	lExpected
	lCounted
	lVariance
	lPrinted
	lProfile
	lSettledPass
	lCharset
	lStyles
	lBold
	lReverse
	lUnderline
	lDoubleSize
	lColumns
	lAccount
	lPhone
	lLicence
	lOpenPasses
	lNamedBy
	nLabels
)

// labels holds the printed words in English and Swahili. Swahili follows
// the usage of Kenyan government and park receipts; a native reviewer
// should check any change.
var labels = map[string][nLabels]string{
	"en": {
		lGatePass:    "GATE PASS",
		lReceipt:     "RECEIPT",
		lSettlement:  "EXIT PAYMENT RECEIPT",
		lZReport:     "Z-REPORT (SHIFT CLOSE)",
		lTestPage:    "PRINTER TEST PAGE",
		lCopy:        "COPY / NAKALA",
		lDate:        "Date",
		lValidUntil:  "Valid until",
		lTerminal:    "Terminal",
		lOperator:    "Served by",
		lReceiptNo:   "Receipt no.",
		lPassID:      "Pass",
		lVehicle:     "Vehicle",
		lRate:        "Rate",
		lTotal:       "TOTAL",
		lPaid:        "PAID",
		lPayAtExit:   "PAY AT EXIT",
		lAmountDue:   "Amount due",
		lChange:      "Change",
		lCash:        "Cash",
		lMPesa:       "M-PESA",
		lCard:        "Card",
		lDeferred:    "Pay at exit",
		lApproval:    "Approval",
		lReference:   "Ref",
		lBank:        "Bank",
		lIssuedBy:    "Issued by",
		lIssuedAt:    "Issued",
		lShowAtExit:  "Show this pass at the exit gate.",
		lThankYou:    "Thank you. Karibu tena!",
		lShift:       "Shift",
		lOpened:      "Opened",
		lClosed:      "Closed",
		lSales:       "Sales",
		lVoids:       "Voids",
		lVisitors:    "Visitors",
		lByTender:    "TAKINGS BY TENDER",
		lCashDrawer:  "CASH DRAWER",
		lFloat:       "Opening float",
		lExpected:    "Expected",
		lCounted:     "Counted",
		lVariance:    "Variance",
		lPrinted:     "Printed",
		lProfile:     "Profile",
		lSettledPass: "Settles pass",
		lCharset:     "Characters",
		lStyles:      "Styles",
		lBold:        "Bold",
		lReverse:     "Reverse",
		lUnderline:   "Underline",
		lDoubleSize:  "Double",
		lColumns:     "Columns",
		lAccount:     "Account",
		lPhone:       "Driver's phone",
		lLicence:     "Licence",
		lOpenPasses:  "STILL OWED",
		lNamedBy:     "Named by",
	},
	"sw": {
		lGatePass:    "KIBALI CHA KUINGIA",
		lReceipt:     "RISITI",
		lSettlement:  "RISITI YA MALIPO YA KUTOKA",
		lZReport:     "RIPOTI YA Z (KUFUNGA ZAMU)",
		lTestPage:    "UKURASA WA MAJARIBIO",
		lCopy:        "NAKALA / COPY",
		lDate:        "Tarehe",
		lValidUntil:  "Halali hadi",
		lTerminal:    "Kituo",
		lOperator:    "Mhudumu",
		lReceiptNo:   "Risiti na.",
		lPassID:      "Kibali",
		lVehicle:     "Gari",
		lRate:        "Kiwango",
		lTotal:       "JUMLA",
		lPaid:        "IMELIPWA",
		lPayAtExit:   "LIPA UKITOKA",
		lAmountDue:   "Kiasi kinachodaiwa",
		lChange:      "Chenji",
		lCash:        "Pesa taslimu",
		lMPesa:       "M-PESA",
		lCard:        "Kadi",
		lDeferred:    "Lipa ukitoka",
		lApproval:    "Idhini",
		lReference:   "Kumb.",
		lBank:        "Benki",
		lIssuedBy:    "Kimetolewa na",
		lIssuedAt:    "Kimetolewa",
		lShowAtExit:  "Onyesha kibali hiki langoni unapotoka.",
		lThankYou:    "Asante. Karibu tena!",
		lShift:       "Zamu",
		lOpened:      "Ilifunguliwa",
		lClosed:      "Ilifungwa",
		lSales:       "Mauzo",
		lVoids:       "Yaliyobatilishwa",
		lVisitors:    "Wageni",
		lByTender:    "MAPATO KWA NJIA YA MALIPO",
		lCashDrawer:  "DROO YA PESA",
		lFloat:       "Kianzio",
		lExpected:    "Inayotarajiwa",
		lCounted:     "Iliyohesabiwa",
		lVariance:    "Tofauti",
		lPrinted:     "Imechapishwa",
		lProfile:     "Aina ya printa",
		lSettledPass: "Inalipia kibali",
		lCharset:     "Herufi",
		lStyles:      "Mitindo",
		lBold:        "Nzito",
		lReverse:     "Kinyume",
		lUnderline:   "Mstari chini",
		lDoubleSize:  "Kubwa",
		lColumns:     "Safu",
		lAccount:     "Akaunti",
		lPhone:       "Simu ya dereva",
		lLicence:     "Leseni",
		lOpenPasses:  "BADO HAIJALIPWA",
		lNamedBy:     "Imetajwa na",
	},
}

// Languages lists the label languages: "en" and "sw".
func Languages() []string { return []string{"en", "sw"} }

// words returns the label table for lang; anything but "sw" is English.
func words(lang string) *[nLabels]string {
	l, ok := labels[strings.ToLower(lang)]
	if !ok {
		l = labels["en"]
	}
	return &l
}

// tenderLabel names a tender kind of the contract (cash, mpesa, card, defer).
func tenderLabel(w *[nLabels]string, kind string) string {
	switch strings.ToLower(kind) {
	case "cash":
		return w[lCash]
	case "mpesa", "m-pesa":
		return w[lMPesa]
	case "card":
		return w[lCard]
	case "defer", "deferred":
		return w[lDeferred]
	case "bank":
		return w[lBank]
	}
	return kind
}
