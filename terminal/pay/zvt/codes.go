package zvt

import "fmt"

// ResultMessage explains a ZVT result code (BMP 27, the byte of 06 1E, the
// xx of 84 xx) in words for the person at the counter.
func ResultMessage(code byte) string {
	switch code {
	case 0x00:
		return "approved"
	// 0x01–0x63: the bank's (authorisation system's) own answer codes,
	// 1–99; the common ISO 8583 ones are named.
	case 0x05:
		return "declined by the card's bank (do not honour)"
	case 0x0E:
		return "declined: invalid card number"
	case 0x29, 0x2B:
		return "declined: card reported lost or stolen — keep the card and call a supervisor"
	case 0x33:
		return "declined: not enough money on the card"
	case 0x36:
		return "declined: the card has expired"
	case 0x37:
		return "declined: wrong PIN"
	case 0x39:
		return "declined: the card may not be used for this payment"
	case 0x3D:
		return "declined: the card's spending limit is exceeded"
	case 0x5B:
		return "the card's bank is not available: try again or take another payment"
	case 0x64:
		return "the card could not be read: insert, tap or swipe it again"
	case 0x65:
		return "no card data: insert, tap or swipe the card"
	case 0x66:
		return "card reader processing error: try again"
	case 0x67, 0x68, 0xC5, 0xD2:
		return "this card cannot be used for this payment"
	case 0x6A, 0xB1, 0xB2:
		return "the card terminal's memory is full: run end-of-day on the PDQ"
	case 0x6B:
		return "the card terminal is not registered with the till: register it again"
	case 0x6C:
		return "cancelled on the card terminal, or the customer took too long"
	case 0x6E:
		return "declined: the card is blocked"
	case 0x6F, 0xC6:
		return "the card terminal does not accept this currency"
	case 0x71:
		return "declined: not enough money on the card"
	case 0x72:
		return "card chip error: try again or swipe"
	case 0x73:
		return "card data incorrect: try again"
	case 0x78:
		return "declined: the card has expired"
	case 0x79:
		return "declined: the card is not yet valid"
	case 0x7A:
		return "the card terminal does not know this card"
	case 0x7D, 0x9B, 0xA0, 0xA1, 0xA3:
		return "the card terminal could not reach the bank: try again, or take another payment"
	case 0x83:
		return "the card terminal cannot do this now"
	case 0x85:
		return "the card terminal is missing a key: call the card terminal's service line"
	case 0x89, 0xED:
		return "the PIN pad is faulty"
	case 0x9A:
		return "the card terminal did not understand the till (protocol error)"
	case 0x9C:
		return "the card terminal is busy: wait and try again"
	case 0xC3:
		return "the amount is above the card terminal's limit"
	case 0xC8, 0xC9:
		return "the amount is too small for card payment"
	case 0xCC:
		return "the card terminal's printer is not ready (paper?)"
	case 0xDC:
		return "a card is still in the card terminal: remove it"
	case 0xE2:
		return "the card reader does not answer"
	case 0xF0:
		return "run end-of-day on the card terminal first"
	case 0xFF:
		return "card terminal system error"
	}
	if code <= 0x63 {
		return fmt.Sprintf("declined by the card's bank (code %d)", code)
	}
	return fmt.Sprintf("card terminal error (code 0x%02X)", code)
}

// StatusText is the plain text for an intermediate status (04 FF) code, for
// the till's screen while the PDQ works. Codes 0x41–0x67 are 0x01–0x27 plus
// "remove the card".
func StatusText(code byte) string {
	base, remove := code, false
	if code >= 0x41 && code <= 0x67 {
		base, remove = code-0x40, true
	}
	t := statusText(base)
	if remove {
		return t + " — remove the card"
	}
	return t
}

func statusText(code byte) string {
	switch code {
	case 0x00:
		return "Customer: confirm the amount on the card terminal"
	case 0x01, 0x02:
		return "Customer: follow the card terminal (enter PIN)"
	case 0x03:
		return "Not accepted"
	case 0x04:
		return "Waiting for the bank…"
	case 0x05:
		return "Card terminal is reversing a payment…"
	case 0x06:
		return "Card terminal is sending stored payments…"
	case 0x07, 0x10:
		return "Card not accepted"
	case 0x08:
		return "Card unknown"
	case 0x09:
		return "Card expired"
	case 0x0A:
		return "Insert, tap or swipe the card"
	case 0x0B:
		return "Remove the card"
	case 0x0C:
		return "Card not readable: try again"
	case 0x0D:
		return "Card terminal processing error"
	case 0x0E, 0x17:
		return "Please wait…"
	case 0x0F:
		return "Card terminal is running end-of-day…"
	case 0x11:
		return "Showing the balance"
	case 0x12:
		return "Card terminal malfunction"
	case 0x13:
		return "Payment not possible"
	case 0x14:
		return "Not enough money on the card"
	case 0x15:
		return "Wrong PIN"
	case 0x16:
		return "Limit not sufficient"
	case 0x18:
		return "Too many wrong PINs"
	case 0x19:
		return "Card data incorrect"
	case 0x1A:
		return "Card terminal in service mode"
	case 0x1B, 0x1C:
		return "Approved"
	case 0x1D:
		return "Declined"
	case 0xD2:
		return "Card terminal is connecting…"
	case 0xD3:
		return "Card terminal connected"
	case 0xE0:
		return "Customer: choose the card application"
	case 0xE1:
		return "Customer: choose the language"
	case 0xF1:
		return "Card terminal offline"
	case 0xF2:
		return "Card terminal online"
	case 0xF3:
		return "Offline payment"
	}
	return fmt.Sprintf("Card terminal busy (status 0x%02X)", code)
}
