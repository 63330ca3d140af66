package zvt

import (
	"fmt"
	"time"

	"github.com/lango-pos/lango/terminal"
)

// Result is what the PDQ reported about one card transaction.
type Result struct {
	Reference  string         `json:"reference,omitempty"` // the ECR's reference, from the Request (never sent to the PDQ)
	Approved   bool           `json:"approved"`
	ResultCode byte           `json:"result_code"`          // BMP 27 / 06 1E; 0 = approved
	Message    string         `json:"message"`              // ResultMessage(ResultCode)
	Amount     terminal.Money `json:"amount"`               // BMP 04 + 49 as the PDQ reported them (currency "" if it sent none)
	Trace      int            `json:"trace,omitempty"`      // BMP 0B, PDQ trace number
	Receipt    int            `json:"receipt,omitempty"`    // BMP 87, PDQ receipt number
	Approval   string         `json:"approval,omitempty"`   // BMP 3B, authorisation attribute (approval code)
	CardLast4  string         `json:"card_last4,omitempty"` // last 4 digits of BMP 22
	CardName   string         `json:"card_name,omitempty"`  // BMP 8B, e.g. "VISA"
	TerminalID string         `json:"terminal_id,omitempty"`
	ReversalOf int            `json:"reversal_of,omitempty"` // BMP 37: this is a reversal of that trace
	Time       time.Time      `json:"time,omitzero"`         // PDQ date/time (BMP AA or 0D, and 0C); zero if not sent
	Received   time.Time      `json:"received"`              // the till's clock when the result arrived
}

// statusInfo holds the fields of a 04 0F status information.
type statusInfo struct {
	hasResult  bool
	resultCode byte
	hasAmount  bool
	amount     int64
	currency   int // ISO numeric, 0 if absent
	trace      int
	origTrace  int // BMP 37, reversals
	receipt    int
	terminalID string
	approval   string
	pan        string
	cardName   string
	time       time.Time
}

// decodeStatusInfo reads the BMPs of a 04 0F. ref is a time near the
// transaction (the till's clock) and loc the PDQ's time zone: the PDQ may
// send its date as MMDD only, and the year is taken as the one that puts
// the date closest to ref.
func decodeStatusInfo(data []byte, ref time.Time, loc *time.Location) (statusInfo, error) {
	var s statusInfo
	bmps, err := DecodeBMPs(data)
	if err != nil {
		return s, err
	}
	var hms, md, ymd int64 = -1, -1, -1
	for _, f := range bmps {
		switch f.Tag {
		case bmpResultCode:
			s.hasResult, s.resultCode = true, f.Value[0]
		case bmpAmount:
			if s.amount, err = decodeBCD(f.Value); err != nil {
				return s, fmt.Errorf("amount: %w", err)
			}
			s.hasAmount = true
		case bmpCurrency:
			n, err := decodeBCD(f.Value)
			if err != nil {
				return s, fmt.Errorf("currency: %w", err)
			}
			s.currency = int(n)
		case bmpTrace:
			n, err := decodeBCD(f.Value)
			if err != nil {
				return s, fmt.Errorf("trace: %w", err)
			}
			s.trace = int(n)
		case bmpOrigTrace:
			n, err := decodeBCD(f.Value)
			if err != nil {
				return s, fmt.Errorf("original trace: %w", err)
			}
			s.origTrace = int(n)
		case bmpReceipt:
			n, err := decodeBCD(f.Value)
			if err != nil {
				return s, fmt.Errorf("receipt: %w", err)
			}
			s.receipt = int(n)
		case bmpTerminalID:
			n, err := decodeBCD(f.Value)
			if err != nil {
				return s, fmt.Errorf("terminal id: %w", err)
			}
			s.terminalID = fmt.Sprintf("%08d", n)
		case bmpAID:
			s.approval = printable(f.Value)
		case bmpPAN:
			if s.pan, err = decodePAN(f.Value); err != nil {
				return s, err
			}
		case bmpCardName:
			s.cardName = printable(f.Value)
		case bmpTime:
			if hms, err = decodeBCD(f.Value); err != nil {
				return s, fmt.Errorf("time: %w", err)
			}
		case bmpDate:
			if md, err = decodeBCD(f.Value); err != nil {
				return s, fmt.Errorf("date: %w", err)
			}
		case bmpDateFull:
			if ymd, err = decodeBCD(f.Value); err != nil {
				return s, fmt.Errorf("date: %w", err)
			}
		}
	}
	if s.time, err = pdqTime(hms, md, ymd, ref, loc); err != nil {
		return s, err
	}
	return s, nil
}

// pdqTime builds the PDQ's timestamp from HHMMSS, MMDD and YYMMDD (each -1
// when absent). Without a date there is no timestamp.
func pdqTime(hms, md, ymd int64, ref time.Time, loc *time.Location) (time.Time, error) {
	if hms < 0 || (md < 0 && ymd < 0) {
		return time.Time{}, nil
	}
	h, mi, sec := int(hms/10000), int(hms/100%100), int(hms%100)
	if h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, fmt.Errorf("%w: time %06d", ErrBadAPDU, hms)
	}
	var years []int
	var mo, d int
	if ymd >= 0 {
		years = []int{2000 + int(ymd/10000)}
		mo, d = int(ymd/100%100), int(ymd%100)
	} else {
		y := ref.In(loc).Year()
		years = []int{y, y - 1, y + 1}
		mo, d = int(md/100), int(md%100)
	}
	if mo < 1 || mo > 12 || d < 1 || d > 31 {
		return time.Time{}, fmt.Errorf("%w: date month %d day %d", ErrBadAPDU, mo, d)
	}
	var best time.Time
	for _, y := range years {
		t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, loc)
		if t.Day() != d {
			continue // 31 April, 29 February of a common year
		}
		if best.IsZero() || absDur(t.Sub(ref)) < absDur(best.Sub(ref)) {
			best = t
		}
	}
	if best.IsZero() {
		return time.Time{}, fmt.Errorf("%w: no such date: month %d day %d", ErrBadAPDU, mo, d)
	}
	return best, nil
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// result turns a status information into a Result.
func (s statusInfo) result(received time.Time) Result {
	r := Result{
		Approved:   s.hasResult && s.resultCode == 0,
		ResultCode: s.resultCode,
		Trace:      s.trace,
		Receipt:    s.receipt,
		Approval:   s.approval,
		CardName:   s.cardName,
		TerminalID: s.terminalID,
		ReversalOf: s.origTrace,
		Time:       s.time,
		Received:   received,
	}
	r.Message = ResultMessage(r.ResultCode)
	if s.hasAmount {
		r.Amount = terminal.Money{Minor: s.amount}
		if s.currency != 0 {
			// A code Lango does not price in stays visible as its number
			// ("999"), so it never matches a real currency.
			if r.Amount.Currency = currencyOf(s.currency); r.Amount.Currency == "" {
				r.Amount.Currency = terminal.Currency(fmt.Sprintf("%03d", s.currency))
			}
		}
	}
	if n := len(s.pan); n >= 4 && isDigits(s.pan[n-4:]) {
		r.CardLast4 = s.pan[n-4:]
	}
	return r
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Status is an intermediate status (04 FF) for the till's screen.
type Status struct {
	Code    byte
	Text    string        // StatusText(Code)
	Timeout time.Duration // the PDQ's own time-out for this step, if it sent one
}

func decodeIntermediate(data []byte) (Status, error) {
	if len(data) < 1 {
		return Status{}, fmt.Errorf("%w: intermediate status without a status byte", ErrBadAPDU)
	}
	s := Status{Code: data[0], Text: StatusText(data[0])}
	if len(data) >= 2 {
		s.Timeout = time.Duration(data[1]) * time.Second
	}
	return s, nil
}
