package registryfile_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registryfile"
)

func TestMirrorEntries(t *testing.T) {
	const file = `
- name: Upstream
  type: Custom
  url: registry.internal:5000
- name: Hub cache
  type: Custom
  url: http://cache.internal:5000
  tls: {mode: insecure}
  mirror: {of: docker.io, order: 1, fallback: true}
- name: Upstream cache
  type: Custom
  url: cache2.internal
  mirror: upstream
`
	regs, err := registryfile.Decode(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if m := regs[1].Mirror; m == nil || *m != (registry.Mirror{Of: "docker.io", Order: 1, Fallback: true}) {
		t.Errorf("hub cache mirror: %+v", m)
	}
	if m := regs[2].Mirror; m == nil || m.Of != "upstream" {
		t.Errorf("short form: %+v", m)
	}
	for _, tc := range []struct{ file, want string }{
		{"- {name: A, type: Custom, url: a.internal, mirror: {of: docker.io, order: first}}", "mirror.order: must be a whole number"},
		{"- {name: A, type: Custom, url: a.internal, mirror: {of: docker.io, fallbak: true}}", "mirror.fallbak"},
		{"- {name: A, type: Custom, url: a.internal, mirror: b}\n- {name: B, type: Custom, url: b.internal, mirror: a}", "makes a loop of mirrors"},
		{"- {name: A, type: Custom, url: a.internal, mirror: nowhere}", `names an unknown registry "nowhere"`},
	} {
		_, err := registryfile.Decode(strings.NewReader(tc.file))
		if !errors.Is(err, registry.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant %q", tc.file, err, tc.want)
		}
	}
}
