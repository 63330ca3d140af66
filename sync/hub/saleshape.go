package hub

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/lango-pos/lango/terminal"
)

// The report's state reads three fields of every sale it is given (id,
// state, tenders), and must skip exactly the sales that json.Unmarshal
// into terminal.Sale refuses, since the rescan (Hub.RescanReport) does
// that. json.Unmarshal of the whole 1,400-byte sale was half the hub's CPU
// in the national backlog. quickSale reads the three fields and checks,
// in one pass over the bytes, that json.Unmarshal would accept the rest:
// the JSON's syntax, and every value against the type of the field it
// lands in (derived by reflection from terminal.Sale, so a field added or
// changed there is checked as it is). It answers only when it is sure;
// anything it does not model (a key that matches a field only by case or
// through an escape, a key given twice among those it reads, a number a
// field cannot hold, a type it has no rule for) makes it give up, and
// decodeSale asks json.Unmarshal, as before. It never refuses a sale
// itself.

// decodeSale decodes a sale.created payload as the report needs it: nil
// when json.Unmarshal into terminal.Sale refuses it. A sale from
// quickSale holds only ID, State and Tenders; a deferred sale (whose
// unsettled line needs the rest) is decoded whole.
func decodeSale(payload []byte) *terminal.Sale {
	if s, ok := quickSale(payload); ok && s.State != terminal.SaleDeferred {
		return s
	}
	var s terminal.Sale
	if json.Unmarshal(payload, &s) != nil {
		return nil
	}
	return &s
}

// quickSale: ok is false when it is not sure (see above).
func quickSale(b []byte) (*terminal.Sale, bool) {
	sh := saleShape()
	if sh.unsure {
		return nil, false
	}
	p := shapeParser{b: b}
	p.space()
	if p.i >= len(b) || b[p.i] != '{' {
		return nil, false
	}
	s := &terminal.Sale{}
	var seen [3]bool
	var tenders []byte
	hint := 0
	ok := p.object(func(key []byte) bool {
		var n int
		if n, hint = sh.fieldAfter(key, hint); n < 0 {
			return p.unknown(key, sh)
		}
		f := &sh.fields[n]
		start := p.i
		if !p.value(f.shape, 1) {
			return false
		}
		raw := b[start:p.i]
		read := func(n int, set func(string)) bool {
			if seen[n] {
				return false // json.Unmarshal keeps the last; not modelled
			}
			seen[n] = true
			if raw[0] == 'n' {
				return true // null leaves the field as it is
			}
			v, plain := plainString(raw)
			set(v)
			return plain
		}
		switch f.name {
		case "id":
			return read(0, func(v string) { s.ID = v })
		case "state":
			return read(1, func(v string) { s.State = terminal.SaleState(v) })
		case "tenders":
			if seen[2] {
				return false
			}
			seen[2], tenders = true, raw
		}
		return true
	})
	if !ok {
		return nil, false
	}
	p.space()
	if p.i != len(b) {
		return nil, false
	}
	if tenders != nil && !quickTenders(tenders, sh.field([]byte("tenders")).shape.elem, &s.Tenders) {
		// The tenders' array, checked above, decoded by json.Unmarshal
		// itself into the field it would have filled.
		if json.Unmarshal(tenders, &s.Tenders) != nil {
			return nil, false
		}
	}
	return s, true
}

// quickTenders decodes raw, a JSON array checked against sh's slice
// shape, into *out as json.Unmarshal would, when each element is an
// object of plain members (flatInto); false when it is not sure.
func quickTenders(raw []byte, sh *jsonShape, out *[]terminal.Tender) bool {
	if raw[0] == 'n' {
		*out = nil
		return true
	}
	p := shapeParser{b: raw}
	ts := make([]terminal.Tender, 0, 2) // "[]" is an empty slice, not nil
	ok := p.array(func() bool {
		ts = append(ts, terminal.Tender{})
		return p.flatInto(sh, reflect.ValueOf(&ts[len(ts)-1]).Elem())
	})
	if !ok {
		return false
	}
	*out = ts
	return true
}

// flatInto decodes the object at p.i into the struct v of shape sh when
// every member is plain: a key naming a field exactly, once, its value
// null, a string without escapes or non-ASCII bytes into a string field,
// or an integer into an integer field; keys naming no field are skipped
// as json.Unmarshal skips them. False when it is not sure.
func (p *shapeParser) flatInto(sh *jsonShape, v reflect.Value) bool {
	if sh.kind != shapeStruct || sh.unsure || p.i >= len(p.b) || p.b[p.i] != '{' {
		return false
	}
	var seen uint64
	hint := 0
	return p.object(func(key []byte) bool {
		var n int
		if n, hint = sh.fieldAfter(key, hint); n < 0 {
			return p.unknown(key, sh)
		}
		if n >= 64 || seen&(1<<n) != 0 {
			return false
		}
		seen |= 1 << n
		f := &sh.fields[n]
		start := p.i
		if p.i < len(p.b) && p.b[p.i] == 'n' {
			return p.literal("null")
		}
		fv := v.Field(f.index)
		switch f.shape.kind {
		case shapeString:
			if !p.str() {
				return false
			}
			str, plain := plainString(p.b[start:p.i])
			fv.SetString(str)
			return plain
		case shapeInt:
			if !p.number() {
				return false
			}
			n, err := strconv.ParseInt(string(p.b[start:p.i]), 10, f.shape.bits)
			fv.SetInt(n)
			return err == nil
		}
		return false
	})
}

// plainString returns the JSON string raw as Go would decode it, and
// whether that is its bytes as they are (printable ASCII, no escape).
func plainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	for _, c := range raw[1 : len(raw)-1] {
		if c == '\\' || c >= 0x80 {
			return "", false
		}
	}
	return string(raw[1 : len(raw)-1]), true
}

// saleShape is terminal.Sale's shape, derived once.
var saleShape = sync.OnceValue(func() *jsonShape { return shapeOf(reflect.TypeFor[terminal.Sale](), map[reflect.Type]*jsonShape{}) })

type shapeKind int

const (
	shapeUnsure shapeKind = iota // no rule: give up when a value lands here
	shapeString
	shapeBool
	shapeInt
	shapeUint
	shapeFloat
	shapeStruct
	shapeSlice
	shapeMap
	shapePointer
	shapeAny       // interface{}: any value
	shapeTime      // time.Time: its UnmarshalJSON
	shapeUnmarshal // another json.Unmarshaler: a fresh value's UnmarshalJSON
)

// jsonShape is what json.Unmarshal accepts for a Go type.
type jsonShape struct {
	kind   shapeKind
	bits   int          // shapeInt, shapeUint, shapeFloat
	elem   *jsonShape   // shapeSlice, shapeMap (values), shapePointer
	fields []shapeField // shapeStruct
	typ    reflect.Type // shapeUnmarshal
	unsure bool         // shapeStruct: fields json.Unmarshal would match by rules not modelled
}

type shapeField struct {
	name  string
	index int // in the struct's reflect fields
	shape *jsonShape
}

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	timeType            = reflect.TypeFor[time.Time]()
)

func shapeOf(t reflect.Type, memo map[reflect.Type]*jsonShape) *jsonShape {
	if sh, ok := memo[t]; ok {
		return sh
	}
	sh := &jsonShape{}
	memo[t] = sh
	switch {
	case t.Kind() == reflect.Pointer:
		sh.kind, sh.elem = shapePointer, shapeOf(t.Elem(), memo)
		return sh
	case t == timeType:
		sh.kind = shapeTime
		return sh
	case reflect.PointerTo(t).Implements(unmarshalerType):
		sh.kind, sh.typ = shapeUnmarshal, t
		return sh
	case reflect.PointerTo(t).Implements(textUnmarshalerType):
		return sh // unsure
	}
	switch t.Kind() {
	case reflect.String:
		sh.kind = shapeString
	case reflect.Bool:
		sh.kind = shapeBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		sh.kind, sh.bits = shapeInt, t.Bits()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		sh.kind, sh.bits = shapeUint, t.Bits()
	case reflect.Float32, reflect.Float64:
		sh.kind, sh.bits = shapeFloat, t.Bits()
	case reflect.Slice:
		if t.Elem().Kind() != reflect.Uint8 { // []byte is base64: not modelled
			sh.kind, sh.elem = shapeSlice, shapeOf(t.Elem(), memo)
		}
	case reflect.Map:
		k := t.Key()
		if k.Kind() == reflect.String && !reflect.PointerTo(k).Implements(textUnmarshalerType) {
			sh.kind, sh.elem = shapeMap, shapeOf(t.Elem(), memo)
		}
	case reflect.Interface:
		if t.NumMethod() == 0 {
			sh.kind = shapeAny
		}
	case reflect.Struct:
		sh.kind = shapeStruct
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous {
				sh.unsure = true // embedded fields' promotion: not modelled
				continue
			}
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts := tag, ""
			for j := range len(tag) {
				if tag[j] == ',' {
					name, opts = tag[:j], tag[j+1:]
					break
				}
			}
			if name == "" {
				name = f.Name
			}
			fs := shapeOf(f.Type, memo)
			if !plainName(name) || hasOption(opts, "string") {
				sh.unsure = true
			}
			for _, g := range sh.fields {
				if foldEqual([]byte(g.name), name) {
					sh.unsure = true // two fields one key: json.Unmarshal drops both
				}
			}
			sh.fields = append(sh.fields, shapeField{name: name, index: i, shape: fs})
		}
	}
	return sh
}

func plainName(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func hasOption(opts, o string) bool {
	for opts != "" {
		var cur string
		cur, opts = opts, ""
		for j := range len(cur) {
			if cur[j] == ',' {
				cur, opts = cur[:j], cur[j+1:]
				break
			}
		}
		if cur == o {
			return true
		}
	}
	return false
}

// field is the struct field the key names exactly, or nil.
func (sh *jsonShape) field(key []byte) *shapeField {
	if n := sh.fieldIndex(key); n >= 0 {
		return &sh.fields[n]
	}
	return nil
}

// fieldIndex is the index in sh.fields of the field the key names
// exactly, or -1.
func (sh *jsonShape) fieldIndex(key []byte) int {
	n, _ := sh.fieldAfter(key, 0)
	return n
}

// fieldAfter is fieldIndex trying the field at *hint first (the one after
// the last found: encoders write a struct's fields in order) and setting
// it after the one found.
func (sh *jsonShape) fieldAfter(key []byte, hint int) (int, int) {
	if hint < len(sh.fields) && string(key) == sh.fields[hint].name {
		return hint, hint + 1
	}
	for i := range sh.fields {
		if string(key) == sh.fields[i].name {
			return i, i + 1
		}
	}
	return -1, hint
}

// foldEqual reports whether the ASCII key equals name but for case.
func foldEqual(key []byte, name string) bool {
	if len(key) != len(name) {
		return false
	}
	for i := range key {
		a, b := key[i], name[i]
		if a >= 'A' && a <= 'Z' {
			a += 'a' - 'A'
		}
		if b >= 'A' && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// shapeParser walks JSON bytes, checking syntax as encoding/json's
// scanner does and values against shapes. Every method returns false
// when it is not sure.
type shapeParser struct {
	b []byte
	i int
}

// maxShapeDepth: deeper than this, give up (json.Unmarshal's own limit
// is 10,000).
const maxShapeDepth = 64

func (p *shapeParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// unknown handles a key of struct sh that names no field exactly: a key
// json.Unmarshal might still match to a field (by case, through an
// escape or a non-ASCII letter that folds) gives up; any other's value
// is skipped, syntax checked.
func (p *shapeParser) unknown(key []byte, sh *jsonShape) bool {
	for _, c := range key {
		if c == '\\' || c >= 0x80 {
			return false
		}
	}
	for i := range sh.fields {
		if foldEqual(key, sh.fields[i].name) {
			return false
		}
	}
	return p.value(&jsonShape{kind: shapeAny}, 1)
}

// object parses an object at p.i, calling member with each key (its raw
// bytes between the quotes) with p.i at the value.
func (p *shapeParser) object(member func(key []byte) bool) bool {
	p.i++ // '{'
	p.space()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return true
	}
	for {
		p.space()
		start := p.i
		if !p.str() {
			return false
		}
		key := p.b[start+1 : p.i-1]
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return false
		}
		p.i++
		p.space()
		if !member(key) {
			return false
		}
		if end, ok := p.sep('}'); !ok || end {
			return ok
		}
	}
}

// value parses the value at p.i (after space) as a value of shape sh.
func (p *shapeParser) value(sh *jsonShape, depth int) bool {
	if depth > maxShapeDepth || p.i >= len(p.b) {
		return false
	}
	c := p.b[p.i]
	if c == 'n' {
		// null: nothing changes, and no type refuses it, but an
		// Unmarshaler's own method is asked (time.Time accepts it).
		if !p.literal("null") {
			return false
		}
		switch sh.kind {
		case shapeUnsure:
			return false
		case shapeUnmarshal:
			return reflect.New(sh.typ).Interface().(json.Unmarshaler).UnmarshalJSON(p.b[p.i-4:p.i]) == nil
		}
		return true
	}
	switch sh.kind {
	case shapeUnsure:
		return false
	case shapePointer:
		return p.value(sh.elem, depth+1)
	case shapeAny:
		return p.anyValue(depth)
	case shapeTime:
		start := p.i
		if !p.anyValue(depth) {
			return false
		}
		var t time.Time
		return t.UnmarshalJSON(p.b[start:p.i]) == nil
	case shapeUnmarshal:
		start := p.i
		if !p.anyValue(depth) {
			return false
		}
		return reflect.New(sh.typ).Interface().(json.Unmarshaler).UnmarshalJSON(p.b[start:p.i]) == nil
	case shapeString:
		return c == '"' && p.str()
	case shapeBool:
		return c == 't' && p.literal("true") || c == 'f' && p.literal("false")
	case shapeInt, shapeUint, shapeFloat:
		start := p.i
		if !p.number() {
			return false
		}
		s := string(p.b[start:p.i])
		var err error
		switch sh.kind {
		case shapeInt:
			_, err = strconv.ParseInt(s, 10, sh.bits)
		case shapeUint:
			_, err = strconv.ParseUint(s, 10, sh.bits)
		default:
			_, err = strconv.ParseFloat(s, sh.bits)
		}
		return err == nil
	case shapeStruct:
		if c != '{' || sh.unsure {
			return false
		}
		hint := 0
		return p.object(func(key []byte) bool {
			var n int
			if n, hint = sh.fieldAfter(key, hint); n >= 0 {
				return p.value(sh.fields[n].shape, depth+1)
			}
			return p.unknown(key, sh)
		})
	case shapeMap:
		if c != '{' {
			return false
		}
		return p.object(func([]byte) bool { return p.value(sh.elem, depth+1) })
	case shapeSlice:
		if c != '[' {
			return false
		}
		return p.array(func() bool { return p.value(sh.elem, depth+1) })
	}
	return false
}

// anyValue parses any JSON value at p.i, checking its syntax.
func (p *shapeParser) anyValue(depth int) bool {
	if depth > maxShapeDepth || p.i >= len(p.b) {
		return false
	}
	switch c := p.b[p.i]; {
	case c == '"':
		return p.str()
	case c == '{':
		return p.object(func([]byte) bool { return p.anyValue(depth + 1) })
	case c == '[':
		return p.array(func() bool { return p.anyValue(depth + 1) })
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	return false
}

func (p *shapeParser) array(elem func() bool) bool {
	p.i++ // '['
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return true
	}
	for {
		p.space()
		if !elem() {
			return false
		}
		if end, ok := p.sep(']'); !ok || end {
			return ok
		}
	}
}

func (p *shapeParser) literal(lit string) bool {
	if len(p.b)-p.i < len(lit) || string(p.b[p.i:p.i+len(lit)]) != lit {
		return false
	}
	p.i += len(lit)
	return true
}

// str parses a string at p.i: no control bytes, escapes as JSON has
// them (any other byte, invalid UTF-8 included, encoding/json accepts).
func (p *shapeParser) str() bool {
	b := p.b
	if p.i >= len(b) || b[p.i] != '"' {
		return false
	}
	for i := p.i + 1; i < len(b); i++ {
		for i < len(b) && plainByte[b[i]] {
			i++
		}
		if i >= len(b) {
			break
		}
		switch c := b[i]; {
		case c == '"':
			p.i = i + 1
			return true
		case c < 0x20:
			return false
		case c == '\\':
			i++
			if i >= len(b) {
				return false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-i < 5 {
					return false
				}
				for _, h := range b[i+1 : i+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return false
					}
				}
				i += 4
			default:
				return false
			}
		}
	}
	return false
}

// plainByte: the bytes a JSON string holds as they are (not a quote, a
// backslash or a control byte).
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// number parses a JSON number at p.i: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *shapeParser) number() bool {
	b, i := p.b, p.i
	digits := func() bool {
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > start
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	p.i = i
	return true
}

// sep reads what follows a member or an element: a comma (more follow)
// or close (the last); ok is false for anything else.
func (p *shapeParser) sep(close byte) (end, ok bool) {
	p.space()
	if p.i >= len(p.b) {
		return false, false
	}
	switch p.b[p.i] {
	case ',':
		p.i++
		return false, true
	case close:
		p.i++
		return true, true
	}
	return false, false
}
