package hosts

import "testing"

// The cases of dockerconfig's TestMatchWildcard and of conntest's TestConnWildcardMatch,
// moved here with the one matcher, plus the IP literal and bare-label cases.
func TestMatchWildcard(t *testing.T) {
	tests := []struct {
		pattern, host string
		want          bool
	}{
		{"*.azurecr.io", "myreg.azurecr.io", true},
		{"*.azurecr.io", "azurecr.io", false},
		{"*.azurecr.io", "a.b.azurecr.io", false},
		{"*.azurecr.io", ".azurecr.io", false}, // transport's connWildcardMatch said true
		{"*.azurecr.io", "a..azurecr.io", false},
		{"*.azurecr.io", "myreg.azurecr.io.", false},
		{"*.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", true},
		{"*.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com.cn", false},
		{"*.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr..amazonaws.com", false},
		{"*.example.com:5000", "a.example.com:5000", true},
		{"*.example.com:5000", "a.example.com", false},
		{"*.example.com", "a.example.com:5000", false},
		{"*", "localhost", true},
		{"*", "[::1]", false},
		{"*.example.com", "[::1]:443", false},
	}
	for _, tt := range tests {
		if got := MatchWildcard(tt.pattern, tt.host); got != tt.want {
			t.Errorf("MatchWildcard(%q, %q) = %v, want %v", tt.pattern, tt.host, got, tt.want)
		}
	}
}

func TestPatternSpecificity(t *testing.T) {
	for _, tt := range []struct {
		pattern, suffix string
		literal         int
	}{
		{"*.azurecr.io", "azurecr.io", 2},
		{"*.dkr.ecr.*.amazonaws.com", "amazonaws.com", 4},
		{"*", "", 0},
		{"*.example.com:5000", "example.com", 2},
	} {
		p := NewPattern(tt.pattern)
		if p.Suffix() != tt.suffix || p.Literal() != tt.literal {
			t.Errorf("NewPattern(%q): suffix %q literal %d, want %q %d", tt.pattern, p.Suffix(), p.Literal(), tt.suffix, tt.literal)
		}
	}
}

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{
		"docker.io":                 "docker.io",
		"DOCKER.IO":                 "docker.io",
		"index.docker.io":           "docker.io",
		"registry-1.docker.io":      "docker.io",
		"registry.hub.docker.com":   "registry.hub.docker.com", // not Hub for Docker either
		"docker.io:443":             "docker.io:443",           // a port makes it another host
		"Ghcr.IO":                   "ghcr.io",
		"[0:0::1]:5000":             "[::1]:5000",
		"[::1]":                     "[::1]",
		"[::ffff:1.2.3.4]":          "[::ffff:1.2.3.4]",
		"[fe80::1%eth0]":            "[fe80::1%eth0]",
		"registry.example.com:5000": "registry.example.com:5000",
	} {
		if got := Canonical(in); got != want {
			t.Errorf("Canonical(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSplitPortAndHostname(t *testing.T) {
	for _, tt := range []struct{ in, host, port, hostname string }{
		{"ghcr.io", "ghcr.io", "", "ghcr.io"},
		{"registry:5000", "registry", "5000", "registry"},
		{"[::1]:5000", "[::1]", "5000", "::1"},
		{"[::1]", "[::1]", "", "::1"},
		{"::1", "::1", "", "::1"},
		{"*.example.com:5000", "*.example.com", "5000", "*.example.com"},
	} {
		h, p := SplitPort(tt.in)
		if h != tt.host || p != tt.port {
			t.Errorf("SplitPort(%q) = %q, %q, want %q, %q", tt.in, h, p, tt.host, tt.port)
		}
		if got := Hostname(tt.in); got != tt.hostname {
			t.Errorf("Hostname(%q) = %q, want %q", tt.in, got, tt.hostname)
		}
	}
}

func TestCanonicalDoesNotAllocate(t *testing.T) {
	for _, h := range []string{"ghcr.io", "docker.io", "registry-1.docker.io", "[::1]:5000"} {
		if n := testing.AllocsPerRun(100, func() { _ = Canonical(h) }); n != 0 {
			t.Errorf("Canonical(%q) allocates %v times", h, n)
		}
	}
}
