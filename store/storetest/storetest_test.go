package storetest_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
	"github.com/regcred/regcred/store/storetest"
)

// bare forwards only the required methods: a wrapper store that forgot Watch, Rewrite and
// the health methods.
type bare struct{ registry.Store }

// A store declared without its optional capabilities passes with those checks replaced by
// checks that it really lacks them.
func TestDeclaredWithout(t *testing.T) {
	storetest.Run(t, func(t *testing.T) registry.Store { return bare{memory.New()} },
		storetest.Without(storetest.Watch, storetest.Rewrite, storetest.Health, storetest.Reopen))
}

// The suite fails (it never skips) when a store lacks a capability it did not declare, and
// when a declaration is stale. Each case runs the suite in a child test process.
func TestUndeclaredFails(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"lost-watch", "does not implement registry.Watcher"},
		{"stale-without", "implements the watch capability declared absent"},
		{"no-reopen", "give the store's second handle (WithReopen) or declare Without(Reopen)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "STORETEST_CHILD="+tc.name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a store that %s:\n%s", tc.name, out)
			}
			if !strings.Contains(string(out), tc.want) {
				t.Fatalf("the failure does not say %q:\n%s", tc.want, out)
			}
		})
	}
}

// TestChild is the child of TestUndeclaredFails; it does nothing in a normal run.
func TestChild(t *testing.T) {
	switch os.Getenv("STORETEST_CHILD") {
	case "lost-watch":
		storetest.Run(t, func(t *testing.T) registry.Store { return bare{memory.New()} },
			storetest.Without(storetest.Rewrite, storetest.Health, storetest.Reopen))
	case "stale-without":
		storetest.Run(t, func(t *testing.T) registry.Store { return memory.New() },
			storetest.Without(storetest.Watch, storetest.Reopen))
	case "no-reopen":
		storetest.Run(t, func(t *testing.T) registry.Store { return memory.New() })
	}
}
