package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// DecodeUpload reads the body of an upload in one validating pass (the
// payloads are most of the bytes; encoding/json would scan each twice). It
// accepts exactly the JSON that encoding/json accepts, and reads an upload
// the way json.Unmarshal into UploadRequest would, except that keys match
// only in their exact case (encoding/json also matches "SEQ" to seq).
// Payloads alias b.
func DecodeUpload(b []byte) ([]Event, error) {
	d := decoder{b: b}
	var events []Event
	if d.null() {
		d.space()
		if d.i != len(d.b) {
			return nil, d.errorf("data after the top-level value")
		}
		return nil, nil
	}
	err := d.object(func(key []byte) error {
		if string(key) != "events" {
			return d.skip()
		}
		if d.null() {
			events = nil
			return nil
		}
		events = events[:0]
		return d.array(func() error {
			var e Event
			if d.null() {
				events = append(events, e)
				return nil
			}
			if err := d.event(&e); err != nil {
				return err
			}
			events = append(events, e)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	d.space()
	if d.i != len(d.b) {
		return nil, d.errorf("data after the top-level value")
	}
	return events, nil
}

type decoder struct {
	b     []byte
	i     int
	depth int
}

// maxDepth bounds nesting, as encoding/json does.
const maxDepth = 10000

func (d *decoder) enter() error {
	if d.depth++; d.depth > maxDepth {
		return d.errorf("exceeded max depth")
	}
	return nil
}

var errEnd = errors.New("unexpected end of JSON input")

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("JSON at offset %d: %s", d.i, fmt.Sprintf(format, args...))
}

func (d *decoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// null consumes a null if one is next.
func (d *decoder) null() bool {
	d.space()
	if len(d.b)-d.i >= 4 && string(d.b[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

func (d *decoder) expect(c byte) error {
	d.space()
	if d.i >= len(d.b) {
		return errEnd
	}
	if d.b[d.i] != c {
		return d.errorf("want %q, found %q", c, d.b[d.i])
	}
	d.i++
	return nil
}

// object reads an object, calling member with each key (raw bytes, no
// escapes resolved unless it had any) positioned at the value.
func (d *decoder) object(member func(key []byte) error) error {
	if err := d.expect('{'); err != nil {
		return err
	}
	if err := d.enter(); err != nil {
		return err
	}
	defer func() { d.depth-- }()
	d.space()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return nil
	}
	for {
		d.space()
		key, err := d.str()
		if err != nil {
			return err
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		if end, err := d.next('}', "object"); end || err != nil {
			return err
		}
	}
}

func (d *decoder) array(elem func() error) error {
	if err := d.expect('['); err != nil {
		return err
	}
	if err := d.enter(); err != nil {
		return err
	}
	defer func() { d.depth-- }()
	d.space()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		if end, err := d.next(']', "array"); end || err != nil {
			return err
		}
	}
}

// next reads what follows a member of an object or an element of an
// array: a ',' (more follow) or its closing byte (end).
func (d *decoder) next(closing byte, in string) (end bool, err error) {
	d.space()
	if d.i >= len(d.b) {
		return false, errEnd
	}
	switch d.b[d.i] {
	case ',':
		d.i++
		return false, nil
	case closing:
		d.i++
		return true, nil
	}
	return false, d.errorf("want ',' or '%c' in %s", closing, in)
}

// rawString reads a string token and returns it with its quotes, and
// whether it is plain (no escapes, valid UTF-8) so its bytes are its value.
func (d *decoder) rawString() ([]byte, bool, error) {
	d.space()
	if d.i >= len(d.b) {
		return nil, false, errEnd
	}
	if d.b[d.i] != '"' {
		return nil, false, d.errorf("want a string")
	}
	start := d.i
	d.i++
	plain := true
	for d.i < len(d.b) {
		for d.i < len(d.b) && asciiPlain[d.b[d.i]] {
			d.i++
		}
		if d.i >= len(d.b) {
			break
		}
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return d.b[start:d.i], plain, nil
		case c == '\\':
			plain = false
			if d.i+1 >= len(d.b) {
				return nil, false, errEnd
			}
			switch d.b[d.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.i += 2
			case 'u':
				if d.i+6 > len(d.b) {
					return nil, false, errEnd
				}
				for _, h := range d.b[d.i+2 : d.i+6] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return nil, false, d.errorf("bad \\u escape")
					}
				}
				d.i += 6
			default:
				return nil, false, d.errorf("bad escape")
			}
		case c < 0x20:
			return nil, false, d.errorf("control character in string")
		case c >= utf8.RuneSelf:
			plain = false
			d.i++
		default:
			d.i++
		}
	}
	return nil, false, errEnd
}

// asciiPlain: the bytes rawString passes over as they are (printable
// ASCII but a quote or a backslash), a table lookup a byte: the
// payloads' strings are most of an upload.
var asciiPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str reads a string's value as bytes.
func (d *decoder) str() ([]byte, error) {
	raw, plain, err := d.rawString()
	if err != nil {
		return nil, err
	}
	if plain {
		return raw[1 : len(raw)-1], nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// stringField reads a string or null (which leaves *dst alone), as
// encoding/json does for a string field.
func (d *decoder) stringField(dst *string) error {
	if d.null() {
		return nil
	}
	v, err := d.str()
	if err != nil {
		return err
	}
	*dst = string(v)
	return nil
}

// skip reads and validates any value.
func (d *decoder) skip() error {
	d.space()
	if end, ok := skipFast(d.b, d.i, maxDepth-d.depth); ok {
		d.i = end
		return nil
	}
	return d.skipSlow()
}

// skipSlow is skip by recursion, saying what is wrong.
func (d *decoder) skipSlow() error {
	d.space()
	if d.i >= len(d.b) {
		return errEnd
	}
	switch c := d.b[d.i]; {
	case c == '{':
		return d.object(func([]byte) error { return d.skipSlow() })
	case c == '[':
		return d.array(d.skipSlow)
	case c == '"':
		_, _, err := d.rawString()
		return err
	case c == '-' || c >= '0' && c <= '9':
		_, err := d.number()
		return err
	}
	for _, lit := range []string{"true", "false", "null"} {
		if len(d.b)-d.i >= len(lit) && string(d.b[d.i:d.i+len(lit)]) == lit {
			d.i += len(lit)
			return nil
		}
	}
	return d.errorf("invalid character %q", d.b[d.i])
}

// number reads a number token (RFC 8259 grammar) and returns it.
func (d *decoder) number() ([]byte, error) {
	d.space()
	start := d.i
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	digits := func() int {
		n := 0
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if d.i >= len(d.b) {
		return nil, errEnd
	}
	if d.b[d.i] == '0' {
		d.i++
	} else if digits() == 0 {
		return nil, d.errorf("bad number")
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return nil, d.errorf("bad number")
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return nil, d.errorf("bad number")
		}
	}
	return d.b[start:d.i], nil
}

func (d *decoder) event(e *Event) error {
	return d.object(func(key []byte) error {
		switch string(key) {
		case "seq":
			if d.null() {
				return nil
			}
			d.space()
			if d.i < len(d.b) && d.b[d.i] == '"' {
				return d.errorf("seq is a string")
			}
			n, err := d.number()
			if err != nil {
				return err
			}
			v, err := strconv.ParseInt(string(n), 10, 64)
			if err != nil {
				return fmt.Errorf("seq %s: %w", n, err)
			}
			e.Seq = v
		case "id":
			return d.stringField(&e.ID)
		case "terminal":
			return d.stringField(&e.Terminal)
		case "type":
			return d.stringField(&e.Type)
		case "actor":
			return d.stringField(&e.Actor)
		case "prev_hash":
			return d.stringField(&e.PrevHash)
		case "hash":
			return d.stringField(&e.Hash)
		case "at":
			if d.null() {
				return nil
			}
			raw, _, err := d.rawString()
			if err != nil {
				return err
			}
			var t time.Time
			if err := t.UnmarshalJSON(raw); err != nil {
				return err
			}
			e.At = t
		case "payload":
			d.space()
			start := d.i
			if err := d.skip(); err != nil {
				return err
			}
			e.Payload = json.RawMessage(d.b[start:d.i])
		default:
			return d.skip()
		}
		return nil
	})
}
