package catalog_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/memory"
	"github.com/regcred/regcred/store/sqlite"
)

// Each change is logged with its actor, action and the names of the fields it changed: a
// password-only change is a rotation of "password" and nothing else (the console used to
// log name, type, URL, TLS and default as rotated); an unchanged form logs nothing, makes
// no version and no event. Subscribers hear the actor, the sequence and the fields.
func TestAuditLog(t *testing.T) {
	stores := map[string]func(t *testing.T) registry.Store{
		"sqlite": func(t *testing.T) registry.Store {
			s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "r.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"memory": func(t *testing.T) registry.Store { return memory.New() },
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			bg, cancel := context.WithCancel(context.Background())
			defer cancel()
			ctx := catalog.WithPrincipal(bg, catalog.Principal{User: "alice"})
			cat := catalog.New(open(t))
			defer cat.Close()
			events := cat.Subscribe(bg)
			saved, err := cat.Add(ctx, catHarbor("h", "h.example.com", "old"))
			if err != nil {
				t.Fatal(err)
			}
			form := saved.Clone()
			form.Fields["password"] = "new"
			rotated, err := cat.Update(ctx, form)
			if err != nil {
				t.Fatal(err)
			}
			same, err := cat.Update(ctx, rotated) // the form sent back unchanged
			if err != nil || same.Version != rotated.Version {
				t.Fatalf("unchanged form: v%d, %v; want v%d", same.Version, err, rotated.Version)
			}
			renamed := rotated.Clone()
			renamed.Name = "h2"
			if _, err := cat.Update(ctx, renamed); err != nil {
				t.Fatal(err)
			}
			if err := cat.Delete(ctx, saved.ID); err != nil {
				t.Fatal(err)
			}
			log, err := cat.Changes(bg, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			type row struct {
				action string
				fields []string
			}
			want := []row{{"add", nil}, {"rotate", []string{"password"}}, {"edit", []string{"name"}}, {"delete", nil}}
			if len(log) != len(want) {
				t.Fatalf("log = %+v, want %d entries (none for the unchanged form)", log, len(want))
			}
			for i, a := range log {
				if a.Action != want[i].action || !slices.Equal(a.Fields, want[i].fields) || a.Actor != "alice" || a.ID != saved.ID || a.Time.IsZero() {
					t.Errorf("entry %d = %+v, want %s %v by alice", i, a, want[i].action, want[i].fields)
				}
				if i > 0 && a.Seq <= log[i-1].Seq {
					t.Errorf("entry %d: seq %d after %d", i, a.Seq, log[i-1].Seq)
				}
			}
			for i, wantOp := range []catalog.EventOp{catalog.EventAdd, catalog.EventRotate, catalog.EventUpdate, catalog.EventDelete} {
				e := <-events
				if e.Op != wantOp || e.Actor != "alice" || e.Seq != log[i].Seq || !slices.Equal(e.Fields, log[i].Fields) {
					t.Fatalf("event %d = %s by %q seq %d fields %v; want %s by alice seq %d fields %v", i, e.Op, e.Actor, e.Seq, e.Fields, wantOp, log[i].Seq, log[i].Fields)
				}
			}
			if rest, _ := cat.Changes(bg, log[1].Seq, 1); len(rest) != 1 || rest[0].Seq != log[2].Seq {
				t.Fatalf("Changes(after the rotation, 1) = %+v", rest)
			}
		})
	}
}

// Another replica's subscribers hear who changed what: the event of a change seen on the
// store's feed carries the actor, sequence and fields from the store's change log.
func TestFeedEventsCarryAudit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	open := func() *catalog.Catalog {
		s, err := sqlite.Open(context.Background(), path, sqlite.WithPollInterval(5*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		c := catalog.New(s)
		t.Cleanup(func() { c.Close() })
		return c
	}
	a, b := open(), open()
	bg, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	events := b.Subscribe(bg) // replica b listens; alice works on replica a
	ctx := catalog.WithPrincipal(bg, catalog.Principal{User: "alice"})
	heard := func(want catalog.EventOp, fields []string) {
		t.Helper()
		log, err := b.Changes(bg, 0, 0)
		if err != nil || len(log) == 0 {
			t.Fatalf("log = %+v, %v", log, err)
		}
		last := log[len(log)-1]
		select {
		case e := <-events:
			if e.Op != want || e.Actor != "alice" || e.Seq != last.Seq || !slices.Equal(e.Fields, fields) {
				t.Fatalf("event %s by %q seq %d fields %v; want %s by alice seq %d fields %v", e.Op, e.Actor, e.Seq, e.Fields, want, last.Seq, fields)
			}
		case <-bg.Done():
			t.Fatalf("no %s event on the other replica", want)
		}
	}
	saved, err := a.Add(ctx, catHarbor("h", "h.example.com", "old"))
	if err != nil {
		t.Fatal(err)
	}
	heard(catalog.EventAdd, nil)
	form := saved.Clone()
	form.Fields["password"] = "new"
	if _, err := a.Update(ctx, form); err != nil {
		t.Fatal(err)
	}
	heard(catalog.EventRotate, []string{"password"})
	if err := a.Delete(ctx, saved.ID); err != nil {
		t.Fatal(err)
	}
	heard(catalog.EventDelete, nil)
}
