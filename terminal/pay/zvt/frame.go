package zvt

import (
	"errors"
	"fmt"
)

// Transport control bytes of the serial ZVT link.
const (
	stx = 0x02
	etx = 0x03
	ack = 0x06
	dle = 0x10
	nak = 0x15
)

// maxAPDU bounds the unstuffed APDU of one frame: class, instruction,
// FF + two length bytes and 65535 data bytes. Anything longer is refused.
const maxAPDU = 2 + 3 + 0xFFFF

// EncodeFrame wraps an encoded APDU for the serial line: DLE STX, the APDU
// with every DLE byte doubled, DLE ETX, then the CRC (see crc16) low byte
// first.
func EncodeFrame(apdu []byte) []byte {
	out := make([]byte, 0, len(apdu)+8)
	out = append(out, dle, stx)
	for _, b := range apdu {
		out = append(out, b)
		if b == dle {
			out = append(out, dle)
		}
	}
	crc := frameCRC(apdu)
	return append(out, dle, etx, byte(crc), byte(crc>>8))
}

// Frame decoding errors. A receiver answers each of them with NAK.
var (
	errIncomplete = errors.New("incomplete frame")
	errBadCRC     = errors.New("frame CRC mismatch")
	errFraming    = errors.New("DLE followed by neither DLE, STX nor ETX")
	errTooLong    = errors.New("frame longer than the largest APDU")
)

// DecodeFrame finds the first frame in b, skipping any bytes before DLE STX,
// and returns its APDU (DLE doubling removed, CRC checked) and the number of
// bytes of b consumed. When b holds no complete frame it returns an error
// wrapping ErrBadFrame; n then tells how far decoding got (the bytes of a
// rejected frame are consumed, a trailing partial frame is not).
func DecodeFrame(b []byte) (apdu []byte, n int, err error) {
	var p frameParser
	start := 0
	for i, c := range b {
		if p.state == huntIdle {
			start = i
		}
		switch ev, raw := p.feed(c); ev {
		case evFrame:
			return raw, i + 1, nil
		case evBadCRC:
			return nil, i + 1, fmt.Errorf("%w: %w", ErrBadFrame, errBadCRC)
		case evFraming:
			return nil, i + 1, fmt.Errorf("%w: %w", ErrBadFrame, errFraming)
		case evTooLong:
			return nil, i + 1, fmt.Errorf("%w: %w", ErrBadFrame, errTooLong)
		}
	}
	if p.state == huntIdle || p.state == huntDLE {
		start = len(b)
		if p.state == huntDLE {
			start--
		}
	}
	return nil, start, fmt.Errorf("%w: %w", ErrBadFrame, errIncomplete)
}

// frameParser is the receive state machine shared by DecodeFrame and the
// link: it is fed one byte at a time, so the same rules apply to a byte
// slice and to a serial stream.
type frameParser struct {
	state parseState
	apdu  []byte
	crcLo byte
}

type parseState int

const (
	huntIdle  parseState = iota // outside a frame, looking for DLE
	huntDLE                     // outside a frame, DLE seen, STX expected
	inBody                      // inside a frame
	inBodyDLE                   // inside a frame, DLE seen
	inCRC1                      // DLE ETX seen, CRC low byte expected
	inCRC2                      // CRC high byte expected
)

type parseEvent int

const (
	evNone parseEvent = iota
	evFrame
	evBadCRC
	evFraming
	evTooLong
)

// hunting reports whether the parser is between frames, where a lone ACK or
// NAK byte is a transport answer rather than frame content.
func (p *frameParser) hunting() bool { return p.state == huntIdle || p.state == huntDLE }

// inFrame reports whether a frame has started and not yet ended.
func (p *frameParser) inFrame() bool { return !p.hunting() }

func (p *frameParser) reset() { p.state, p.apdu = huntIdle, nil }

// feed advances the parser by one byte. On evFrame it returns the APDU.
func (p *frameParser) feed(b byte) (parseEvent, []byte) {
	switch p.state {
	case huntIdle:
		if b == dle {
			p.state = huntDLE
		}
	case huntDLE:
		switch b {
		case stx:
			p.state, p.apdu = inBody, make([]byte, 0, 64)
		case dle:
			// still DLE: wait for STX
		default:
			p.state = huntIdle
		}
	case inBody:
		if b == dle {
			p.state = inBodyDLE
			return evNone, nil
		}
		return p.add(b)
	case inBodyDLE:
		switch b {
		case dle:
			p.state = inBody
			return p.add(dle)
		case etx:
			p.state = inCRC1
		case stx:
			// A new frame starts inside the old one (the sender gave up
			// and restarted): resynchronise on it.
			p.state, p.apdu = inBody, p.apdu[:0]
		default:
			p.reset()
			return evFraming, nil
		}
	case inCRC1:
		p.crcLo, p.state = b, inCRC2
	case inCRC2:
		apdu := p.apdu
		p.reset()
		if uint16(p.crcLo)|uint16(b)<<8 != frameCRC(apdu) {
			return evBadCRC, nil
		}
		return evFrame, apdu
	}
	return evNone, nil
}

func (p *frameParser) add(b byte) (parseEvent, []byte) {
	if len(p.apdu) >= maxAPDU {
		p.reset()
		return evTooLong, nil
	}
	p.apdu = append(p.apdu, b)
	return evNone, nil
}
