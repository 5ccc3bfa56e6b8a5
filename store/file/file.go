package file

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/gofrs/flock"

	"github.com/regcred/regcred/internal/atomicfile"
	"github.com/regcred/regcred/internal/fanout"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/internal/row"
)

// FileStore defaults.
const (
	// DefaultPollInterval is how often a watched Store looks at its file for writes of
	// other handles (other processes) when no file event came: the latency of its change
	// feed across processes on file systems that report no events.
	DefaultPollInterval = 250 * time.Millisecond
	// fileChangeLog is how many recent changes the file keeps for watchers in other
	// processes; one that falls further behind gets a ChangeResync.
	fileChangeLog = 256
	lockRetry     = 5 * time.Millisecond
)

// FileStore is a Store in one JSON file, shared safely by several processes. It keeps the
// real secret values, so the file is written with mode 0600 (its directory, when FileStore
// creates it, 0700), and always atomically: a temporary file in the same directory, fsync,
// rename over the old file, fsync of the directory. A crash leaves the old file or the new
// one, never half of one; the temporary file a crash leaves behind (it holds secrets) is
// removed by the next open.
//
// Every write takes an exclusive lock on a file beside it (PATH.lock, flock(2) or its
// Windows twin) and re-reads the store when another handle changed it, so writers in
// several processes never lose each other's records; the version check of Store applies
// across processes. Reads serve from memory after one stat(2) that notices another
// handle's write (the file is then read again). Every write rewrites the whole file: for
// thousands of records or many writers, use a SQL store.
//
// Store implements Watcher, HealthStore and Rewriter. The file keeps a log of the last
// changes, so a watcher in another process gets each change in order: as soon as the
// operating system reports that the file was replaced (a watch on its directory:
// inotify, kqueue, ReadDirectoryChangesW), and within the poll interval on file systems
// that report nothing (WithPollInterval, default 250 ms; one stat(2) per interval while
// watched); changes through the same handle arrive at once. Close ends the watches.
type Store struct {
	path string
	lock *flock.Flock
	poll time.Duration
	feed *fanout.Feed

	mu     sync.Mutex
	fi     fs.FileInfo // of the file last read or written; nil: no file
	recs   map[string]registry.Registry
	health map[string]registry.Health
	seq    int64        // of the last change in the file
	log    []fileChange // the last changes, oldest first
	polls  int          // running pollers (0 or 1)
	closed bool
}

var (
	_ registry.Store       = (*Store)(nil)
	_ registry.Watcher     = (*Store)(nil)
	_ registry.HealthStore = (*Store)(nil)
	_ registry.Rewriter    = (*Store)(nil)
)

// fileStoreDoc is the file's shape: each record in the stored form (MarshalStored), their
// health, and the log of the last changes (Seq is the last one's).
type fileStoreDoc struct {
	Seq        int64                      `json:"seq,omitempty"`
	Registries []json.RawMessage          `json:"registries"`
	Health     map[string]registry.Health `json:"health,omitempty"`
	Changes    []fileChange               `json:"changes,omitempty"`
}

type fileChange struct {
	Seq     int64  `json:"seq"`
	Op      string `json:"op"` // "put" or "delete"
	ID      string `json:"id"`
	Version int64  `json:"version"`
}

func (c fileChange) change() registry.Change {
	op := registry.ChangePut
	if c.Op == registry.ChangeDelete.String() {
		op = registry.ChangeDelete
	}
	return registry.Change{Op: op, ID: c.ID, Version: c.Version}
}

// FileStoreOption configures NewFileStore.
type Option func(*Store)

// WithPollInterval sets how often a watched store looks for other handles' writes
// (default DefaultPollInterval).
func WithPollInterval(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.poll = d
		}
	}
}

// NewFileStore opens the store at path, creating its directory (0700) when missing. A
// missing file is an empty store; the file is created by the first write.
func New(path string, opts ...Option) (*Store, error) {
	if path == "" {
		return nil, &registry.Error{Op: "open store", Err: &registry.FieldError{Field: "path", Reason: "is empty"}}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, &registry.Error{Op: "open store", Registry: path, Err: err}
	}
	s := &Store{path: path, poll: DefaultPollInterval, feed: fanout.NewFeed(0),
		lock: flock.New(path+".lock", flock.SetFlag(os.O_CREATE|os.O_RDWR), flock.SetPermissions(0o600))}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		// The file holds real secrets: take it back from group and others now rather
		// than at the next write.
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, &registry.Error{Op: "open store", Registry: path, Err: fmt.Errorf("the file is readable by others (mode %v) and chmod failed: %w", fi.Mode().Perm(), err)}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	unlock, err := s.lockFile(ctx)
	if err != nil {
		return nil, &registry.Error{Op: "open store", Registry: path, Err: err}
	}
	defer unlock()
	s.removeLeftovers()
	if err := s.refresh(); err != nil {
		return nil, &registry.Error{Op: "open store", Registry: path, Err: err}
	}
	return s, nil
}

// Path is the file's path.
func (s *Store) Path() string { return s.path }

// lockFile takes the cross-process lock.
func (s *Store) lockFile(ctx context.Context) (unlock func(), err error) {
	ok, err := s.lock.TryLockContext(ctx, lockRetry)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("lock %s: %w", s.lock.Path(), err)
	}
	if !ok {
		return nil, fmt.Errorf("lock %s: not acquired", s.lock.Path())
	}
	return func() { s.lock.Unlock() }, nil
}

// removeLeftovers deletes the temporary files of writes that crashed (atomicfile's
// ".NAME.tmp-*"). The caller holds the file lock, so no live write owns one.
func (s *Store) removeLeftovers() {
	pattern := filepath.Join(filepath.Dir(s.path), "."+escapeGlob(filepath.Base(s.path))+".tmp-*")
	leftovers, _ := filepath.Glob(pattern)
	for _, f := range leftovers {
		os.Remove(f)
	}
}

func escapeGlob(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '*', '?', '[', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// refresh reads the file again when another handle replaced it, and publishes what
// changed. The caller holds s.mu.
func (s *Store) refresh() error {
	fi, err := os.Stat(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if s.fi == nil && s.recs != nil {
			return nil
		}
		s.adopt(nil, &fileStoreDoc{}, map[string]registry.Registry{})
		return nil
	case err != nil:
		return err
	case s.fi != nil && os.SameFile(fi, s.fi) && fi.Size() == s.fi.Size() && fi.ModTime().Equal(s.fi.ModTime()):
		return nil
	}
	f, err := os.Open(s.path)
	if err != nil {
		return err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	doc, err := decodeFileStore(data)
	if err != nil {
		return err
	}
	recs, err := doc.records()
	if err != nil {
		return err
	}
	s.adopt(fi, doc, recs)
	return nil
}

func decodeFileStore(data []byte) (*fileStoreDoc, error) {
	doc := &fileStoreDoc{}
	if len(bytes.TrimSpace(data)) == 0 {
		return doc, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(doc); err != nil {
		return nil, fmt.Errorf("the file is not a registry store (%v): %w", err, registry.ErrInvalid)
	}
	return doc, nil
}

// records decodes the records of the file.
func (doc *fileStoreDoc) records() (map[string]registry.Registry, error) {
	recs := make(map[string]registry.Registry, len(doc.Registries))
	for i, raw := range doc.Registries {
		r, err := registry.UnmarshalStored(raw)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i+1, err)
		}
		if r.ID == "" {
			return nil, fmt.Errorf("registry %q has no id: %w", r.Name, registry.ErrInvalid)
		}
		if _, dup := recs[r.ID]; dup {
			return nil, fmt.Errorf("id %q appears twice: %w", r.ID, registry.ErrInvalid)
		}
		recs[r.ID] = r
	}
	return recs, nil
}

// adopt makes doc (read from the file fi, its records decoded) the state, and publishes
// the changes from the state before: the file's change log, or a resync when the log does
// not reach back. The caller holds s.mu.
func (s *Store) adopt(fi fs.FileInfo, doc *fileStoreDoc, recs map[string]registry.Registry) {
	health := doc.Health
	if health == nil {
		health = map[string]registry.Health{}
	}
	if s.recs != nil { // not the first load: tell the watchers
		var changes []registry.Change
		switch {
		case doc.Seq == s.seq:
			if !sameVersions(recs, s.recs) { // replaced by a writer without a log
				changes = []registry.Change{{Op: registry.ChangeResync}}
			}
		case doc.Seq < s.seq || len(doc.Changes) == 0 || doc.Changes[0].Seq > s.seq+1:
			changes = []registry.Change{{Op: registry.ChangeResync}}
		default:
			for _, c := range doc.Changes {
				if c.Seq > s.seq {
					changes = append(changes, c.change())
				}
			}
		}
		s.feed.Publish(changes...)
	}
	s.fi, s.recs, s.health, s.seq, s.log = fi, recs, health, doc.Seq, doc.Changes
}

func sameVersions(a, b map[string]registry.Registry) bool {
	if len(a) != len(b) {
		return false
	}
	for id, r := range a {
		if o, ok := b[id]; !ok || o.Version != r.Version {
			return false
		}
	}
	return true
}

// read runs fn on the current state: the file is read again first when another handle
// changed it.
func (s *Store) read(ctx context.Context, op, id string, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refresh(); err != nil {
		return &registry.Error{Op: op, Registry: id, Err: err}
	}
	return fn()
}

// fileWrite is the next state a write computes.
type fileWrite struct {
	recs   map[string]registry.Registry
	health map[string]registry.Health
	change *registry.Change // nil: no change for the feed (health, rewrite)
}

// write runs one write under the cross-process lock on the newest state: next returns the
// state to write (its maps are copies next may change) or an error; the file is replaced
// before the state takes effect in memory, so a failed write changes nothing.
func (s *Store) write(ctx context.Context, op, id string, next func(w *fileWrite) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	unlock, err := s.lockFile(ctx)
	if err != nil {
		return &registry.Error{Op: op, Registry: id, Err: err}
	}
	defer unlock()
	if err := s.refresh(); err != nil {
		return &registry.Error{Op: op, Registry: id, Err: err}
	}
	w := &fileWrite{recs: maps.Clone(s.recs), health: maps.Clone(s.health)}
	if err := next(w); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	seq, log := s.seq, s.log
	if w.change != nil {
		seq++
		log = append(slices.Clone(log), fileChange{Seq: seq, Op: w.change.Op.String(), ID: w.change.ID, Version: w.change.Version})
		if len(log) > fileChangeLog {
			log = log[len(log)-fileChangeLog:]
		}
	}
	doc := &fileStoreDoc{Seq: seq, Changes: log}
	data, err := encodeFileStore(doc, w.recs, w.health)
	if err != nil {
		return &registry.Error{Op: op, Registry: id, Err: err}
	}
	if err := atomicfile.Write(s.path, data); err != nil {
		return &registry.Error{Op: op, Registry: id, Err: err}
	}
	fi, err := os.Stat(s.path)
	if err != nil {
		fi = nil // read again next time
	}
	s.fi, s.recs, s.health, s.seq, s.log = fi, w.recs, w.health, seq, log
	if w.change != nil {
		s.feed.Publish(*w.change)
	}
	return nil
}

func encodeFileStore(doc *fileStoreDoc, recs map[string]registry.Registry, health map[string]registry.Health) ([]byte, error) {
	sorted := row.SortedClones(recs)
	doc.Registries = make([]json.RawMessage, len(sorted))
	for i, r := range sorted {
		raw, err := registry.MarshalStored(r)
		if err != nil {
			return nil, err
		}
		doc.Registries[i] = raw
	}
	if len(health) > 0 {
		doc.Health = health
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return append(data, '\n'), nil
}

// Get implements Store.
func (s *Store) Get(ctx context.Context, id string) (r registry.Registry, err error) {
	err = s.read(ctx, "store get", id, func() error {
		cur, ok := s.recs[id]
		if !ok {
			return registry.NotFound("store get", id)
		}
		r = cur.Clone()
		return nil
	})
	return r, err
}

// List implements Store.
func (s *Store) List(ctx context.Context) (out []registry.Registry, err error) {
	err = s.read(ctx, "store list", "", func() error {
		out = row.SortedClones(s.recs)
		return nil
	})
	return out, err
}

// Put implements Store.
func (s *Store) Put(ctx context.Context, r registry.Registry) error {
	return s.write(ctx, "store put", r.ID, func(w *fileWrite) error {
		cur, ok := w.recs[r.ID]
		if err := registry.CheckPut(r, cur, ok); err != nil {
			return err
		}
		w.recs[r.ID] = r.Clone()
		w.change = &registry.Change{Op: registry.ChangePut, ID: r.ID, Version: r.Version}
		return nil
	})
}

// Delete implements Store.
func (s *Store) Delete(ctx context.Context, id string, version int64) error {
	return s.write(ctx, "store delete", id, func(w *fileWrite) error {
		cur, ok := w.recs[id]
		if err := registry.CheckDelete(id, version, cur, ok); err != nil {
			return err
		}
		delete(w.recs, id)
		delete(w.health, id)
		w.change = &registry.Change{Op: registry.ChangeDelete, ID: id, Version: cur.Version}
		return nil
	})
}

// Rewrite implements Rewriter.
func (s *Store) Rewrite(ctx context.Context, r registry.Registry) error {
	return s.write(ctx, "store rewrite", r.ID, func(w *fileWrite) error {
		cur, ok := w.recs[r.ID]
		if err := registry.CheckRewrite(r, cur, ok); err != nil {
			return err
		}
		w.recs[r.ID] = r.Clone()
		return nil
	})
}

// Health implements HealthStore.
func (s *Store) Health(ctx context.Context, id string) (h registry.Health, err error) {
	err = s.read(ctx, "store health", id, func() error {
		if _, ok := s.recs[id]; !ok {
			return registry.NotFound("store health", id)
		}
		h = s.health[id].Clone()
		return nil
	})
	return h, err
}

// ListHealth implements HealthStore.
func (s *Store) ListHealth(ctx context.Context) (out map[string]registry.Health, err error) {
	err = s.read(ctx, "store health", "", func() error {
		out = make(map[string]registry.Health, len(s.health))
		for id, h := range s.health {
			out[id] = h.Clone()
		}
		return nil
	})
	return out, err
}

// UpdateHealth implements HealthStore.
func (s *Store) UpdateHealth(ctx context.Context, id string, update func(*registry.Health)) error {
	return s.write(ctx, "store health", id, func(w *fileWrite) error {
		if _, ok := w.recs[id]; !ok {
			return registry.NotFound("store health", id)
		}
		h := w.health[id].Clone()
		update(&h)
		h.CredentialsExpire = time.Time{}
		if h.IsZero() {
			delete(w.health, id)
		} else {
			w.health[id] = h
		}
		return nil
	})
}

// Watch implements Watcher. Changes through this handle arrive at once; those of other
// handles and processes within the poll interval.
func (s *Store) Watch(ctx context.Context) (<-chan registry.Change, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refresh(); err != nil {
		return nil, &registry.Error{Op: "store watch", Registry: s.path, Err: err}
	}
	ch := s.feed.Subscribe(ctx)
	if s.polls == 0 && !s.closed {
		s.polls++
		go s.pollLoop()
	}
	return ch, nil
}

// pollLoop reads the file again when the directory reports that it was replaced (inotify
// and its twins: another handle's write is seen in milliseconds), and every poll interval
// in any case (file systems that report nothing, such as NFS), while anyone watches.
func (s *Store) pollLoop() {
	t := time.NewTicker(s.poll)
	defer t.Stop()
	var events <-chan fsnotify.Event
	if w, err := fsnotify.NewWatcher(); err == nil {
		defer w.Close()
		if w.Add(filepath.Dir(s.path)) == nil {
			events = w.Events
		}
	}
	for {
		select {
		case <-t.C:
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if filepath.Clean(ev.Name) != filepath.Clean(s.path) || !ev.Has(fsnotify.Create|fsnotify.Write|fsnotify.Rename|fsnotify.Remove) {
				continue
			}
		}
		s.mu.Lock()
		if s.closed || s.feed.Len() == 0 {
			s.polls--
			s.mu.Unlock()
			return
		}
		_ = s.refresh() // a broken file is reported by the next read or write
		s.mu.Unlock()
	}
}

// Close ends every Watch subscription. The store stays usable for reads and writes.
func (s *Store) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.feed.Close()
	return nil
}

func (s *Store) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}

// String summarizes the store without its records.
func (s *Store) String() string {
	return fmt.Sprintf("file.Store{%s, %d registries}", s.path, s.count())
}

// Format prints String under every verb: the records hold real secrets.
func (s *Store) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// LogValue keeps slog from encoding the records.
func (s *Store) LogValue() slog.Value { return slog.StringValue(s.String()) }
