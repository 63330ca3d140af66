package wire

// skipFast is the decoder's skip of a value (an event's payload, most of
// an upload) without recursion or a closure per member: it returns the
// end of the valid JSON value at b[i] and true, or false when the value
// is not valid or nests deeper than limit (then skip's slower walk, which
// accepts the same JSON, says what is wrong). Accepting what skip
// accepts, and ending where it ends, is FuzzDecodeUpload's to check.
func skipFast(b []byte, i, limit int) (int, bool) {
	var stack [64]byte // '{' or '[' of each container open
	n := 0
	limit = min(limit, len(stack))
	const (
		value = iota // a value is next
		after        // a value has ended
		key          // an object's key is next
	)
	state := value
	for {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			i++
		}
		if i >= len(b) {
			return 0, false
		}
		c := b[i]
		switch state {
		case key:
			if c != '"' {
				return 0, false
			}
			var ok bool
			if i, ok = skipString(b, i); !ok {
				return 0, false
			}
			for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
				i++
			}
			if i >= len(b) || b[i] != ':' {
				return 0, false
			}
			i++
			state = value
		case after:
			switch {
			case c == ',':
				i++
				if stack[n-1] == '{' {
					state = key
				} else {
					state = value
				}
			case c == '}' && stack[n-1] == '{', c == ']' && stack[n-1] == '[':
				i++
				if n--; n == 0 {
					return i, true
				}
			default:
				return 0, false
			}
		default: // value
			switch {
			case c == '{' || c == '[':
				if n >= limit {
					return 0, false
				}
				stack[n] = c
				n++
				i++
				for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
					i++
				}
				switch {
				case i < len(b) && (c == '{' && b[i] == '}' || c == '[' && b[i] == ']'):
					i++
					if n--; n == 0 {
						return i, true
					}
					state = after
				case c == '{':
					state = key
				}
				continue
			case c == '"':
				var ok bool
				if i, ok = skipString(b, i); !ok {
					return 0, false
				}
			case c == '-' || c >= '0' && c <= '9':
				var ok bool
				if i, ok = skipNumber(b, i); !ok {
					return 0, false
				}
			case c == 't' && len(b)-i >= 4 && string(b[i:i+4]) == "true":
				i += 4
			case c == 'f' && len(b)-i >= 5 && string(b[i:i+5]) == "false":
				i += 5
			case c == 'n' && len(b)-i >= 4 && string(b[i:i+4]) == "null":
				i += 4
			default:
				return 0, false
			}
			if n == 0 {
				return i, true
			}
			state = after
		}
	}
}

// skipString returns the end of the string at b[i] (a quote), checked as
// rawString checks it.
func skipString(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		for i < len(b) && asciiPlain[b[i]] {
			i++
		}
		if i >= len(b) {
			return 0, false
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return 0, false
		case c == '\\':
			if i+1 >= len(b) {
				return 0, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+6 > len(b) {
					return 0, false
				}
				for _, h := range b[i+2 : i+6] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return 0, false
					}
				}
				i += 5
			default:
				return 0, false
			}
		}
		// any other byte (0x80 and over) is taken as it is
	}
	return 0, false
}

// skipNumber returns the end of the number at b[i], by number's grammar.
func skipNumber(b []byte, i int) (int, bool) {
	digits := func() bool {
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > start
	}
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return 0, false
		}
	}
	return i, true
}
