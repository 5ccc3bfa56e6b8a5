package transport

import "strings"

// connRedactedError shows a cleaned text but keeps the chain for errors.Is/As.
type ConnRedactedError struct {
	Text string
	Err  error
}

func (e *ConnRedactedError) Error() string { return e.Text }

func (e *ConnRedactedError) Unwrap() error { return e.Err }

// pickAuthChallenge parses WWW-Authenticate values and prefers bearer over basic.
func PickAuthChallenge(values []string) (scheme string, params map[string]string) {
	for _, v := range values {
		s, p := ParseAuthChallenge(v)
		switch {
		case strings.EqualFold(s, "bearer"):
			return s, p
		case scheme == "" || strings.EqualFold(s, "basic") && !strings.EqualFold(scheme, "basic"):
			scheme, params = s, p
		}
	}
	return scheme, params
}

// parseAuthChallenge parses one challenge: Scheme k="v", k2=v2 (RFC 7235, quoted strings with
// backslash escapes). Parameter names are lowercased.
func ParseAuthChallenge(h string) (string, map[string]string) {
	h = strings.TrimSpace(h)
	scheme, rest, _ := strings.Cut(h, " ")
	params := map[string]string{}
	for {
		rest = strings.TrimLeft(rest, " ,")
		if rest == "" {
			break
		}
		eq := strings.IndexByte(rest, '=')
		if eq < 0 {
			break
		}
		key := strings.ToLower(strings.TrimSpace(rest[:eq]))
		rest = strings.TrimLeft(rest[eq+1:], " ")
		var val strings.Builder
		if strings.HasPrefix(rest, `"`) {
			i := 1
			for ; i < len(rest); i++ {
				if rest[i] == '\\' && i+1 < len(rest) {
					i++
					val.WriteByte(rest[i])
					continue
				}
				if rest[i] == '"' {
					break
				}
				val.WriteByte(rest[i])
			}
			rest = rest[min(i+1, len(rest)):]
		} else {
			end := strings.IndexByte(rest, ',')
			if end < 0 {
				end = len(rest)
			}
			val.WriteString(strings.TrimSpace(rest[:end]))
			rest = rest[end:]
		}
		params[key] = val.String()
	}
	return scheme, params
}
