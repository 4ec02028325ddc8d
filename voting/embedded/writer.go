package embedded

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"time"

	"leitai/voting"
)

// maxSpare bounds the buffer kept for reuse between batches.
const maxSpare = 1 << 20

// wake tells the writer that there is work, without blocking.
func (s *Store) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// run is the writer: it takes everything queued since its last write,
// writes it and fsyncs once, then wakes all those waiting for it (group
// commit). Records queued meanwhile form the next batch.
func (s *Store) run() {
	defer close(s.done)
	for {
		stopping := false
		select {
		case <-s.kick:
		case <-s.stop:
			stopping = true
		}
		s.flush()
		s.maybeCompact()
		if stopping {
			// Close set closed before stop, so nothing is queued after
			// this flush.
			s.flush()
			return
		}
	}
}

// takeLocked hands the pending records to the writer as a batch, ended
// by a commit mark, or returns nil if there are none.
func (s *Store) takeLocked() ([]byte, *batch) {
	if len(s.pending) == 0 {
		return nil, nil
	}
	buf, b := appendFrame(s.pending, []byte(commitMark)), s.cur
	s.pending, s.pendingN, s.spare = s.spare[:0], 0, nil
	s.cur = newBatch()
	s.inflight = b
	return buf, b
}

func (s *Store) flush() {
	s.mu.Lock()
	buf, b := s.takeLocked()
	f, err := s.file, s.failed
	s.mu.Unlock()
	if b == nil {
		return
	}
	if err == nil {
		// Never write after a failed fsync: the kernel may have dropped
		// the pages, so later data on disk would not mean earlier data is.
		err = s.writeSync(f, buf)
	}
	s.finish(b, buf, err)
}

func (s *Store) writeSync(f *os.File, buf []byte) error {
	if f == nil {
		return errors.New("the journal is not open")
	}
	if _, err := f.Write(buf); err != nil {
		return err
	}
	s.syncs.Add(1)
	return f.Sync()
}

// finish wakes the waiters of b. A failure makes the store refuse every
// later change.
func (s *Store) finish(b *batch, buf []byte, err error) {
	s.mu.Lock()
	if s.inflight == b {
		s.inflight = nil
	}
	if err != nil && s.failed == nil {
		s.failed = err
		s.log.Error("embedded store: journal write failed; refusing further changes", "file", s.path, "err", err)
	}
	if buf != nil && cap(buf) <= maxSpare {
		s.spare = buf[:0]
	}
	s.mu.Unlock()
	b.err = err
	close(b.done)
}

// maybeCompact compacts when asked to or when the journal holds much more
// than the state: replaced ballots, stage changes and event updates all
// stay in it until then.
func (s *Store) maybeCompact() {
	s.mu.Lock()
	waiting := s.compacts
	s.compacts = nil
	due := s.failed == nil && s.records > 2*s.st.size+s.compactAfter && s.records >= s.retryCompact
	s.mu.Unlock()
	if len(waiting) == 0 && !due {
		return
	}
	err := s.compact()
	if err != nil {
		s.log.Warn("embedded store: compaction failed; the journal stays as it is", "file", s.path, "err", err)
		// Do not rewrite the whole state after every fsync while, say,
		// the disk is full: wait for the journal to grow some more.
		s.mu.Lock()
		s.retryCompact = s.records + s.compactAfter
		s.mu.Unlock()
	}
	for _, w := range waiting {
		w <- err
	}
}

// compact writes a snapshot of the state to a temporary file, fsyncs it
// and renames it over the journal, then fsyncs the directory. Until the
// rename the old journal is whole, after it the new one is; a crash at any
// point leaves one of the two. Records queued when the snapshot is taken
// are in it, so their waiters are answered when it is in place. Only the
// writer (or Open, before the writer starts) calls compact.
func (s *Store) compact() error {
	start := time.Now()
	s.mu.Lock()
	if s.failed != nil {
		err := s.failed
		s.mu.Unlock()
		return voting.Wrap(voting.CodeUnavailable, err, "the store cannot save changes since a disk write failed")
	}
	snap := s.st.snapshot()
	before := s.records
	buf, b := s.takeLocked()
	old := s.file
	s.mu.Unlock()

	tmp := filepath.Join(s.dir, tempName)
	n, err := s.writeSnapshot(tmp, snap)
	if err != nil {
		_ = os.Remove(tmp)
		if b != nil {
			// The snapshot is lost but the old journal is fine: the batch
			// goes there as it would have.
			s.finish(b, buf, s.writeSync(old, buf))
		}
		return err
	}
	s.mu.Lock()
	s.file = nil
	s.mu.Unlock()
	if old != nil {
		_ = old.Close() // Windows cannot rename over an open file
	}
	if err := replaceFile(tmp, s.path); err != nil {
		_ = os.Remove(tmp)
		f, ferr := openAppend(s.path)
		if ferr == nil {
			s.setFile(f, -1)
			if b != nil {
				s.finish(b, buf, s.writeSync(f, buf))
			}
			return err
		}
		err = errors.Join(err, ferr)
		s.fail(b, buf, err)
		return err
	}
	// Until the directory is synced the rename may not survive a crash, so
	// nothing written to the new file may be acknowledged before.
	err = syncDir(s.dir)
	var f *os.File
	if err == nil {
		f, err = openAppend(s.path)
	}
	if err != nil {
		s.fail(b, buf, err)
		return err
	}
	s.setFile(f, n)
	if b != nil {
		s.finish(b, buf, nil)
	}
	s.log.Info("embedded store: compacted the journal", "file", s.path,
		"records_before", before, "records_after", n, "took", time.Since(start))
	return nil
}

// setFile installs the journal file; n >= 0 says it holds a snapshot of n
// records, to which what was queued since will be added.
func (s *Store) setFile(f *os.File, n int) {
	s.mu.Lock()
	s.file = f
	if n >= 0 {
		s.records = n + s.pendingN
	}
	s.mu.Unlock()
}

// fail makes the store failed and fails the batch b, if any.
func (s *Store) fail(b *batch, buf []byte, err error) {
	if b != nil {
		s.finish(b, buf, err)
		return
	}
	s.mu.Lock()
	if s.failed == nil {
		s.failed = err
		s.log.Error("embedded store: journal replacement failed; refusing further changes", "file", s.path, "err", err)
	}
	s.mu.Unlock()
}

// writeSnapshot writes the journal that rebuilds snap to path and fsyncs
// it. It returns the number of records.
func (s *Store) writeSnapshot(path string, snap []snapshotEvent) (int, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 256<<10)
	n, err := encodeSnapshot(w, snap)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// encodeSnapshot writes a whole journal that rebuilds snap to w and
// returns the number of records.
func encodeSnapshot(w io.Writer, snap []snapshotEvent) (int, error) {
	if _, err := io.WriteString(w, journalMagic); err != nil {
		return 0, err
	}
	n := 0
	var frame []byte
	for i := range snap {
		err := snap[i].records(func(r *record) error {
			payload, err := json.Marshal(r)
			if err != nil {
				return err
			}
			frame = appendFrame(frame[:0], payload)
			n++
			_, err = w.Write(frame)
			return err
		})
		if err != nil {
			return n, err
		}
	}
	_, err := w.Write(appendFrame(frame[:0], []byte(commitMark)))
	return n, err
}
