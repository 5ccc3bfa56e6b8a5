package migrate

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/regcred/regcred/store"
)

func TestLoadOrderAndMistakes(t *testing.T) {
	ms, err := Load(fstest.MapFS{
		"m/002_more.sql": {Data: []byte("B")},
		"m/001_init.sql": {Data: []byte("A")},
		"m/README.md":    {Data: []byte("not a migration")},
	}, "m")
	if err != nil || len(ms) != 2 || ms[0].SQL != "A" || ms[1].Name != "002_more.sql" || Latest(ms) != 2 {
		t.Fatalf("Load = %+v, %v", ms, err)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"gap":        {"m/001_a.sql": {}, "m/003_c.sql": {}},
		"duplicate":  {"m/001_a.sql": {}, "m/001_b.sql": {}},
		"unnumbered": {"m/init.sql": {}},
	} {
		if _, err := Load(fsys, "m"); err == nil {
			t.Errorf("%s: Load accepted it", name)
		}
	}
}

func TestPending(t *testing.T) {
	ms := []Migration{{Version: 1}, {Version: 2}}
	if p, err := Pending(ms, 1, "db"); err != nil || len(p) != 1 || p[0].Version != 2 {
		t.Fatalf("Pending(1) = %+v, %v", p, err)
	}
	if p, err := Pending(ms, 2, "db"); err != nil || len(p) != 0 {
		t.Fatalf("Pending(2) = %+v, %v", p, err)
	}
	_, err := Pending(ms, 3, "the database")
	if !errors.Is(err, store.ErrNewerSchema) || !strings.Contains(err.Error(), "version 3") {
		t.Fatalf("Pending(3) = %v; want ErrNewerSchema naming the version", err)
	}
}
