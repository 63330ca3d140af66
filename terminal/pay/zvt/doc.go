// Package zvt drives a card terminal (PDQ) over a serial line with the ZVT
// protocol (PA00P015/PA00P016), ECR side, and emulates one, PT side.
//
// Layers, bottom up:
//
//   - Frames (EncodeFrame, DecodeFrame, Link): DLE STX, the APDU with every
//     DLE doubled, DLE ETX, CRC-16 (reflected 0x8408, init 0, over APDU and
//     ETX) low byte first; the receiver answers ACK (06) or NAK (15). Link
//     retransmits on NAK or a missing ACK (Timeouts.Tries in all), NAKs bad
//     frames, skips garbage, and times out (Timeouts).
//   - APDUs (APDU, DecodeAPDU) and their fields (BMP, DecodeBMPs): class,
//     instruction, length (1 byte, or FF + 2 bytes little-endian), data.
//   - Client: Register (06 00), Authorize (06 01), Abort (06 B0),
//     LastResult (06 20 repeat receipt) and Recover (LastResult matched to
//     a Pending payment), handling 04 FF intermediate status, 04 0F status
//     information, 06 0F completion and 06 1E abort from the PDQ.
//   - Emulator and RunEmulator: a PT with modes approve, decline, timeout
//     and silent, a persistent journal, and fault injection.
//
// Protocol code takes a Port (io.ReadWriter + SetReadTimeout), which a
// go.bug.st/serial port satisfies; AdaptPort adapts a pty master or any
// io.ReadWriter. Errors are *terminal.Error values (EDEVICE for the PDQ,
// EINVALID for bad input and declines) wrapping this package's sentinel
// errors. docs/PDQ.md describes the subset, the conversations and what is
// not implemented.
package zvt
