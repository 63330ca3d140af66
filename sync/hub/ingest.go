package hub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/lango-pos/lango/sync/wire"
	"github.com/lango-pos/lango/terminal"
)

// ChainBreak is a place where a terminal's hash chain does not hold.
type ChainBreak struct {
	Seq    int64
	Reason string
}

// CheckChain verifies consecutive events that follow (lastSeq, lastHash)
// and returns where the chain breaks. After a break it continues from the
// event as sent, so each break is reported once.
func CheckChain(lastSeq int64, lastHash string, events []terminal.Event) []ChainBreak {
	var out []ChainBreak
	v := terminal.ChainVerifier{LastSeq: lastSeq, LastHash: lastHash}
	for i := range events {
		e := &events[i]
		if err := v.Next(e); err != nil {
			reason := err.Error()
			var ce *terminal.ChainError
			if errors.As(err, &ce) {
				reason = ce.Reason
			}
			out = append(out, ChainBreak{Seq: e.Seq, Reason: reason})
			v.LastSeq, v.LastHash = e.Seq, e.Hash
		}
	}
	return out
}

// JoinChain places a batch's chain after the hub's last hash. inner is
// what CheckChain found in the batch checked on its own (from its first
// event's prev_hash); first is the first event the hub does not hold yet.
// That event is checked against lastHash; inner's breaks after it stand,
// since each depends only on the event before it in the batch.
func JoinChain(lastHash string, first *terminal.Event, inner []ChainBreak) []ChainBreak {
	out := CheckChain(first.Seq-1, lastHash, []terminal.Event{*first})
	for _, b := range inner {
		if b.Seq > first.Seq {
			out = append(out, b)
		}
	}
	return out
}

// validEventType reports whether t matches [a-z][a-z0-9_.]{0,63}: by hand,
// since it runs for every event ingested (a regexp cost 1 µs an event).
func validEventType(t string) bool {
	if len(t) == 0 || len(t) > 64 || t[0] < 'a' || t[0] > 'z' {
		return false
	}
	for i := 1; i < len(t); i++ {
		if c := t[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// Flag kinds: how the hub takes an event it cannot take as it is, without
// refusing the batch (a refused event would block every event after it in
// the terminal's queue for good).
const (
	// FlagClock: the event's time is outside terminal.MinEventTime–
	// MaxEventTime (a flat RTC battery). Applied as it is (its money
	// reaches the report), with a clock_out_of_range conflict.
	FlagClock = "clock_out_of_range"
	// FlagQuarantine: the hub cannot read what it must of the event. Kept
	// in the terminal's chain (so the queue moves on and the terminal can
	// be restored from the hub) but applied nowhere: not in the report,
	// not in the feed; a quarantined conflict names it.
	FlagQuarantine = "quarantined"
)

// EventFlag marks an event of a batch for Store.Apply.
type EventFlag struct {
	Seq    int64
	Kind   string // FlagClock, FlagQuarantine
	Reason string
}

// validateBatch checks the shape of an upload from terminal t before
// anything is stored: consecutive seqs, the sender's own events, ids and
// hashes well formed, sales of the terminal's own site. What only an
// event's content gets wrong is flagged, not refused.
func validateBatch(t Terminal, events []terminal.Event) ([]EventFlag, *wire.Error) {
	if len(events) == 0 {
		return nil, wire.Errorf(http.StatusBadRequest, wire.CodeMalformed, "the batch has no events")
	}
	if len(events) > wire.MaxBatch {
		return nil, wire.Errorf(http.StatusRequestEntityTooLarge, wire.CodeTooLarge, "the batch has %d events; at most %d", len(events), wire.MaxBatch)
	}
	var flags []EventFlag
	for i := range events {
		e := &events[i]
		switch {
		case e.Seq < 1 || e.Seq > wire.MaxSeq:
			return nil, wire.Errorf(http.StatusBadRequest, wire.CodeInvalid, "event %d: seq %d is not between 1 and %d", i, e.Seq, int64(wire.MaxSeq))
		case i > 0 && e.Seq != events[i-1].Seq+1:
			return nil, wire.Errorf(http.StatusBadRequest, wire.CodeInvalid, "event seqs are not consecutive: %d follows %d", e.Seq, events[i-1].Seq)
		case e.Terminal != t.ID:
			return nil, wire.Errorf(http.StatusForbidden, wire.CodeForbidden, "event %d belongs to terminal %q, not to the signer", e.Seq, e.Terminal)
		case !wire.IsUUID(e.ID):
			return nil, wire.Errorf(http.StatusBadRequest, wire.CodeInvalid, "event %d: id %q is not a UUID", e.Seq, e.ID)
		case !validEventType(e.Type) || e.Type == FlagQuarantine:
			return nil, wire.Errorf(http.StatusBadRequest, wire.CodeInvalid, "event %d: type %q is not valid", e.Seq, e.Type)
		case !wire.IsHash(e.Hash, false) || !wire.IsHash(e.PrevHash, e.Seq == 1):
			return nil, wire.Errorf(http.StatusBadRequest, wire.CodeInvalid, "event %d: hash or prev_hash is not a hex SHA-256", e.Seq)
		}
		site, check, unreadable := eventContent(e)
		if unreadable != "" {
			flags = append(flags, EventFlag{Seq: e.Seq, Kind: FlagQuarantine, Reason: unreadable})
			continue
		}
		if check && site != t.Site {
			return nil, wire.Errorf(http.StatusForbidden, wire.CodeForbidden, "event %d records a sale of site %q; this terminal sells for %s", e.Seq, site, t.Site)
		}
		if e.At.Before(terminal.MinEventTime) || !e.At.Before(terminal.MaxEventTime) {
			flags = append(flags, EventFlag{Seq: e.Seq, Kind: FlagClock,
				Reason: fmt.Sprintf("the terminal's clock read %s (outside %d–%d) when it recorded this %s", e.At.UTC().Format(time.RFC3339), terminal.MinEventTime.Year(), terminal.MaxEventTime.Year(), e.Type)})
		}
	}
	return flags, nil
}

// eventContent reads what the hub must of an event's content: the site of
// a money event (see payloadSite), or why the event is unreadable (a
// reason to quarantine it).
func eventContent(e *terminal.Event) (site string, check bool, unreadable string) {
	switch {
	case len(e.Actor) > 64:
		return "", false, "its actor is longer than 64 bytes"
	case len(e.Payload) == 0 || e.Payload[0] != '{':
		return "", false, "its payload is not a JSON object"
	}
	site, check, err := payloadSite(e)
	if err != nil {
		return "", false, fmt.Sprintf("the %s payload is unreadable: %v", e.Type, err)
	}
	return site, check, ""
}

// payloadSite returns the site a money event records, and whether it is
// one that must name the terminal's site. It reads only as far as the
// site: the payload's syntax was checked when the batch was decoded.
func payloadSite(e *terminal.Event) (site string, check bool, err error) {
	var path []string
	switch e.Type {
	case terminal.EventSaleCreated:
		path = []string{"site"}
	case terminal.EventSaleRefunded:
		path = []string{"refund", "site"}
	case terminal.EventPassSettled:
		// The short form (no settlement document) names no site.
		path = []string{"settlement", "site"}
	default:
		return "", false, nil
	}
	site, found, err := findString(e.Payload, path)
	if err != nil {
		return "", false, err
	}
	return site, found || e.Type != terminal.EventPassSettled, nil
}

// findString returns the string at path in the JSON object b: the first
// occurrence of each key, compared byte for byte (keys with escapes never
// match). It reads no further than it must. b must be valid JSON (the
// batch decoder checked it); anything else is an error, never a panic.
func findString(b []byte, path []string) (string, bool, error) {
	for _, key := range path {
		v, found, err := objectValue(b, key)
		if err != nil || !found {
			return "", false, err
		}
		b = v
	}
	if len(b) == 0 || b[0] != '"' {
		return "", false, fmt.Errorf("%s is not a string", path[len(path)-1])
	}
	if len(b) >= 2 && b[len(b)-1] == '"' && bytes.IndexByte(b[1:len(b)-1], '\\') < 0 && bytes.IndexByte(b[1:len(b)-1], '"') < 0 {
		return string(b[1 : len(b)-1]), true, nil // no escapes: the bytes are the string
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return "", false, err
	}
	return s, true, nil
}

// objectValue returns the raw value of the first key in the object b.
func objectValue(b []byte, key string) ([]byte, bool, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false, errors.New("not an object")
	}
	i++
	for {
		i = skipSpace(b, i)
		if i < len(b) && b[i] == '}' {
			return nil, false, nil
		}
		if i >= len(b) || b[i] != '"' {
			return nil, false, errors.New("bad object key")
		}
		end, err := skipValue(b, i)
		if err != nil {
			return nil, false, err
		}
		k := b[i+1 : end-1]
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return nil, false, errors.New("missing ':'")
		}
		i = skipSpace(b, i+1)
		vend, err := skipValue(b, i)
		if err != nil {
			return nil, false, err
		}
		if string(k) == key {
			return b[i:vend], true, nil
		}
		i = skipSpace(b, vend)
		if i < len(b) && b[i] == ',' {
			i++
			continue
		}
		if i < len(b) && b[i] == '}' {
			return nil, false, nil
		}
		return nil, false, errors.New("bad object")
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value that starts at b[i], which
// is assumed valid: it tracks strings and nesting, nothing more.
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errors.New("missing value")
	}
	depth := 0
	for i < len(b) {
		switch c := b[i]; c {
		case '"':
			i++
			for i < len(b) && b[i] != '"' {
				if b[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(b) {
				return 0, errors.New("unterminated string")
			}
			i++
		case '{', '[':
			depth++
			i++
		case '}', ']':
			if depth == 0 {
				return i, nil
			}
			depth--
			i++
		case ',', ':', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i, nil
			}
			i++
		default:
			i++
		}
		if depth == 0 && i > 0 && (b[i-1] == '"' || b[i-1] == '}' || b[i-1] == ']') {
			return i, nil
		}
	}
	if depth != 0 {
		return 0, errors.New("unterminated value")
	}
	return i, nil
}
