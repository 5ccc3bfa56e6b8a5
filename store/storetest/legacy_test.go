package storetest_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/storetest"
)

// legacyStore is a custom store written against the old docs: it serializes records with
// json.Marshal, which now writes the redacted view, so every secret it saves is
// "REDACTED".
type legacyStore struct {
	mu   sync.Mutex
	rows map[string][]byte
}

func (s *legacyStore) get(id string) (registry.Registry, bool) {
	b, ok := s.rows[id]
	if !ok {
		return registry.Registry{}, false
	}
	var r registry.Registry
	json.Unmarshal(b, &r)
	return r, true
}

func (s *legacyStore) Get(ctx context.Context, id string) (registry.Registry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.get(id)
	if !ok {
		return r, registry.NotFound("get", id)
	}
	return r, nil
}

func (s *legacyStore) List(ctx context.Context) ([]registry.Registry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []registry.Registry{}
	for id := range s.rows {
		r, _ := s.get(id)
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (s *legacyStore) Put(ctx context.Context, r registry.Registry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.get(r.ID)
	if r.Version == 1 && ok || r.Version > 1 && (!ok || cur.Version != r.Version-1) {
		return registry.ErrConflict
	}
	b, err := json.Marshal(r) // the old docs' way: now the redacted view
	if err != nil {
		return err
	}
	s.rows[r.ID] = b
	return nil
}

func (s *legacyStore) Delete(ctx context.Context, id string, version int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.rows, id)
	return nil
}

// A store that saves json.Marshal(Registry) fails the conformance suite, naming the
// redacted record: the way a platform finds out before its users' secrets are lost.
func TestLegacyJSONStoreFails(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestLegacyChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "STORETEST_LEGACY=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the suite passed a store that saves json.Marshal(Registry):\n%s", out)
	}
	for _, want := range []string{"--- FAIL: TestLegacyChild/RoundTrip", "Get returned a record marked redacted", "--- FAIL: TestLegacyChild/Redacted"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the failure does not say %q:\n%s", want, out)
		}
	}
}

// TestLegacyChild is the child of TestLegacyJSONStoreFails; it does nothing in a normal run.
func TestLegacyChild(t *testing.T) {
	if os.Getenv("STORETEST_LEGACY") == "" {
		return
	}
	storetest.Run(t, func(t *testing.T) registry.Store { return &legacyStore{rows: map[string][]byte{}} },
		storetest.Without(storetest.Watch, storetest.Rewrite, storetest.Health, storetest.Reopen))
}
