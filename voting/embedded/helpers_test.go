package embedded_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"leitai/voting"
	"leitai/voting/embedded"
	"leitai/voting/votingtest"
)

var ctx = context.Background()

// testEvent is votingtest's small event (two weighted panels, groups and
// trimming, so that the standings exercise every part of the scoring) with
// voting open on all contestants at once.
func testEvent(id string) voting.Event { return votingtest.Event(id, votingtest.ScopeAll) }

// criteriaEvent scores two criteria weighted 2:1 from 1 to 10, to 3 decimals.
func criteriaEvent(id string) voting.Event {
	return votingtest.Event(id, votingtest.ScopeAll,
		votingtest.Rules(voting.Rules{Min: 1, Max: 10, Step: 1, Decimals: 3}), votingtest.Criteria(2, 1))
}

func open(t testing.TB, dir string, opts ...embedded.Option) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(dir, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func create(t testing.TB, s *embedded.Store, ev voting.Event) voting.Event {
	t.Helper()
	got, err := s.CreateEvent(ctx, ev)
	if err != nil {
		t.Fatalf("CreateEvent: %v", err)
	}
	return got
}

// command applies a host command the way the service does.
func command(t testing.TB, s *embedded.Store, event string, cmd voting.Command) voting.Stage {
	t.Helper()
	ev, err := s.Event(ctx, event)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.Stage(ctx, event)
	if err != nil {
		t.Fatal(err)
	}
	next, err := st.Apply(&ev, cmd, time.Now(), 0)
	if err != nil {
		t.Fatalf("%s: %v", cmd.Action, err)
	}
	if err := s.SetStage(ctx, event, next); err != nil {
		t.Fatalf("SetStage %s: %v", cmd.Action, err)
	}
	return next
}

func openVoting(t testing.TB, s *embedded.Store, event string) {
	t.Helper()
	command(t, s, event, voting.Command{Action: voting.ActionNext})
	command(t, s, event, voting.Command{Action: voting.ActionOpen})
}

// ballot counts a ballot against ev with a fresh id; with criteria, the
// first gets score, the next one less, and so on.
func ballot(t testing.TB, ev *voting.Event, voter, contestant, panel string, score float64) voting.CountedBallot {
	t.Helper()
	b := votingtest.Ballot(ev, voter, contestant, panel, score)
	for i, c := range ev.Rules.Criteria {
		b.Scores[c.ID] = score - float64(i)
	}
	return votingtest.MustCount(t, ev, b, time.Now().UnixMilli())
}

func cast(t testing.TB, s *embedded.Store, b voting.CountedBallot, revision int64) voting.Receipt {
	t.Helper()
	r, err := s.CastBallot(ctx, b, revision)
	if err != nil {
		t.Fatalf("CastBallot: %v", err)
	}
	return r
}

func wantCode(t testing.TB, err error, code voting.Code) {
	t.Helper()
	if got := voting.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

// checkStandings compares the store's standings with the reference Tally
// over the store's live ballots.
func checkStandings(t testing.TB, s *embedded.Store, event string) voting.Standings {
	t.Helper()
	ev, err := s.Event(ctx, event)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := s.Ballots(ctx, event)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Standings(ctx, event)
	if err != nil {
		t.Fatal(err)
	}
	want := voting.Tally(&ev, bs)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("standings differ from Tally:\n got %+v\nwant %+v", got, want)
	}
	return got
}

// snapshot is everything a client can read of an event.
type snapshot struct {
	Event     voting.Event
	Stage     voting.Stage
	Ballots   []voting.CountedBallot
	Standings voting.Standings
}

func take(t testing.TB, s *embedded.Store, event string) snapshot {
	t.Helper()
	var sn snapshot
	var err error
	if sn.Event, err = s.Event(ctx, event); err != nil {
		t.Fatal(err)
	}
	if sn.Stage, err = s.Stage(ctx, event); err != nil {
		t.Fatal(err)
	}
	if sn.Ballots, err = s.Ballots(ctx, event); err != nil {
		t.Fatal(err)
	}
	sort.Slice(sn.Ballots, func(i, j int) bool { return sn.Ballots[i].ID < sn.Ballots[j].ID })
	if sn.Standings, err = s.Standings(ctx, event); err != nil {
		t.Fatal(err)
	}
	return sn
}

func sameSnapshot(t testing.TB, got, want snapshot) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("state differs:\n got %+v\nwant %+v", got, want)
	}
}

// frames returns the offsets of the frames in a journal file.
func frames(t testing.TB, data []byte) []int {
	t.Helper()
	var offs []int
	for off := len(embedded.JournalMagic); off < len(data); {
		offs = append(offs, off)
		off += 8 + int(binary.LittleEndian.Uint32(data[off:]))
	}
	return offs
}

func journal(dir string) string { return filepath.Join(dir, embedded.JournalName) }

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// logBuffer collects what the store logs.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

func isCorrupt(err error) (*embedded.CorruptError, bool) {
	var ce *embedded.CorruptError
	ok := errors.As(err, &ce)
	return ce, ok
}
