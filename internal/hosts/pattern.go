package hosts

import "strings"

// Pattern is a wildcard host: DNS labels where "*" matches exactly one non-empty label,
// and a port that must be equal. Build it once (NewPattern) and match many hosts.
type Pattern struct {
	labels  []string
	port    string // "5000" or ""
	literal int
	suffix  string
}

// NewPattern reads a wildcard host[:port] ("*.azurecr.io", "*.dkr.ecr.*.amazonaws.com",
// "*.example.com:5000").
func NewPattern(pattern string) Pattern {
	name, port := SplitPort(pattern)
	p := Pattern{labels: strings.Split(name, "."), port: port}
	last := -1
	for i, l := range p.labels {
		if l == "*" {
			last = i
		} else {
			p.literal++
		}
	}
	p.suffix = strings.Join(p.labels[last+1:], ".")
	return p
}

// Literal is the number of labels that are not "*": the more, the more specific.
func (p Pattern) Literal() int { return p.literal }

// Suffix is the literal labels after the last "*" ("azurecr.io" for "*.azurecr.io"): an
// index can bucket patterns by it.
func (p Pattern) Suffix() string { return p.suffix }

// Match reports whether host (host[:port], lowercase) matches the pattern and its port.
func (p Pattern) Match(host string) bool {
	name, port := SplitPort(host)
	return p.MatchSplit(name, port)
}

// MatchSplit is Match for a host already split (name without port, port without colon).
// An IP literal never matches a "*": it stands for a DNS label.
func (p Pattern) MatchSplit(name, port string) bool {
	if port != p.port || strings.ContainsAny(name, "[:") {
		return false
	}
	for i, l := range p.labels {
		label, rest, more := strings.Cut(name, ".")
		if label == "" || (l != "*" && l != label) || more != (i < len(p.labels)-1) {
			return false
		}
		name = rest
	}
	return true
}

// MatchWildcard reports whether host matches pattern (see Pattern). Build a Pattern to
// match many hosts against one pattern.
func MatchWildcard(pattern, host string) bool { return NewPattern(pattern).Match(host) }
