package postgres_test

import (
	"context"
	"log"
	"os"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/store/postgres"
)

// A controller replica: the shared store, a Catalog that follows the other replicas'
// changes, and leadership through a lease whose fencing number guards the writes. (No
// Output: it needs a PostgreSQL server.)
func ExampleStore_Acquire() {
	ctx := context.Background()
	s, err := postgres.Open(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	lease, err := s.Acquire(ctx, "regcred-controller") // waits while another replica leads
	if err != nil {
		log.Fatal(err)
	}
	defer lease.Release(ctx)
	c := catalog.New(s.Fenced(lease)) // a deposed leader's writes fail with ErrFenced
	defer c.Close()
	select {
	case <-lease.Lost(): // stop leading
	case <-ctx.Done():
	}
}
