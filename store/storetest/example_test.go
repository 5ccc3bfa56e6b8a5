package storetest_test

import (
	"context"
	"fmt"

	"github.com/regcred/regcred/store/memory"
	"github.com/regcred/regcred/store/storetest"
)

// A Store's test runs the suite with a factory of fresh stores:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) registry.Store { return memory.New() },
//			storetest.Without(storetest.Reopen)) // no second handle on memory
//	}
//
// Record is the fully populated record the suite round-trips; a store's own tests may use
// it too.
func ExampleRecord() {
	s := memory.New()
	ctx := context.Background()
	if err := s.Put(ctx, storetest.Record("reg-1", 1)); err != nil {
		panic(err)
	}
	r, _ := s.Get(ctx, "reg-1")
	fmt.Println(r.ID, r.Version, r.Kind, r.Mirror.Of)
	// Output: reg-1 1 custom docker.io
}
