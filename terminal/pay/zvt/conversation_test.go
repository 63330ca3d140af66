package zvt

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lango-pos/lango/internal/pty"
	"github.com/lango-pos/lango/terminal"
	"go.bug.st/serial"
)

var update = flag.Bool("update", false, "re-record the testdata/zvt conversations against the emulator")

const convDir = "../../../testdata/zvt"

// testTimeouts keep tests fast; the protocol logic is the same.
func testTimeouts() Timeouts {
	return Timeouts{
		Byte: 200 * time.Millisecond, Ack: 300 * time.Millisecond, Tries: 3,
		Response: 500 * time.Millisecond, Idle: 1500 * time.Millisecond,
		Transaction: 10 * time.Second, Poll: 20 * time.Millisecond,
	}
}

func fixedNow() time.Time { return time.Date(2026, 1, 9, 14, 3, 7, 0, time.UTC) }

func kes(minor int64) terminal.Money { return terminal.Money{Currency: "KES", Minor: minor} }

type convCase struct {
	name    string
	title   string
	mode    Mode
	prepare func(t *testing.T, e *Emulator, c *Client) // recording only, not recorded
	before  func(e *Emulator, c *Client)               // e is nil on playback
	run     func(t *testing.T, c *Client)
}

func conversationCases() []convCase {
	approve := func(t *testing.T, c *Client) {
		var seen []byte
		r, err := c.Authorize(context.Background(), Request{Reference: "sale-1", Amount: kes(100000),
			OnStatus: func(s Status) { seen = append(seen, s.Code) }})
		if err != nil {
			t.Fatalf("Authorize: %v", err)
		}
		if !r.Approved || r.ResultCode != 0 || r.Approval != "112648" || r.CardLast4 != "0119" || r.CardName != "VISA" ||
			r.Trace != 1 || r.Receipt != 1 || r.TerminalID != "52000001" || r.Amount != kes(100000) || r.Reference != "sale-1" ||
			!r.Time.Equal(fixedNow()) {
			t.Fatalf("result = %+v", r)
		}
		if string(seen) != "\x0a\x01\x04" {
			t.Fatalf("statuses % X; want 0A 01 04", seen)
		}
	}
	return []convCase{
		{
			name: "register", title: "Registration (06 00): password 000000, config byte 08, currency KES (04 04)",
			mode: ModeApprove,
			run: func(t *testing.T, c *Client) {
				reg, err := c.Register(context.Background())
				if err != nil {
					t.Fatalf("Register: %v", err)
				}
				if reg.TerminalID != "52000001" || reg.Status != 0 {
					t.Fatalf("registration = %+v", reg)
				}
			},
		},
		{
			name: "approve", title: "Approved sale of KES 1,000.00 (amount 00 00 00 10 00 00: its DLE is doubled on the line)",
			mode: ModeApprove, run: approve,
		},
		{
			name: "decline", title: "Declined sale of KES 4,000.00: status information with result code 05, then abort 06 1E 05",
			mode: ModeDecline,
			run: func(t *testing.T, c *Client) {
				r, err := c.Authorize(context.Background(), Request{Reference: "sale-2", Amount: kes(400000)})
				if !errors.Is(err, ErrDeclined) || terminal.ErrorKind(err) != terminal.EINVALID {
					t.Fatalf("err = %v (kind %q); want ErrDeclined, EINVALID", err, terminal.ErrorKind(err))
				}
				if r.Approved || r.ResultCode != 0x05 || r.Message != "declined by the card's bank (do not honour)" || r.Trace != 1 || r.Approval != "" {
					t.Fatalf("result = %+v", r)
				}
				if msg := terminal.ErrorMessage(err); msg != "card payment declined: declined by the card's bank (do not honour)" {
					t.Fatalf("message %q", msg)
				}
			},
		},
		{
			name: "nak", title: "Approved sale with a corrupted frame each way: the ECR's first 06 01 and the PDQ's first 80 00 00 are NAKed and sent again",
			mode: ModeApprove,
			before: func(e *Emulator, c *Client) {
				c.link.CorruptNextFrame()
				if e != nil {
					e.CorruptNextFrame()
				}
			},
			run: func(t *testing.T, c *Client) {
				approve(t, c)
				if s := c.Stats(); s.NAKsSent != 1 || s.NAKsReceived != 1 || s.Retransmits != 1 {
					t.Fatalf("link stats %+v; want one NAK each way, one retransmission", s)
				}
			},
		},
		{
			name: "repeat-receipt", title: "Recovery: repeat receipt (06 20 + password) returns the last transaction (approved, trace 1)",
			mode: ModeApprove,
			prepare: func(t *testing.T, e *Emulator, c *Client) {
				if _, err := c.Authorize(context.Background(), Request{Amount: kes(100000)}); err != nil {
					t.Fatal(err)
				}
			},
			run: func(t *testing.T, c *Client) {
				r, found, err := c.LastResult(context.Background())
				if err != nil || !found {
					t.Fatalf("LastResult: found=%v err=%v", found, err)
				}
				if !r.Approved || r.Trace != 1 || r.Receipt != 1 || r.Approval != "112648" || r.Amount != kes(100000) || r.CardLast4 != "0119" {
					t.Fatalf("last = %+v", r)
				}
			},
		},
	}
}

func conversationConfig() Config {
	return Config{Timeouts: testTimeouts(), Now: fixedNow, Location: time.UTC}
}

// TestConversations replays recorded conversations: every byte the client
// writes must match, the PDQ side is played from the file.
func TestConversations(t *testing.T) {
	for _, cc := range conversationCases() {
		t.Run(cc.name, func(t *testing.T) {
			path := filepath.Join(convDir, cc.name+".conv")
			if *update {
				record(t, cc, path)
			}
			port := newScriptPort(t, loadConversation(t, path))
			c, err := NewClient(port, conversationConfig())
			if err != nil {
				t.Fatal(err)
			}
			if cc.before != nil {
				cc.before(nil, c)
			}
			cc.run(t, c)
			if err := port.done(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// record runs cc against the emulator over a real pty and writes path.
func record(t *testing.T, cc convCase, path string) {
	t.Helper()
	p, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	e, err := NewEmulator(EmulatorConfig{Mode: cc.mode, Think: 10 * time.Millisecond, Timeouts: testTimeouts(), Now: fixedNow, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, p.Master) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	sp, err := serial.Open(p.Path, &serial.Mode{BaudRate: 9600, DataBits: 8, StopBits: serial.TwoStopBits})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	if cc.prepare != nil {
		c, err := NewClient(sp, conversationConfig())
		if err != nil {
			t.Fatal(err)
		}
		cc.prepare(t, e, c)
	}
	rec := &recordPort{Port: sp}
	c, err := NewClient(rec, conversationConfig())
	if err != nil {
		t.Fatal(err)
	}
	if cc.before != nil {
		cc.before(e, c)
	}
	cc.run(t, c)
	// Let the emulator read the ECR's last acknowledgement before stopping.
	for deadline := time.Now().Add(2 * time.Second); e.Busy() && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if err := os.WriteFile(path, []byte(rec.format(cc.title)), 0o644); err != nil {
		t.Fatal(err)
	}
}
