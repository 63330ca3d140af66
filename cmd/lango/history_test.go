package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestSalesListings: `lango sales` streams its listing; --format json (and
// --json) is the JSON array the encoder would write of the whole list,
// byte for byte; ndjson is one sale a line; --since, --until and --limit
// select; a wrong flag is a usage error.
func TestSalesListings(t *testing.T) {
	c := newCLI(t)
	c.initNNP()
	c.ok("shift", "open", "--as", "admin", "--float", "KES=0")
	for i := 0; i < 5; i++ {
		c.ok("sell", "--as", "admin", "--item", "EAC-ADULT=1", "--pay", "cash")
	}
	nd := c.ok("sales", "--format", "ndjson")
	lines := strings.Split(strings.TrimSuffix(nd, "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("ndjson: %d lines, want 5:\n%s", len(lines), nd)
	}
	var docs []json.RawMessage
	var sales []struct {
		Number int    `json:"number"`
		At     string `json:"at"`
	}
	for _, l := range lines {
		var s struct {
			Number int    `json:"number"`
			At     string `json:"at"`
		}
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("ndjson line %q: %v", l, err)
		}
		docs, sales = append(docs, json.RawMessage(l)), append(sales, s)
	}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetIndent("", "  ")
	enc.Encode(docs)
	if got := c.ok("sales", "--json"); got != want.String() {
		t.Errorf("sales --json is not the encoder's array:\n%s\nwant:\n%s", got, want.String())
	}
	if got := c.ok("sales", "--format", "json"); got != want.String() {
		t.Error("--format json differs from --json")
	}
	count := func(args ...string) int {
		var out []json.RawMessage
		if err := json.Unmarshal([]byte(c.ok(append([]string{"sales", "--json"}, args...)...)), &out); err != nil {
			t.Fatalf("sales %v: %v", args, err)
		}
		return len(out)
	}
	if n := count("--limit", "2"); n != 2 {
		t.Errorf("--limit 2: %d sales", n)
	}
	if n := count("--until", sales[2].At); n > 2 {
		t.Errorf("--until the third sale's time: %d sales, want at most 2", n)
	}
	if n := count("--since", "2000-01-01T00:00:00Z", "--until", "2000-01-02T00:00:00Z"); n != 0 {
		t.Errorf("a day in 2000: %d sales", n)
	}
	if n := count("--since", "2000-01-01T00:00:00Z"); n != 5 {
		t.Errorf("since 2000: %d sales, want 5", n)
	}
	if got := c.ok("sales", "--json", "--since", "2999-01-01T00:00:00Z"); got != "[]\n" {
		t.Errorf("nothing since 2999: %q", got)
	}
	if got := c.ok("sales"); strings.Count(got, "\n") != 5 || !strings.Contains(got, "     1  ") {
		t.Errorf("the text listing:\n%s", got)
	}
	c.refused(2, `--format "xml"`, "sales", "--format", "xml")
	c.refused(2, "--limit -1", "sales", "--limit", "-1")
	c.refused(2, `--until "friday"`, "sales", "--until", "friday")
}

// TestAuditShowsProgressOnATerminal: on a terminal, an audit that runs
// long rewrites one line with how far along the chain it is, and clears it
// at the end; into a pipe it shows nothing.
func TestAuditShowsProgressOnATerminal(t *testing.T) {
	c := newCLI(t)
	c.initNNP()
	c.ok("shift", "open", "--as", "admin", "--float", "KES=0")
	c.ok("sell", "--as", "admin", "--item", "EAC-ADULT=1", "--pay", "cash")
	run := func(tty bool) (string, string) {
		var out, errb bytes.Buffer
		m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return c.env[k] },
			IsTerminal: func() bool { return false }, StderrIsTerminal: func() bool { return tty }, ProgressAfter: time.Nanosecond}
		defer m.Close()
		if code := m.Run(context.Background(), []string{"--data", c.data, "audit", "verify"}); code != 0 {
			t.Fatalf("audit verify: exit %d: %s", code, errb.String())
		}
		return out.String(), errb.String()
	}
	out, errs := run(true)
	var events int
	if _, err := fmt.Sscanf(out, "audit chain intact: %d events", &events); err != nil {
		t.Fatalf("stdout %q: %v", out, err)
	}
	if want := fmt.Sprintf("\raudit: %d of %d events\r\033[K", events, events); errs != want {
		t.Errorf("stderr on a terminal %q; want %q", errs, want)
	}
	if _, errs := run(false); errs != "" {
		t.Errorf("stderr into a pipe %q; want nothing", errs)
	}
}
