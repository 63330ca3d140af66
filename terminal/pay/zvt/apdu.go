package zvt

import (
	"encoding/hex"
	"fmt"
)

// APDU is one ZVT application message: class, instruction and data. On the
// wire: class, instruction, length, data, where the length is one byte for
// 0–254 data bytes and FF followed by two bytes little-endian for longer
// data (up to 65535).
type APDU struct {
	Class, Instr byte
	Data         []byte
}

// Commands and answers of the implemented subset, as class<<8 | instruction.
const (
	cmdStatusInfo    = 0x040F // PT → ECR: transaction result (BMPs)
	cmdIntermediate  = 0x04FF // PT → ECR: intermediate status ("insert card"…)
	cmdRegister      = 0x0600 // ECR → PT: registration
	cmdAuthorise     = 0x0601 // ECR → PT: authorisation (payment)
	cmdCompletion    = 0x060F // PT → ECR: completion, master rights back
	cmdAbortPT       = 0x061E // PT → ECR: abort with result code
	cmdRepeatReceipt = 0x0620 // ECR → PT: repeat receipt (last transaction)
	cmdAbortECR      = 0x06B0 // ECR → PT: abort the running transaction
	cmdPrintLine     = 0x06D1 // PT → ECR: print line (acknowledged, ignored)
	cmdPrintText     = 0x06D3 // PT → ECR: print text block (acknowledged, ignored)
	ansPositive      = 0x8000 // 80 00: positive acknowledgement
)

// Command returns class<<8 | instruction.
func (a APDU) Command() uint16 { return uint16(a.Class)<<8 | uint16(a.Instr) }

func (a APDU) String() string {
	return fmt.Sprintf("%02X %02X [%d] %s", a.Class, a.Instr, len(a.Data), hex.EncodeToString(a.Data))
}

// positive reports whether a is a positive acknowledgement (80 00, or the
// 84 00 some PDQs send).
func (a APDU) positive() bool {
	return (a.Class == 0x80 || a.Class == 0x84) && a.Instr == 0x00
}

// negative reports whether a is a negative acknowledgement 84 xx, xx ≠ 00;
// xx is the error code.
func (a APDU) negative() bool { return a.Class == 0x84 && a.Instr != 0x00 }

// Encode returns the APDU's wire bytes.
func (a APDU) Encode() ([]byte, error) {
	n := len(a.Data)
	if n > 0xFFFF {
		return nil, fmt.Errorf("%w: %d data bytes, at most 65535", ErrBadAPDU, n)
	}
	out := make([]byte, 0, n+5)
	out = append(out, a.Class, a.Instr)
	if n < 0xFF {
		out = append(out, byte(n))
	} else {
		out = append(out, 0xFF, byte(n), byte(n>>8))
	}
	return append(out, a.Data...), nil
}

// DecodeAPDU parses b, which must hold exactly one APDU.
func DecodeAPDU(b []byte) (APDU, error) {
	if len(b) < 3 {
		return APDU{}, fmt.Errorf("%w: %d bytes, need at least 3", ErrBadAPDU, len(b))
	}
	n, hdr := int(b[2]), 3
	if b[2] == 0xFF {
		if len(b) < 5 {
			return APDU{}, fmt.Errorf("%w: long length truncated", ErrBadAPDU)
		}
		n, hdr = int(b[3])|int(b[4])<<8, 5
	}
	if len(b)-hdr != n {
		return APDU{}, fmt.Errorf("%w: length says %d data bytes, frame has %d", ErrBadAPDU, n, len(b)-hdr)
	}
	return APDU{Class: b[0], Instr: b[1], Data: b[hdr:]}, nil
}
