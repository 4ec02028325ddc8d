// Package embedded is the voting.Store that needs no server: state in
// memory, every change appended to a journal file in a data directory and
// fsynced before it is acknowledged, the journal replayed on Open.
//
// It serves one process (the directory is locked) and is the default when
// no Redis is configured.
//
// The files: store.go opens and closes the store and keeps events and
// stages; ballots.go casting, standings and resets; tickets.go tickets;
// audit.go the audit log; state.go the state and apply, the one way it
// changes; journal.go the file format; writer.go the group commit and
// compaction.
package embedded

import (
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
	"sync/atomic"

	"leitai/voting"
)

// Store is an embedded voting.Store. Its methods are safe for concurrent use.
type Store struct {
	dir          string
	path         string // the journal
	log          *slog.Logger
	compactAfter int
	lock         io.Closer

	// mu guards the state and the hand-over to the writer. Changes are
	// applied and queued under it, so the journal order is the order of
	// effects.
	mu sync.RWMutex
	// hostKeysMu serialises SwapHostKeys (a file beside the journal).
	hostKeysMu sync.Mutex
	seriesMu   sync.Mutex // serialises series changes (files beside the journal)
	st         state
	closed     bool
	failed     error // set once a journal write or fsync failed; final
	pending    []byte
	pendingN   int          // records in pending
	cur        *batch       // waiters for pending
	inflight   *batch       // the batch the writer is writing, if any
	spare      []byte       // buffer to reuse for pending
	file       *os.File     // the journal, opened for appending
	records    int          // change records in the journal, pending included (commit marks not)
	compacts   []chan error // Compact calls waiting for the writer
	// retryCompact is the journal size below which a failed automatic
	// compaction is not tried again.
	retryCompact int

	closeOnce sync.Once
	kick      chan struct{} // capacity 1: there is something for the writer
	stop      chan struct{}
	done      chan struct{} // closed when the writer has stopped
	syncs     atomic.Int64  // fsyncs of appended batches, for tests and benchmarks
}

// A batch is the records of one write and fsync. done is closed when they
// are durable or have failed (err).
type batch struct {
	done chan struct{}
	err  error
}

func newBatch() *batch { return &batch{done: make(chan struct{})} }

// An Option configures Open.
type Option func(*config)

type config struct {
	log          *slog.Logger
	compactAfter int
}

// WithLogger makes the store log warnings (a torn journal end that was
// dropped, a failed compaction) and errors (a failed write) to l.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}

// WithCompactAfter sets how many records the journal may hold beyond twice
// those of a snapshot of the state before it is compacted while running.
// The default is 50,000 (a few megabytes); 0 or less keeps the default.
func WithCompactAfter(records int) Option {
	return func(c *config) {
		if records > 0 {
			c.compactAfter = records
		}
	}
}

const defaultCompactAfter = 50000

// Open opens the store kept in dir, creating the directory and an empty
// journal if needed, and replays the journal. A torn record at the end of
// the journal (what a crash during an append leaves) is dropped with a
// warning; other damage makes Open fail with a *CorruptError.
func Open(dir string, opts ...Option) (*Store, error) {
	cfg := config{log: slog.New(slog.DiscardHandler), compactAfter: defaultCompactAfter}
	for _, o := range opts {
		o(&cfg)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	lock, err := lockDir(filepath.Join(dir, lockName))
	if errors.Is(err, errLocked) {
		return nil, fmt.Errorf("embedded store: data directory %s is in use by another process", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("embedded store: locking %s: %w", dir, err)
	}
	s := &Store{
		dir:          dir,
		path:         filepath.Join(dir, journalName),
		log:          cfg.log,
		compactAfter: cfg.compactAfter,
		lock:         lock,
		st:           newState(),
		cur:          newBatch(),
		kick:         make(chan struct{}, 1),
		stop:         make(chan struct{}),
		done:         make(chan struct{}),
	}
	if err := s.load(); err != nil {
		if s.file != nil {
			_ = s.file.Close()
		}
		_ = lock.Close()
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	go s.run()
	return s, nil
}

// load replays the journal into the state and leaves it open for appending.
func (s *Store) load() error {
	// A leftover temporary file is a compaction that did not finish; the
	// journal is complete without it.
	if err := os.Remove(filepath.Join(s.dir, tempName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(s.path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return s.compact() // writes an empty journal the crash-safe way
	}
	if err != nil {
		return err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		_ = f.Close()
		return err
	}
	if len(data) == 0 {
		// Not something this store leaves behind, but it holds nothing.
		_ = f.Close()
		return s.compact()
	}
	records, end, tail, err := replay(data, &s.st)
	if err != nil {
		_ = f.Close()
		var ce *CorruptError
		if errors.As(err, &ce) {
			ce.Path = s.path
			return ce
		}
		return fmt.Errorf("%s: %w", s.path, err)
	}
	if tail != nil {
		s.log.Warn("embedded store: dropped a torn record at the end of the journal",
			"file", s.path, "offset", tail.Offset, "bytes", tail.Dropped, "reason", tail.Reason, "records", records)
		if err := f.Truncate(end); err != nil {
			_ = f.Close()
			return err
		}
		if err := f.Sync(); err != nil {
			_ = f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	if s.file, err = openAppend(s.path); err != nil {
		return err
	}
	s.records = records
	if records > s.st.size {
		// Replay is when compaction costs nothing: nobody waits yet. If it
		// fails before the rename, the journal is as it was and serves.
		if err := s.compact(); err != nil {
			if s.failed != nil {
				return err
			}
			s.log.Warn("embedded store: compaction failed; the journal stays as it is", "file", s.path, "err", err)
		}
	}
	return nil
}

func openAppend(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
}

// Close flushes what was acknowledged, stops the writer and releases the
// directory. It is idempotent; every call after it fails with an
// unavailable error.
func (s *Store) Close() error {
	// Once makes a concurrent second Close wait until the first is done;
	// only the first reports an error.
	var err error
	s.closeOnce.Do(func() { err = s.close() })
	return err
}

func (s *Store) close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	s.mu.Lock()
	f, failed := s.file, s.failed
	s.file = nil
	s.mu.Unlock()
	var errs []error
	if f != nil {
		if err := f.Close(); err != nil && failed == nil {
			errs = append(errs, err)
		}
	}
	if failed != nil {
		errs = append(errs, voting.Wrap(voting.CodeUnavailable, failed, "changes could not be saved to disk"))
	}
	if err := s.lock.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Ping fails once the store is closed or cannot write.
func (s *Store) Ping(ctx context.Context) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.writableLocked(ctx)
}

// Compact replaces the journal with a snapshot of the state. The store
// does it by itself when the journal grows large; Compact is for tests and
// for operators.
func (s *Store) Compact() error {
	done := make(chan error, 1)
	s.mu.Lock()
	if err := s.writableLocked(context.Background()); err != nil {
		s.mu.Unlock()
		return err
	}
	s.compacts = append(s.compacts, done)
	s.mu.Unlock()
	s.wake()
	return <-done
}

func errClosed() error { return voting.Errorf(voting.CodeUnavailable, "the store is closed") }

func (s *Store) readableLocked() error {
	if s.closed {
		return errClosed()
	}
	return nil
}

func (s *Store) writableLocked(ctx context.Context) error {
	if s.closed {
		return errClosed()
	}
	if s.failed != nil {
		return voting.Wrap(voting.CodeUnavailable, s.failed, "the store cannot save changes since a disk write failed; restart the server")
	}
	if err := ctx.Err(); err != nil {
		return voting.Wrap(voting.CodeUnavailable, err, "the request was canceled")
	}
	return nil
}

// commitLocked applies r and queues it for the journal. The caller holds
// mu for writing and, after unlocking, waits for the returned batch: the
// change is visible at once but acknowledged only once it is durable.
func (s *Store) commitLocked(r *record) (*batch, error) {
	payload, err := json.Marshal(r)
	if err != nil {
		return nil, voting.Wrap(voting.CodeInvalid, err, "the change cannot be stored")
	}
	if len(payload) > maxRecord {
		return nil, voting.Errorf(voting.CodeInvalid, "the change is too large to store")
	}
	if err := s.st.apply(r); err != nil {
		return nil, voting.Wrap(voting.CodeInternal, err, "the store refused its own change")
	}
	s.pending = appendFrame(s.pending, payload)
	s.pendingN++
	s.records++
	s.wake()
	return s.cur, nil
}

// eventLocked returns an event's state to a caller holding mu (to read or
// write, as readable says).
func (s *Store) eventLocked(event string) (*eventState, error) {
	if err := s.readableLocked(); err != nil {
		return nil, err
	}
	if es := s.st.events[event]; es != nil {
		return es, nil
	}
	return nil, notFound(event)
}

// writableEventLocked is eventLocked for a caller about to change it.
func (s *Store) writableEventLocked(ctx context.Context, event string) (*eventState, error) {
	if err := s.writableLocked(ctx); err != nil {
		return nil, err
	}
	return s.eventLocked(event)
}

// commitUnlock commits r, releases mu and waits until r is durable.
func (s *Store) commitUnlock(ctx context.Context, r *record) error {
	b, err := s.commitLocked(r)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.wait(ctx, b)
}

// barrierLocked returns the batch to wait for so that everything applied
// so far is durable, or nil if it is.
func (s *Store) barrierLocked() *batch {
	if len(s.pending) > 0 {
		return s.cur
	}
	return s.inflight
}

// wait waits until b is durable. A canceled ctx stops the wait but not the
// write: the change may still be saved, which a retry with the same ballot
// id or stage version finds out.
func (s *Store) wait(ctx context.Context, b *batch) error {
	if b == nil {
		return nil
	}
	select {
	case <-b.done:
		if b.err != nil {
			return voting.Wrap(voting.CodeUnavailable, b.err, "the change could not be saved to disk")
		}
		return nil
	case <-ctx.Done():
		return voting.Wrap(voting.CodeUnavailable, ctx.Err(), "the change was not confirmed in time; it may or may not have been saved")
	}
}

func notFound(event string) error {
	return voting.Errorf(voting.CodeNotFound, "no event %q", event)
}

// CreateEvent implements voting.Store.
func (s *Store) CreateEvent(ctx context.Context, ev voting.Event) (voting.Event, error) {
	if err := ev.Validate(); err != nil {
		return voting.Event{}, err
	}
	ev = cloneEvent(ev)
	ev.Revision = 1
	stage := voting.InitialStage()
	s.mu.Lock()
	if err := s.writableLocked(ctx); err != nil {
		s.mu.Unlock()
		return voting.Event{}, err
	}
	if _, ok := s.st.events[ev.ID]; ok {
		s.mu.Unlock()
		return voting.Event{}, voting.Errorf(voting.CodeConflict, "an event with id %q already exists", ev.ID)
	}
	b, err := s.commitLocked(&record{Type: recCreate, Event: &ev, Stage: &stage})
	s.mu.Unlock()
	if err == nil {
		err = s.wait(ctx, b)
	}
	if err != nil {
		return voting.Event{}, err
	}
	return cloneEvent(ev), nil
}

// UpdateEvent implements voting.Store.
func (s *Store) UpdateEvent(ctx context.Context, ev voting.Event) (voting.Event, error) {
	if err := ev.Validate(); err != nil {
		return voting.Event{}, err
	}
	ev = cloneEvent(ev)
	s.mu.Lock()
	if err := s.writableLocked(ctx); err != nil {
		s.mu.Unlock()
		return voting.Event{}, err
	}
	es := s.st.events[ev.ID]
	if es == nil {
		s.mu.Unlock()
		return voting.Event{}, notFound(ev.ID)
	}
	if es.ev.Revision != ev.Revision {
		s.mu.Unlock()
		return voting.Event{}, voting.Errorf(voting.CodeConflict,
			"the event was changed meanwhile (revision %d, not %d); reload it and try again", es.ev.Revision, ev.Revision)
	}
	if es.live > 0 && !es.ev.ScoringUnchanged(&ev) {
		s.mu.Unlock()
		return voting.Event{}, voting.Errorf(voting.CodeConflict,
			"ballots have been cast: the rules, panels, weights and voting scope can no longer change, and no contestant can be removed")
	}
	ev.Revision++
	b, err := s.commitLocked(&record{Type: recUpdate, Event: &ev})
	s.mu.Unlock()
	if err == nil {
		err = s.wait(ctx, b)
	}
	if err != nil {
		return voting.Event{}, err
	}
	return cloneEvent(ev), nil
}

// Event implements voting.Store.
func (s *Store) Event(_ context.Context, id string) (voting.Event, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.readableLocked(); err != nil {
		return voting.Event{}, err
	}
	es := s.st.events[id]
	if es == nil {
		return voting.Event{}, notFound(id)
	}
	return cloneEvent(es.ev), nil
}

// Events implements voting.Store.
func (s *Store) Events(context.Context) ([]voting.Event, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.readableLocked(); err != nil {
		return nil, err
	}
	out := make([]voting.Event, 0, len(s.st.events))
	for _, id := range slices.Sorted(maps.Keys(s.st.events)) {
		out = append(out, cloneEvent(s.st.events[id].ev))
	}
	return out, nil
}

// DeleteEvent implements voting.Store.
func (s *Store) DeleteEvent(ctx context.Context, id string) error {
	s.mu.Lock()
	if err := s.writableLocked(ctx); err != nil {
		s.mu.Unlock()
		return err
	}
	if s.st.events[id] == nil {
		s.mu.Unlock()
		return notFound(id)
	}
	b, err := s.commitLocked(&record{Type: recDelete, EventID: id})
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.wait(ctx, b)
}

// Stage implements voting.Store.
func (s *Store) Stage(_ context.Context, event string) (voting.Stage, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.readableLocked(); err != nil {
		return voting.Stage{}, err
	}
	es := s.st.events[event]
	if es == nil {
		return voting.Stage{}, notFound(event)
	}
	return es.stage, nil
}

// SetStage implements voting.Store.
func (s *Store) SetStage(ctx context.Context, event string, next voting.Stage) error {
	s.mu.Lock()
	if err := s.writableLocked(ctx); err != nil {
		s.mu.Unlock()
		return err
	}
	es := s.st.events[event]
	if es == nil {
		s.mu.Unlock()
		return notFound(event)
	}
	if es.stage.Version != next.Version-1 {
		v := es.stage.Version
		s.mu.Unlock()
		return voting.Errorf(voting.CodeConflict, "the stage was changed meanwhile (now version %d); reload it and try again", v)
	}
	b, err := s.commitLocked(&record{Type: recStage, EventID: event, Stage: &next})
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.wait(ctx, b)
}

var _ voting.Store = (*Store)(nil)
