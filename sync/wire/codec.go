package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
)

// ErrTooLarge is returned by Decompress when the body is larger than its
// limit once decompressed.
var ErrTooLarge = errors.New("body too large")

// Marshal encodes v as JSON without HTML escaping, so that an event's
// payload travels byte for byte as the terminal hashed it.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return w
}}

// Compress gzips b (fastest level: the network is rarely the bottleneck on
// a LAN, and a slow uplink still gains most of the ratio).
func Compress(b []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(b)/4 + 64)
	w := gzipWriters.Get().(*gzip.Writer)
	w.Reset(&out)
	w.Write(b)
	w.Close()
	gzipWriters.Put(w)
	return out.Bytes()
}

var gzipReaders sync.Pool // of *gzip.Reader

// Decompress gunzips b, refusing with ErrTooLarge an output larger than
// limit: a few kilobytes of gzip can expand to gigabytes. The output
// buffer is sized from the gzip trailer's length (never above limit), so a
// batch is decompressed without growing and copying its buffer; the
// trailer is only a hint, and a lying one costs nothing but the growth.
func Decompress(b []byte, limit int64) ([]byte, error) { return DecompressAppend(nil, b, limit) }

// DecompressAppend is Decompress appending to dst (usually dst[:0] of a
// buffer being reused).
func DecompressAppend(dst, b []byte, limit int64) ([]byte, error) {
	var r *gzip.Reader
	var err error
	if v := gzipReaders.Get(); v != nil {
		r = v.(*gzip.Reader)
		err = r.Reset(bytes.NewReader(b))
	} else {
		r, err = gzip.NewReader(bytes.NewReader(b))
	}
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	defer gzipReaders.Put(r)
	size := int64(512)
	if len(b) >= 18 {
		size = max(size, min(int64(binary.LittleEndian.Uint32(b[len(b)-4:])), limit)+1)
	}
	start := len(dst)
	out := bytes.NewBuffer(slices.Grow(dst, int(size)))
	if _, err := out.ReadFrom(io.LimitReader(r, limit+1)); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if int64(out.Len()-start) > limit {
		return nil, ErrTooLarge
	}
	return out.Bytes(), nil
}

// AppendEvent appends e as JSON with its payload byte for byte as stored:
// the hash covers those bytes, so they must not be re-encoded. A non-empty
// name adds the "name" key (feed events). The payload must be valid JSON;
// the store only holds what encoding/json wrote.
func AppendEvent(b []byte, e *Event, name string) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = append(b, `,"id":`...)
	b = appendString(b, e.ID)
	b = append(b, `,"terminal":`...)
	b = appendString(b, e.Terminal)
	b = append(b, `,"type":`...)
	b = appendString(b, e.Type)
	b = append(b, `,"at":"`...)
	b = e.At.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if e.Actor != "" {
		b = append(b, `,"actor":`...)
		b = appendString(b, e.Actor)
	}
	b = append(b, `,"payload":`...)
	if len(e.Payload) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, e.Payload...)
	}
	b = append(b, `,"prev_hash":`...)
	b = appendString(b, e.PrevHash)
	b = append(b, `,"hash":`...)
	b = appendString(b, e.Hash)
	if name != "" {
		b = append(b, `,"name":`...)
		b = appendString(b, name)
	}
	return append(b, '}')
}

// EncodeUpload is the body of an upload, encoded without re-encoding the
// payloads.
func EncodeUpload(events []Event) []byte { return AppendUpload(nil, events) }

// AppendUpload appends the upload body of events to b.
func AppendUpload(b []byte, events []Event) []byte {
	n := 16
	for i := range events {
		n += len(events[i].Payload) + 400
	}
	b = slices.Grow(b, n)
	b = append(b, `{"events":[`...)
	for i := range events {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendEvent(b, &events[i], "")
	}
	return append(b, "]}"...)
}

// EncodeFeed is a feed answer, encoded without re-encoding the payloads.
func EncodeFeed(f *FeedResponse) ([]byte, error) {
	peers, err := Marshal(f.Peers)
	if err != nil {
		return nil, err
	}
	b := append([]byte(nil), `{"events":[`...)
	for i := range f.Events {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendEvent(b, &f.Events[i].Event, f.Events[i].Name)
	}
	b = append(b, `],"peers":`...)
	b = append(b, peers...)
	b = append(b, `,"more":`...)
	b = strconv.AppendBool(b, f.More)
	if len(f.Revocations) > 0 {
		rs, err := Marshal(f.Revocations)
		if err != nil {
			return nil, err
		}
		b = append(b, `,"revocations":`...)
		b = append(b, rs...)
	}
	if len(f.Compact) > 0 {
		cs, err := Marshal(f.Compact)
		if err != nil {
			return nil, err
		}
		b = append(b, `,"compact":`...)
		b = append(b, cs...)
	}
	if len(f.Tickets) > 0 {
		ts, err := Marshal(f.Tickets)
		if err != nil {
			return nil, err
		}
		b = append(b, `,"tickets":`...)
		b = append(b, ts...)
	}
	return append(b, '}'), nil
}

// appendString appends s as a JSON string, as encoding/json would (without
// HTML escaping).
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			q, _ := Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
