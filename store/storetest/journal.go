package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/regcred/regcred/registry"
)

// RunJournal checks a store's registry.Journal: every audited write commits with its entry
// and a refused one (stale version, redacted record, missing record) adds none; entries
// come back as written, in sequence order, after a sequence and up to a limit; sequence
// numbers only grow. Run it beside Run for every store that implements the Journal.
func RunJournal(t *testing.T, newStore Factory) {
	t.Helper()
	st := newStore(t)
	j, ok := st.(registry.Journal)
	if !ok {
		t.Fatalf("%T does not implement registry.Journal", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if n, err := j.LastSeq(ctx); err != nil || n != 0 {
		t.Fatalf("LastSeq of an empty log = %d, %v; want 0", n, err)
	}
	at := time.Date(2026, 5, 1, 12, 0, 0, 123456000, time.UTC)
	entry := func(action, id string, v int64, fields ...string) registry.Audit {
		return registry.Audit{Time: at, Actor: "alice", Action: action, ID: id, Name: "n-" + id, Version: v, Fields: fields}
	}
	var seqs []uint64
	write := func(what string, a registry.Audit, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if len(seqs) > 0 && a.Seq <= seqs[len(seqs)-1] || a.Seq == 0 {
			t.Fatalf("%s: seq %d after %v, want a larger one", what, a.Seq, seqs)
		}
		seqs = append(seqs, a.Seq)
	}
	a, err := j.PutAudited(ctx, Record("a", 1), entry("add", "a", 1))
	write("PutAudited(a v1)", a, err)
	b, err := j.PutAudited(ctx, Record("b", 1), entry("add", "b", 1))
	write("PutAudited(b v1)", b, err)
	a2, err := j.PutAudited(ctx, Record("a", 2), entry("rotate", "a", 2, "password"))
	write("PutAudited(a v2)", a2, err)
	if got, err := st.Get(ctx, "a"); err != nil || got.Version != 2 {
		t.Fatalf("Get(a) after an audited put = v%d, %v; want v2", got.Version, err)
	}

	// Refused writes add no entry.
	_, err = j.PutAudited(ctx, Record("a", 2), entry("edit", "a", 2))
	wantErr(t, "PutAudited(stale)", err, registry.ErrConflict)
	_, err = j.PutAudited(ctx, Record("c", 1).Redacted(), entry("add", "c", 1))
	wantErr(t, "PutAudited(redacted)", err, registry.ErrRedacted)
	_, err = j.DeleteAudited(ctx, "missing", 1, entry("delete", "missing", 1))
	wantErr(t, "DeleteAudited(missing)", err, registry.ErrNotFound)
	_, err = j.DeleteAudited(ctx, "b", 5, entry("delete", "b", 5))
	wantErr(t, "DeleteAudited(stale)", err, registry.ErrConflict)

	d, err := j.DeleteAudited(ctx, "b", 1, entry("delete", "b", 1))
	write("DeleteAudited(b)", d, err)
	if _, err := st.Get(ctx, "b"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("Get(b) after an audited delete = %v", err)
	}

	all, err := j.Changes(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []registry.Audit{a, b, a2, d}
	if len(all) != len(want) {
		t.Fatalf("Changes(0) = %d entries, want %d (refused writes must add none)", len(all), len(want))
	}
	for i, got := range all {
		w := want[i]
		if got.Seq != w.Seq || !got.Time.Equal(w.Time) || got.Actor != w.Actor || got.Action != w.Action ||
			got.ID != w.ID || got.Name != w.Name || got.Version != w.Version || !slices.Equal(got.Fields, w.Fields) {
			t.Errorf("entry %d = %+v, want %+v", i, got, w)
		}
	}
	// Resume after a sequence, with a limit.
	page, err := j.Changes(ctx, a.Seq, 2)
	if err != nil || len(page) != 2 || page[0].Seq != b.Seq || page[1].Seq != a2.Seq {
		t.Fatalf("Changes(after a, 2) = %v, %v; want b, a v2", page, err)
	}
	if n, err := j.LastSeq(ctx); err != nil || n != d.Seq {
		t.Fatalf("LastSeq = %d, %v; want %d", n, err, d.Seq)
	}
	if rest, err := j.Changes(ctx, d.Seq, 0); err != nil || len(rest) != 0 {
		t.Fatalf("Changes(after the last) = %v, %v; want none", rest, err)
	}
}
