package wire

import (
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	body := []byte("gzipped bytes")
	at := time.UnixMilli(1704250800123)
	s := Sign(key, "0190a000-0000-7000-8000-000000000001", "POST", "/v1/events", body, at, strings.Repeat("0f", 16))
	h := http.Header{}
	for k, v := range s.Header() {
		h.Set(k, v)
	}
	got, err := ParseSigned(h.Get)
	if err != nil {
		t.Fatal(err)
	}
	if got.UnixMilli != at.UnixMilli() || !got.Verify(pub, "POST", "/v1/events", body) {
		t.Fatalf("round trip failed: %+v", got)
	}
	for name, ok := range map[string]bool{
		"other body":   got.Verify(pub, "POST", "/v1/events", []byte("x")),
		"other path":   got.Verify(pub, "POST", "/v1/feed", body),
		"other method": got.Verify(pub, "GET", "/v1/events", body),
	} {
		if ok {
			t.Errorf("%s verified", name)
		}
	}
	bad := []func(http.Header){
		func(h http.Header) { h.Del(HeaderTerminal) },
		func(h http.Header) { h.Set(HeaderTerminal, "gate-1") },
		func(h http.Header) { h.Set(HeaderTime, "yesterday") },
		func(h http.Header) { h.Set(HeaderNonce, "short") },
		func(h http.Header) { h.Set(HeaderSignature, "AAAA") },
	}
	for i, f := range bad {
		h2 := h.Clone()
		f(h2)
		if _, err := ParseSigned(h2.Get); err == nil {
			t.Errorf("bad header %d accepted", i)
		}
	}
}

func TestDecompressBomb(t *testing.T) {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(make([]byte, 10<<20))
	w.Close()
	if b.Len() > 100<<10 {
		t.Fatalf("bomb is %d bytes", b.Len())
	}
	if _, err := Decompress(b.Bytes(), MaxBody); !errors.Is(err, ErrTooLarge) {
		t.Errorf("10 MiB bomb: %v; want ErrTooLarge", err)
	}
	if out, err := Decompress(Compress([]byte("hello")), MaxBody); err != nil || string(out) != "hello" {
		t.Errorf("round trip: %q %v", out, err)
	}
	if _, err := Decompress([]byte("not gzip"), MaxBody); err == nil {
		t.Error("garbage decompressed")
	}
}

// TestDecompressTrailer: the gzip trailer's length only sizes the buffer;
// a trailer that lies, a stream of two members, and a reader reused after
// a corrupt body all still give exactly the bytes sent, within the limit.
func TestDecompressTrailer(t *testing.T) {
	data := bytes.Repeat([]byte(`{"seq":1,"payload":{"site":"NNP"}},`), 3000)
	good := Compress(data)
	lie := func(n uint32) []byte {
		b := bytes.Clone(good)
		binary.LittleEndian.PutUint32(b[len(b)-4:], n)
		return b
	}
	two := append(Compress(data[:1000]), Compress(data[1000:])...)
	corrupt := bytes.Clone(good)
	corrupt[len(corrupt)/2] ^= 0xff
	for _, c := range []struct {
		name  string
		in    []byte
		limit int64
		want  []byte
		err   error // nil: no error; errAny: some error
	}{
		{"honest", good, MaxBody, data, nil},
		{"trailer says 4 GiB", lie(1<<32 - 1), int64(len(data)), nil, errAny},
		{"trailer says 4 GiB, within the limit", lie(1<<32 - 1), MaxBody, nil, errAny},
		{"trailer says 0", lie(0), MaxBody, nil, errAny},
		{"corrupt", corrupt, MaxBody, nil, errAny},
		{"after a corrupt one", good, MaxBody, data, nil},
		{"two members", two, MaxBody, data, nil},
		{"one byte over the limit", good, int64(len(data)) - 1, nil, ErrTooLarge},
		{"exactly the limit", good, int64(len(data)), data, nil},
	} {
		got, err := Decompress(c.in, c.limit)
		switch {
		case c.err == nil && (err != nil || !bytes.Equal(got, c.want)):
			t.Errorf("%s: %d bytes, %v; want the %d bytes sent", c.name, len(got), err, len(c.want))
		case c.err == errAny && err == nil:
			t.Errorf("%s: decompressed %d bytes; want an error (the trailer's length or checksum is wrong)", c.name, len(got))
		case c.err == ErrTooLarge && !errors.Is(err, ErrTooLarge):
			t.Errorf("%s: %v; want ErrTooLarge", c.name, err)
		}
	}
}

var errAny = errors.New("any error")

// TestEncodeUpload: the hand-written encoder says what encoding/json would
// read back, with the payload byte for byte.
func TestEncodeUpload(t *testing.T) {
	evs := []Event{
		{Seq: 1, ID: "0190a000-0000-7000-8000-000000000001", Terminal: "t", Type: "sale.created", At: time.Date(2024, 1, 3, 3, 0, 0, 123456789, time.UTC),
			Actor: `Wanjiru "Supervisor" \ <b>`, Payload: json.RawMessage(`{"a": [1, 2], "s":"<&>"}`), Hash: strings.Repeat("a", 64)},
		{Seq: 2, ID: "0190a000-0000-7000-8000-000000000002", Terminal: "t", Type: "x", At: time.Date(2024, 1, 3, 3, 0, 1, 0, time.FixedZone("EAT", 3*3600)),
			Actor: "ñ\x01", Payload: json.RawMessage(`{}`), PrevHash: strings.Repeat("a", 64), Hash: strings.Repeat("b", 64)},
	}
	for i := range evs {
		evs[i].Hash = evs[i].ComputeHash()
	}
	b := EncodeUpload(evs)
	var got UploadRequest
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	for i := range evs {
		g := got.Events[i]
		if !bytes.Equal(g.Payload, evs[i].Payload) || g.Actor != evs[i].Actor || !g.At.Equal(evs[i].At) || g.ComputeHash() != evs[i].Hash {
			t.Errorf("event %d came back as %+v", i, g)
		}
	}
	f := FeedResponse{Events: []FeedEvent{{Event: evs[0], Name: "exit-1"}}, Peers: []Peer{{TerminalID: "t", Name: "exit-1", Seq: 1}}, More: true,
		Tickets: []Ticket{{N: 7, TicketNo: "KWS-1", Site: "NNP", Day: "2024-01-03", Party: json.RawMessage(`[{"category":"citizen","age_band":"adult","count":2}]`), Status: "valid"}}}
	fb, err := EncodeFeed(&f)
	if err != nil {
		t.Fatal(err)
	}
	var fg FeedResponse
	if err := json.Unmarshal(fb, &fg); err != nil || !fg.More || fg.Events[0].Name != "exit-1" || fg.Events[0].ComputeHash() != evs[0].Hash || fg.Peers[0].Seq != 1 ||
		len(fg.Tickets) != 1 || fg.Tickets[0].N != 7 || fg.Tickets[0].TicketNo != "KWS-1" {
		t.Errorf("feed round trip: %s %v", fb, err)
	}
}

// FuzzDecodeUpload: the one-pass decoder accepts what encoding/json
// accepts and reads the same events.
func FuzzDecodeUpload(f *testing.F) {
	e := Event{Seq: 7, ID: "0190a000-0000-7000-8000-000000000001", Terminal: "t", Type: "sale.created",
		At: time.Date(2024, 1, 3, 3, 0, 0, 5, time.UTC), Actor: "Ann\u00e9", Payload: json.RawMessage(`{"a":[1,-2.5e3,"x\"y"],"b":null,"c":true}`)}
	f.Add(EncodeUpload([]Event{e, e}))
	for _, s := range []string{`null`, `{}`, `{"events":null}`, `{"events":[null]}`, `{"events":[{"seq":1.5}]}`, `{"events":[{"SEQ":3}]}`,
		`{"x":[{"y":"\ud800"}],"events":[{"payload":  [ ] , "at":"2024-01-03T03:00:00Z"}]}`, `{"events":[{"seq":"1"}]} `, `{"events":[{"id":"\u00e9\n"}]}x`,
		`{"events":[{"seq":01}]}`, `[[[[[[[[[[`, `{"events":[{"payload":{"k":[1,{"z":""}]}}],"events":[]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := DecodeUpload(b)
		var want UploadRequest
		werr := json.Unmarshal(b, &want)
		if caseVariantKeys(b) {
			// Only validity must agree.
			if err == nil && !json.Valid(b) {
				t.Fatalf("DecodeUpload(%q) accepted invalid JSON", b)
			}
			return
		}
		if err != nil {
			if werr == nil {
				t.Fatalf("DecodeUpload(%q) refused (%v); encoding/json reads it", b, err)
			}
			return
		}
		if werr != nil {
			t.Fatalf("DecodeUpload(%q) accepted; encoding/json refuses it: %v", b, werr)
		}
		if len(got) != len(want.Events) {
			t.Fatalf("DecodeUpload(%q): %d events; encoding/json %d", b, len(got), len(want.Events))
		}
		for i := range got {
			g, w := got[i], want.Events[i]
			if g.Seq != w.Seq || g.ID != w.ID || g.Terminal != w.Terminal || g.Type != w.Type || g.Actor != w.Actor ||
				g.PrevHash != w.PrevHash || g.Hash != w.Hash || !g.At.Equal(w.At) || !bytes.Equal(g.Payload, w.Payload) {
				t.Fatalf("DecodeUpload(%q) event %d = %+v; encoding/json %+v", b, i, g, w)
			}
		}
	})
}

// caseVariantKeys reports whether b may hold a key that encoding/json
// matches case-insensitively to a field, where DecodeUpload, by design,
// matches exactly.
func caseVariantKeys(b []byte) bool {
	l := bytes.ToLower(b)
	for _, k := range []string{"events", "seq", "id", "terminal", "type", "at", "actor", "payload", "prev_hash", "hash"} {
		if bytes.Count(l, []byte(k)) != bytes.Count(b, []byte(k)) {
			return true
		}
	}
	return bytes.Contains(b, []byte(`\u`)) || bytes.ContainsRune(b, 'ſ') || bytes.ContainsRune(b, 'K')
}
