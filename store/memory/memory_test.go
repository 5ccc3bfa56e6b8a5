package memory_test

import (
	"testing"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
	"github.com/regcred/regcred/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) registry.Store {
		s := memory.New()
		t.Cleanup(func() { s.Close() })
		return s
	}, storetest.Without(storetest.Reopen))
}
