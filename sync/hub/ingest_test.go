package hub

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lango-pos/lango/terminal"
)

func TestFindString(t *testing.T) {
	tests := []struct {
		in    string
		path  []string
		want  string
		found bool
		err   bool
	}{
		{`{"id":"x","site":"NNP"}`, []string{"site"}, "NNP", true, false},
		{` { "a" : [1, {"site":"X"}, "}"] , "site" : "N\u004eP" } `, []string{"site"}, "NNP", true, false},
		{`{"reason":"a \"site\": x","refund":{"lines":[{"site":"NO"}],"site":"AMB"}}`, []string{"refund", "site"}, "AMB", true, false},
		{`{"settlement_id":"s"}`, []string{"settlement", "site"}, "", false, false},
		{`{"site":1}`, []string{"site"}, "", false, true},
		{`{"site":"A","site":"B"}`, []string{"site"}, "A", true, false},
		{`[1]`, []string{"site"}, "", false, true},
		{`{"refund":3}`, []string{"refund", "site"}, "", false, true},
		{`{}`, []string{"site"}, "", false, false},
	}
	for _, tt := range tests {
		got, found, err := findString([]byte(tt.in), tt.path)
		if got != tt.want || found != tt.found || (err != nil) != tt.err {
			t.Errorf("findString(%s, %v) = %q, %v, %v; want %q, %v, error %v", tt.in, tt.path, got, found, err, tt.want, tt.found, tt.err)
		}
	}
}

// FuzzFindString: on any valid JSON, findString never panics, and where a
// key occurs once it agrees with encoding/json.
func FuzzFindString(f *testing.F) {
	for _, s := range []string{`{"site":"NNP"}`, `{"a":{"b":[1,2,{"site":"x"}]},"site":"Y"}`, `{"site":"\"}"}`, `{"x":"\\","site":"q"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, found, err := findString(b, []string{"site"})
		if !json.Valid(b) || bytes.Count(b, []byte(`site`)) != 1 {
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(b, &m) != nil {
			return
		}
		raw, ok := m["site"]
		var want string
		wantOK := ok && json.Unmarshal(raw, &want) == nil
		if wantOK != (found && err == nil) || got != want {
			t.Fatalf("findString(%s) = %q, %v, %v; encoding/json says %q, %v", b, got, found, err, want, wantOK)
		}
	})
}

func chain(n int) []terminal.Event {
	var out []terminal.Event
	prev := ""
	for i := 1; i <= n; i++ {
		e := terminal.Event{Seq: int64(i), ID: "0190", Terminal: "t", Type: "x", At: time.Unix(int64(i), 0), Payload: []byte(`{}`), PrevHash: prev}
		e.Hash = e.ComputeHash()
		prev = e.Hash
		out = append(out, e)
	}
	return out
}

func TestCheckChain(t *testing.T) {
	evs := chain(6)
	if b := CheckChain(0, "", evs); len(b) != 0 {
		t.Fatalf("intact chain: %v", b)
	}
	if b := CheckChain(2, evs[1].Hash, evs[2:]); len(b) != 0 {
		t.Fatalf("intact tail: %v", b)
	}
	if b := CheckChain(2, "beef", evs[2:]); len(b) != 1 || b[0].Seq != 3 {
		t.Errorf("wrong link: %v; want one break at 3", b)
	}
	bad := append([]terminal.Event(nil), evs...)
	bad[3].Payload = []byte(`{"x":1}`)
	if b := CheckChain(0, "", bad); len(b) != 1 || b[0].Seq != 4 {
		t.Errorf("altered record: %v; want one break at 4", b)
	}
}

func TestNonceCache(t *testing.T) {
	c := newNonceCache(time.Minute)
	t0 := time.Unix(1000, 0)
	if !c.add("a", t0) || c.add("a", t0.Add(30*time.Second)) {
		t.Fatal("a nonce was accepted twice within the window")
	}
	if !c.add("b", t0) {
		t.Fatal("b refused")
	}
	if !c.add("a", t0.Add(2*time.Minute)) {
		t.Error("a nonce past the window was refused")
	}
	if len(c.seen) != 1 {
		t.Errorf("%d nonces kept; want the old ones pruned", len(c.seen))
	}
}

func TestBackdatedCatalogueSeq(t *testing.T) {
	// Publication numbers grow even when the clock goes back.
	if got := max(int64(5000)+1, time.Unix(1, 0).UnixMilli()); got != 5001 {
		t.Fatal(got)
	}
}

// TestJoinChain: checking a batch on its own before the write lock, then
// joining it to the hub's last hash, finds exactly the breaks a check of
// the new events from the hub's last hash finds, whatever the damage and
// however many of the batch the hub already holds.
func TestJoinChain(t *testing.T) {
	damage := map[string]func(es []terminal.Event){
		"none":          func([]terminal.Event) {},
		"first altered": func(es []terminal.Event) { es[0].Payload = []byte(`{"x":1}`) },
		"first relinked": func(es []terminal.Event) {
			es[0].PrevHash = "beef"
			es[0].Hash = es[0].ComputeHash()
		},
		"middle altered": func(es []terminal.Event) { es[3].Actor = "mallory" },
		"last altered":   func(es []terminal.Event) { es[len(es)-1].Type = "y" },
		"two breaks": func(es []terminal.Event) {
			es[2].Payload = []byte(`{"a":2}`)
			es[4].PrevHash = es[2].PrevHash
		},
	}
	full := chain(8)
	for name, hurt := range damage {
		batch := append([]terminal.Event(nil), full[2:]...) // seqs 3–8
		hurt(batch)
		inner := CheckChain(batch[0].Seq-1, batch[0].PrevHash, batch)
		for held := 0; held < len(batch); held++ { // the hub holds seqs 3..3+held-1
			lastHash := full[1].Hash
			if held > 0 {
				lastHash = batch[held-1].Hash
			}
			rest := batch[held:]
			want := CheckChain(rest[0].Seq-1, lastHash, rest)
			got := JoinChain(lastHash, &rest[0], inner)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s, %d held: joined %v; checked whole %v", name, held, got, want)
			}
		}
	}
}

// TestValidEventType agrees with the pattern the protocol states.
func TestValidEventType(t *testing.T) {
	re := regexp.MustCompile(`^[a-z][a-z0-9_.]{0,63}$`)
	cases := []string{"", "a", "sale.created", "pass_used.2", "Sale", "1sale", ".x", "sale-created", "sale created", "é", "a\x00",
		strings.Repeat("a", 64), strings.Repeat("a", 65), "z" + strings.Repeat("9", 63)}
	for _, c := range cases {
		if got, want := validEventType(c), re.MatchString(c); got != want {
			t.Errorf("validEventType(%q) = %v; the pattern says %v", c, got, want)
		}
	}
}

func FuzzValidEventType(f *testing.F) {
	re := regexp.MustCompile(`^[a-z][a-z0-9_.]{0,63}$`)
	f.Add("sale.created")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validEventType(s), re.MatchString(s); got != want {
			t.Fatalf("validEventType(%q) = %v; the pattern says %v", s, got, want)
		}
	})
}
