package escpos

import (
	"fmt"
	"strconv"
)

// Real-time status requests: DLE EOT n. The printer answers each with one
// byte whose fixed bits are 0x12 (bit 1 set, bit 4 set, bits 0 and 7 clear)
// as soon as it receives the request, even while busy or offline.
const (
	StatusPrinter = 1 // 0x08 offline
	StatusOffline = 2 // why offline: 0x04 cover open, 0x20 stopped at paper end, 0x40 error
	StatusErrors  = 3 // error causes: 0x08 cutter, 0x20 unrecoverable, 0x40 auto-recoverable
	StatusPaper   = 4 // roll sensor: 0x0C near end, 0x60 paper absent
)

// Status bits of the DLE EOT replies.
const (
	statusFixed      = 0x12
	statusFixedMask  = 0x93
	bitOffline       = 0x08
	bitCoverOpen     = 0x04
	bitPaperEndStop  = 0x20
	bitErrorOccurred = 0x40
	bitPaperNearEnd  = 0x0C
	bitPaperAbsent   = 0x60
	bitCutterError   = 0x08
)

// GS r 1 answers the paper sensors after everything before it has been
// processed; its reply has bits 4 and 7 clear, so it is never mistaken for
// a DLE EOT reply (bit 4 set) or XON/XOFF.
const (
	gsrNearEnd  = 0x03
	gsrPaperOut = 0x0C
	gsrMask     = 0x90
)

// StatusQuery is the DLE EOT request for status n.
func StatusQuery(n byte) []byte { return []byte{DLE, 0x04, n} }

// JobDoneQuery is GS r 1: "paper sensor status", answered only when all
// the bytes before it are processed, so its reply marks the end of a job.
func JobDoneQuery() []byte { return []byte{GS, 'r', 1} }

// IsStatusReply reports whether b can be a reply to DLE EOT.
func IsStatusReply(b byte) bool { return b&statusFixedMask == statusFixed }

// IsSensorReply reports whether b can be a reply to GS r 1.
func IsSensorReply(b byte) bool { return b&gsrMask == 0 }

// Status is what a printer reports about itself.
type Status struct {
	// Reachable is false when nothing answered: no port, no power, no cable.
	Reachable    bool `json:"reachable"`
	Offline      bool `json:"offline"`
	CoverOpen    bool `json:"cover_open"`
	PaperNearEnd bool `json:"paper_near_end"`
	PaperOut     bool `json:"paper_out"`
	// Error is a mechanical fault: cutter jammed, head too hot.
	Error bool `json:"error"`
}

// Ready reports whether the printer can print now. Paper near its end is
// still ready.
func (s Status) Ready() bool {
	return s.Reachable && !s.Offline && !s.CoverOpen && !s.PaperOut && !s.Error
}

// Code is a stable word for the UI and logs: ready, paper_low, paper_out,
// cover_open, error, offline or unreachable, worst first.
func (s Status) Code() string {
	switch {
	case !s.Reachable:
		return "unreachable"
	case s.PaperOut:
		return "paper_out"
	case s.CoverOpen:
		return "cover_open"
	case s.Error:
		return "error"
	case s.Offline:
		return "offline"
	case s.PaperNearEnd:
		return "paper_low"
	}
	return "ready"
}

// String says the same as Code, for people: "paper out".
func (s Status) String() string {
	switch c := s.Code(); c {
	case "paper_low":
		return "paper low"
	case "paper_out":
		return "paper out"
	case "cover_open":
		return "cover open"
	case "unreachable":
		return "not answering"
	default:
		return c
	}
}

// DecodeStatus decodes the replies to DLE EOT 1, 2 and 4.
func DecodeStatus(printer, offline, paper byte) (Status, error) {
	for i, b := range []byte{printer, offline, paper} {
		if !IsStatusReply(b) {
			return Status{}, fmt.Errorf("escpos: status reply %d is 0x%02X: not a DLE EOT answer", i+1, b)
		}
	}
	return Status{
		Reachable:    true,
		Offline:      printer&bitOffline != 0,
		CoverOpen:    offline&bitCoverOpen != 0,
		PaperOut:     offline&bitPaperEndStop != 0 || paper&bitPaperAbsent != 0,
		Error:        offline&bitErrorOccurred != 0,
		PaperNearEnd: paper&bitPaperNearEnd != 0,
	}, nil
}

// DecodeSensor decodes the reply to GS r 1 into the paper fields of s.
func DecodeSensor(b byte) (nearEnd, paperOut bool, err error) {
	if !IsSensorReply(b) {
		return false, false, fmt.Errorf("escpos: GS r reply 0x%02X", b)
	}
	return b&gsrNearEnd != 0, b&gsrPaperOut != 0, nil
}

// StatusReply is the byte a printer in state s answers to DLE EOT n; ok is
// false for an n printers do not answer.
func StatusReply(s Status, n byte) (b byte, ok bool) {
	b = statusFixed
	switch n {
	case StatusPrinter:
		if s.Offline || s.CoverOpen || s.PaperOut || s.Error {
			b |= bitOffline
		}
	case StatusOffline:
		if s.CoverOpen {
			b |= bitCoverOpen
		}
		if s.PaperOut {
			b |= bitPaperEndStop
		}
		if s.Error {
			b |= bitErrorOccurred
		}
	case StatusErrors:
		if s.Error {
			b |= bitCutterError
		}
	case StatusPaper:
		if s.PaperNearEnd || s.PaperOut {
			b |= bitPaperNearEnd
		}
		if s.PaperOut {
			b |= bitPaperAbsent
		}
	default:
		return 0, false
	}
	return b, true
}

// SensorReply is the byte a printer in state s answers to GS r 1.
func SensorReply(s Status) byte {
	var b byte
	if s.PaperNearEnd || s.PaperOut {
		b |= gsrNearEnd
	}
	if s.PaperOut {
		b |= gsrPaperOut
	}
	return b
}

// ClearBuffers is the real-time command DLE DC4 8 1 3 20 1 6 2 8: the
// printer drops whatever it has received but not printed, including the
// rest of a command cut off mid-way (a host that died inside a raster
// image). Like DLE EOT it acts wherever it appears in the input. The
// transport sends it when it opens the port, before anything else.
func ClearBuffers() []byte { return []byte{DLE, 0x14, 8, 1, 3, 20, 1, 6, 2, 8} }

// PrinterIDQuery is GS I n: n 1 model id, 2 type id (one byte each); 65
// firmware, 66 maker, 67 model name (printer information B: "_", the
// text, NUL).
func PrinterIDQuery(n byte) []byte { return []byte{GS, 'I', n} }

// Printer information B ids for PrinterIDQuery.
const (
	IDModel    byte = 1
	IDType     byte = 2
	IDFirmware byte = 65
	IDMaker    byte = 66
	IDName     byte = 67
)

// InfoReply is a printer's answer to GS I 65–69: "_", text, NUL.
func InfoReply(text string) []byte {
	out := append([]byte{'_'}, text...)
	return append(out, 0)
}

// QRProbe stores a one-character QR symbol (model 2) and asks for its size
// (GS ( k fn 82): a printer that draws QR codes answers QRSizeReply, one
// that does not stays silent. Nothing prints.
func QRProbe() []byte {
	return []byte{
		GS, '(', 'k', 4, 0, 49, 65, 50, 0,
		GS, '(', 'k', 3, 0, 49, 67, 3,
		GS, '(', 'k', 4, 0, 49, 80, 48, 'L',
		GS, '(', 'k', 3, 0, 49, 82, 48,
	}
}

// QRSizeReply is the answer to GS ( k fn 82 for a symbol of dots × dots:
// "7" "6" (header, identifier), the width in ASCII digits, US, the height,
// US, "0" (printable), NUL.
func QRSizeReply(dots int) []byte {
	d := []byte(strconv.Itoa(dots))
	out := append([]byte{'7', '6'}, d...)
	out = append(out, 0x1F)
	out = append(out, d...)
	out = append(out, 0x1F, '0', 0)
	return out
}
