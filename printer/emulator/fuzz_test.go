package emulator

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// run feeds stream in pieces cut at cuts and returns the replies and
// the pages' dots.
func run(t *testing.T, stream []byte, cuts ...int) ([]byte, [][]byte, Stats) {
	t.Helper()
	var pages [][]byte
	e, err := New(Config{WidthDots: 384, Sink: func(p Page) error {
		pages = append(pages, append([]byte(nil), p.Image.Pix...))
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	var replies []byte
	prev := 0
	for _, c := range append(cuts, len(stream)) {
		c = min(max(c, prev), len(stream))
		out, err := e.Feed(stream[prev:c])
		if err != nil {
			t.Fatal(err)
		}
		replies = append(replies, out...)
		prev = c
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	return replies, pages, e.Stats()
}

// FuzzEmulator: no stream makes the emulator panic, and how the bytes are
// split into reads never changes what it prints or answers.
func FuzzEmulator(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(peersDir, "*.bin"))
	golden, _ := filepath.Glob("../../testdata/printer/golden/*-generic58.bin")
	for _, name := range append(seeds, golden...) {
		if b, err := os.ReadFile(name); err == nil && len(b) < 16<<10 {
			f.Add(b, uint16(len(b)/3))
		}
	}
	f.Fuzz(func(t *testing.T, stream []byte, cut uint16) {
		if len(stream) > 8<<10 {
			return
		}
		r1, p1, s1 := run(t, stream)
		r2, p2, s2 := run(t, stream, int(cut)%(len(stream)+1), int(cut)%(len(stream)+1)+1)
		if !bytes.Equal(r1, r2) {
			t.Fatalf("replies differ with the split: % X vs % X", r1, r2)
		}
		if len(p1) != len(p2) || s1.Jobs != s2.Jobs || len(s1.Malformed) != len(s2.Malformed) {
			t.Fatalf("jobs differ with the split: %d vs %d pages", len(p1), len(p2))
		}
		for i := range p1 {
			if !bytes.Equal(p1[i], p2[i]) {
				t.Fatalf("page %d differs with the split", i)
			}
		}
	})
}
