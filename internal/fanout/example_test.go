package fanout_test

import (
	"context"
	"fmt"

	"github.com/regcred/regcred/internal/fanout"
	"github.com/regcred/regcred/registry"
)

func ExampleFeed() {
	f := fanout.NewFeed(16)
	defer f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := f.Subscribe(ctx)
	f.Publish(registry.Change{Op: registry.ChangePut, ID: "reg-1", Version: 2})
	c := <-ch
	fmt.Println(c.Op, c.ID, c.Version)
	// Output: put reg-1 2
}
