package hub

import (
	"bytes"
	"io"
	"testing"
)

// BenchmarkReadDeclared: reading a batch-sized body (300 KB as sent) into
// a new buffer that grows as it arrives, into a reused one (the hub's
// pool), and into one of the declared size made up front (the code
// before, which a declared length alone could make allocate 8 MiB).
//
//	go test ./sync/hub -run '^$' -bench ReadDeclared -count 5
func BenchmarkReadDeclared(b *testing.B) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 300<<10/16)
	b.Run("grown", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, err := readDeclared(nil, bytes.NewReader(body), int64(len(body))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pooled", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		var buf []byte
		for b.Loop() {
			raw, err := readDeclared(buf, bytes.NewReader(body), int64(len(body)))
			if err != nil {
				b.Fatal(err)
			}
			buf = raw[:0]
		}
	})
	b.Run("up-front", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			raw := make([]byte, len(body))
			if _, err := io.ReadFull(bytes.NewReader(body), raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestReadDeclared: the body comes back whole whatever the size and the
// buffer given, no byte past the declared length is read, and a body that
// ends early is refused.
func TestReadDeclared(t *testing.T) {
	for _, n := range []int{1, firstRead - 1, firstRead, firstRead + 1, 3*firstRead + 7, 1 << 20} {
		body := bytes.Repeat([]byte{'x'}, n)
		body[n-1] = 'y'
		for _, dst := range [][]byte{nil, make([]byte, 10, 100), make([]byte, 0, 2<<20)} {
			// A reader with more than n: only n are read.
			got, err := readDeclared(dst, bytes.NewReader(append(body, "zz"...)), int64(n))
			if err != nil || !bytes.Equal(got, body) {
				t.Errorf("%d bytes into cap %d: got %d bytes, %v; want them all", n, cap(dst), len(got), err)
			}
			if _, err := readDeclared(dst, bytes.NewReader(body[:n-1]), int64(n)); err == nil {
				t.Errorf("%d bytes declared, %d sent: no error; want one", n, n-1)
			}
		}
	}
}
