package zvt

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// A conversation is what crossed the line, seen from the ECR: '>' the ECR
// wrote, '<' the PDQ sent. Files hold one step per line, bytes in hex,
// '#' starts a comment.
type convStep struct {
	dir  byte // '>' or '<'
	data []byte
	note string
	line int
}

func parseConversation(text string) ([]convStep, error) {
	var steps []convStep
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line, note, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		dir := line[0]
		if dir != '>' && dir != '<' {
			return nil, fmt.Errorf("line %d: want > or <", n)
		}
		b, err := hex.DecodeString(strings.Join(strings.Fields(line[1:]), ""))
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("line %d: bad hex: %v", n, err)
		}
		steps = append(steps, convStep{dir: dir, data: b, note: strings.TrimSpace(note), line: n})
	}
	return steps, sc.Err()
}

func loadConversation(t *testing.T, path string) []convStep {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	steps, err := parseConversation(string(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return steps
}

var errScript = errors.New("write not in the script")

// scriptPort plays the PDQ side of a conversation: a '<' step becomes
// readable once every earlier '>' step was written exactly. Reading when
// the script expects a write waits out the read timeout, like a silent line.
type scriptPort struct {
	t       *testing.T
	mu      sync.Mutex
	steps   []convStep
	i       int
	pending []byte
	written []byte
	timeout time.Duration
}

func newScriptPort(t *testing.T, steps []convStep) *scriptPort {
	return &scriptPort{t: t, steps: steps, timeout: -1}
}

func (p *scriptPort) SetReadTimeout(d time.Duration) error {
	p.mu.Lock()
	p.timeout = d
	p.mu.Unlock()
	return nil
}

func (p *scriptPort) Read(b []byte) (int, error) {
	p.mu.Lock()
	if len(p.pending) == 0 && p.i < len(p.steps) && p.steps[p.i].dir == '<' {
		p.pending = p.steps[p.i].data
		p.i++
	}
	if len(p.pending) == 0 {
		d := p.timeout
		p.mu.Unlock()
		if d < 0 || d > 50*time.Millisecond {
			d = 50 * time.Millisecond
		}
		time.Sleep(d)
		return 0, nil
	}
	defer p.mu.Unlock()
	n := copy(b, p.pending)
	p.pending = p.pending[n:]
	return n, nil
}

func (p *scriptPort) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, c := range b {
		if p.i >= len(p.steps) || p.steps[p.i].dir != '>' {
			p.t.Errorf("ECR wrote % X (at byte %d of this write), but the script expects %s", b, k, p.expecting())
			return k, errScript
		}
		s := p.steps[p.i]
		p.written = append(p.written, c)
		if want := s.data[len(p.written)-1]; want != c {
			p.t.Errorf("line %d (%s): ECR wrote % X…; want % X", s.line, s.note, p.written, s.data)
			return k, errScript
		}
		if len(p.written) == len(s.data) {
			p.i++
			p.written = nil
		}
	}
	return len(b), nil
}

func (p *scriptPort) expecting() string {
	if p.i >= len(p.steps) {
		return "the end"
	}
	s := p.steps[p.i]
	return fmt.Sprintf("line %d: %c % X", s.line, s.dir, s.data)
}

// done reports steps not yet played.
func (p *scriptPort) done() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.i < len(p.steps) || len(p.pending) > 0 {
		return fmt.Errorf("conversation stopped early, next: %s", p.expecting())
	}
	return nil
}

// steps is a literal script for link tests.
func steps(s ...any) []convStep {
	var out []convStep
	for i := 0; i < len(s); i += 2 {
		out = append(out, convStep{dir: s[i].(byte), data: s[i+1].([]byte), line: i/2 + 1})
	}
	return out
}

// frameOf is the frame of an APDU given as hex.
func frameOf(t *testing.T, h string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return EncodeFrame(b)
}

// recordPort records what crosses p, from the ECR's side.
type recordPort struct {
	Port
	mu    sync.Mutex
	steps []convStep
}

func (r *recordPort) add(dir byte, b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.steps); n > 0 && r.steps[n-1].dir == dir {
		r.steps[n-1].data = append(r.steps[n-1].data, b...)
		return
	}
	r.steps = append(r.steps, convStep{dir: dir, data: append([]byte(nil), b...)})
}

func (r *recordPort) Read(b []byte) (int, error) {
	n, err := r.Port.Read(b)
	if n > 0 {
		r.add('<', b[:n])
	}
	return n, err
}

func (r *recordPort) Write(b []byte) (int, error) {
	n, err := r.Port.Write(b)
	if n > 0 {
		r.add('>', b[:n])
	}
	return n, err
}

// format writes the recording one token (ACK, NAK, frame, other bytes) per
// line, each frame annotated.
func (r *recordPort) format(title string) string {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# %s\n# '>' the ECR (till) writes, '<' the PDQ sends. Recorded against the emulator\n# with -update; hand-checked CRCs in crc_test.go.\n", title)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.steps {
		for b := s.data; len(b) > 0; {
			var tok []byte
			var note string
			switch {
			case b[0] == ack:
				tok, note = b[:1], "ACK"
			case b[0] == nak:
				tok, note = b[:1], "NAK"
			default:
				apdu, n, err := DecodeFrame(b)
				if n == 0 {
					n = len(b)
				}
				tok = b[:n]
				if err != nil {
					note = "bad frame: " + err.Error()
				} else {
					note = describeAPDU(apdu)
				}
			}
			fmt.Fprintf(&buf, "%c %s", s.dir, spacedHex(tok))
			fmt.Fprintf(&buf, "  # %s\n", note)
			b = b[len(tok):]
		}
	}
	return buf.String()
}

func spacedHex(b []byte) string {
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("%02X", c)
	}
	return strings.Join(parts, " ")
}

func describeAPDU(raw []byte) string {
	a, err := DecodeAPDU(raw)
	if err != nil {
		return "malformed APDU"
	}
	name := map[uint16]string{
		cmdStatusInfo: "status information", cmdIntermediate: "intermediate status",
		cmdRegister: "registration", cmdAuthorise: "authorisation", cmdCompletion: "completion",
		cmdAbortPT: "abort", cmdRepeatReceipt: "repeat receipt", cmdAbortECR: "abort (ECR)",
		ansPositive: "positive acknowledgement",
	}[a.Command()]
	switch {
	case name == "":
		name = "?"
	case a.Command() == cmdIntermediate && len(a.Data) > 0:
		name += fmt.Sprintf(" %02X: %s", a.Data[0], StatusText(a.Data[0]))
	case a.Command() == cmdAbortPT && len(a.Data) > 0:
		name += fmt.Sprintf(", result code %02X: %s", a.Data[0], ResultMessage(a.Data[0]))
	case a.Command() == cmdStatusInfo:
		if si, err := decodeStatusInfo(a.Data, fixedNow(), time.UTC); err == nil {
			r := si.result(fixedNow())
			name += fmt.Sprintf(": result %02X, %s, trace %d, receipt %d", r.ResultCode, r.Amount, r.Trace, r.Receipt)
			if r.Approval != "" {
				name += ", approval " + r.Approval
			}
		}
	}
	return fmt.Sprintf("%02X %02X %s", a.Class, a.Instr, name)
}
