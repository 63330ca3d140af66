package scan

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lango-pos/lango/internal/pty"
)

// TestSerialScanner writes what a scanner sends into the device side of a
// pseudo-terminal and checks what the exit lane receives.
func TestSerialScanner(t *testing.T) {
	p, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	link := filepath.Join(t.TempDir(), "ttySCAN")
	if err := p.Link(link); err != nil {
		t.Fatal(err)
	}
	st, err := ParseSetting("serial:" + link + "?baud=9600")
	if err != nil {
		t.Fatal(err)
	}
	port, err := Open(st)
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	var mu sync.Mutex
	var got []string
	sc := New(port, func(s string) { mu.Lock(); got = append(got, s); mu.Unlock() }, nil)
	sc.Start(context.Background())
	defer sc.Close()

	pass := "LG1:" + strings.Repeat("0123456789", 60)
	feed := []string{
		pass + "\r\n",                          // CR LF
		"LG1:42\r",                             // CR only, in two pieces below
		"\x00\x01\xff\xfe garbage\n",           // binary noise: refused
		strings.Repeat("9", MaxScan+10) + "\n", // overlong: refused
		"\n\r\n",                               // empty lines: ignored
		"  LG1:7  \n",                          // spaces trimmed
	}
	for _, f := range feed {
		if f == "LG1:42\r" {
			p.Master.Write([]byte("LG1:"))
			time.Sleep(50 * time.Millisecond)
			p.Master.Write([]byte("42\r"))
			continue
		}
		p.Master.Write([]byte(f))
	}
	want := []string{pass, "LG1:42", "LG1:7"}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("got %d scans %q; want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("scan %d = %.40q; want %.40q", i, got[i], want[i])
		}
	}
	if r := sc.Refused(); r != 2 {
		t.Errorf("refused %d lines; want 2 (noise, overlong)", r)
	}
}

func TestParseSetting(t *testing.T) {
	for _, bad := range []string{"keyboard", "serial:", "serial:/dev/x?baud=fast", "serial:/dev/x?baud=1"} {
		if _, err := ParseSetting(bad); err == nil {
			t.Errorf("ParseSetting(%q) accepted", bad)
		}
	}
	if s, err := ParseSetting("serial:/dev/ttyACM0"); err != nil || s.Baud != 9600 {
		t.Errorf("default baud: %+v %v", s, err)
	}
}

func FuzzScanner(f *testing.F) {
	f.Add([]byte("LG1:123\r\n\x00\xff\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var got []string
		s := New(nil, func(x string) { got = append(got, x) }, nil)
		s.deliver(b, false)
		for _, g := range got {
			if strings.ContainsAny(g, "\x00\r\n") {
				t.Fatalf("delivered %q", g)
			}
		}
	})
}
