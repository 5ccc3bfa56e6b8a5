package storetest_test

import (
	"testing"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
	"github.com/regcred/regcred/store/storetest"
)

// The suite on the MemoryStore (the registry package runs it on the FileStore with a
// second handle).
func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) registry.Store { return memory.New() })
}
