package embedded

import "bytes"

// Hooks for the tests in embedded_test.

const (
	JournalName  = journalName
	JournalMagic = journalMagic
)

// Syncs returns how many times the store has fsynced its journal.
func Syncs(s *Store) int64 { return s.syncs.Load() }

// JournalRecords returns how many records the journal holds.
func JournalRecords(s *Store) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.records
}

// CloseJournalFile closes the journal under the writer's feet, so that
// its next write fails as a broken disk would.
func CloseJournalFile(s *Store) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file == nil {
		return nil
	}
	return s.file.Close()
}

// AppendFrame frames payload as the journal does.
func AppendFrame(buf, payload []byte) []byte { return appendFrame(buf, payload) }

// ReplayCheck replays a journal in memory. When that works it encodes a
// snapshot of the result, replays that and reports whether the two states
// encode alike. It must never panic.
func ReplayCheck(data []byte) (records int, torn bool, same bool, err error) {
	st := newState()
	records, _, tail, err := replay(data, &st)
	if err != nil {
		return records, false, false, err
	}
	var a bytes.Buffer
	if _, err := encodeSnapshot(&a, st.snapshot()); err != nil {
		return records, tail != nil, false, err
	}
	st2 := newState()
	if _, _, tail2, err := replay(a.Bytes(), &st2); err != nil || tail2 != nil {
		return records, tail != nil, false, err
	}
	var b bytes.Buffer
	if _, err := encodeSnapshot(&b, st2.snapshot()); err != nil {
		return records, tail != nil, false, err
	}
	return records, tail != nil, st.size == st2.size && bytes.Equal(a.Bytes(), b.Bytes()), nil
}
