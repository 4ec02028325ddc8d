package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"leitai/voting"
	"leitai/voting/votingtest"
)

// callTimeout bounds every store call, so that a hung store fails the test
// with a message instead of hanging the run. It is generous: the subtests
// run in parallel, on machines that other jobs load too, and 1,000
// concurrent ballots with an fsync each can take a while there.
const callTimeout = 60 * time.Second

// ctx returns a context for one store call (or one short group of calls).
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), callTimeout)
	t.Cleanup(cancel)
	return c
}

// baseTime is the clock of ballots and stages in the suite: an hour ahead of
// the wall clock, so that a store that judged countdowns by its own clock
// instead of the ballot's At would be caught.
var baseTime = time.Now().Add(time.Hour).UnixMilli()

// The suite's events and ballots are votingtest's (the small event: four
// contestants in two groups, audience 60 and judges 40 with a key, 60–100
// step 0.5, trim 1, 2 decimals, voting for the contestant on stage); these
// names keep the suite's calls short.
var (
	newEvent     = votingtest.Event
	withCriteria = votingtest.Criteria
	scopeAll     = votingtest.ScopeAll
	cloneEvent   = votingtest.Clone
	withWeights  = votingtest.Weights
)

func mustCreate(t testing.TB, s voting.Store, ev voting.Event) voting.Event {
	t.Helper()
	got, err := s.CreateEvent(ctx(t), ev)
	if err != nil {
		t.Fatalf("CreateEvent(%q): %v", ev.ID, err)
	}
	want := ev
	want.Revision = 1
	if d := diffEvent(want, got); d != "" {
		t.Fatalf("CreateEvent(%q) returned another event:\n%s", ev.ID, d)
	}
	return got
}

func mustEvent(t testing.TB, s voting.Store, id string) voting.Event {
	t.Helper()
	ev, err := s.Event(ctx(t), id)
	if err != nil {
		t.Fatalf("Event(%q): %v", id, err)
	}
	return ev
}

func mustStage(t testing.TB, s voting.Store, event string) voting.Stage {
	t.Helper()
	st, err := s.Stage(ctx(t), event)
	if err != nil {
		t.Fatalf("Stage(%q): %v", event, err)
	}
	return st
}

// setStage reads the stage, changes it, raises the version by one and
// stores it; it returns the stored stage.
func setStage(t testing.TB, s voting.Store, event string, change func(*voting.Stage)) voting.Stage {
	t.Helper()
	cur := mustStage(t, s, event)
	next := cur
	change(&next)
	next.Version = cur.Version + 1
	next.ChangedAt = baseTime
	if err := s.SetStage(ctx(t), event, next); err != nil {
		t.Fatalf("SetStage(%q, version %d → %d): %v", event, cur.Version, next.Version, err)
	}
	return next
}

// openVoting puts contestant on stage (may be "" for scope all) and opens
// voting without a countdown.
func openVoting(t testing.TB, s voting.Store, event, contestant string) voting.Stage {
	t.Helper()
	return setStage(t, s, event, func(st *voting.Stage) {
		st.Phase, st.Current, st.EndsAt = voting.PhaseVoting, contestant, 0
	})
}

func closeVoting(t testing.TB, s voting.Store, event string) voting.Stage {
	t.Helper()
	return setStage(t, s, event, func(st *voting.Stage) { st.Phase, st.EndsAt = voting.PhaseClosed, 0 })
}

// ballot makes a counted ballot with a fresh id. When the event has
// criteria, every criterion gets score.
func ballot(t testing.TB, ev *voting.Event, voter, contestant, panel string, score float64, at int64) voting.CountedBallot {
	t.Helper()
	b, err := makeBallot(ev, voter, contestant, panel, score, at)
	if err != nil {
		t.Fatalf("test ballot is invalid: %v", err)
	}
	return b
}

// makeBallot is ballot for goroutines, which must not call t.Fatal.
func makeBallot(ev *voting.Event, voter, contestant, panel string, score float64, at int64) (voting.CountedBallot, error) {
	return votingtest.Counted(ev, votingtest.Ballot(ev, voter, contestant, panel, score), at)
}

// count validates b against ev as the Service does and stamps it with at.
func count(t testing.TB, ev *voting.Event, b voting.Ballot, at int64) voting.CountedBallot {
	t.Helper()
	return votingtest.MustCount(t, ev, b, at)
}

func mustCast(t testing.TB, s voting.Store, b voting.CountedBallot, revision int64) voting.Receipt {
	t.Helper()
	r, err := s.CastBallot(ctx(t), b, revision)
	if err != nil {
		t.Fatalf("CastBallot(%s: voter %s, contestant %s, panel %s, %d units, at %d, revision %d): %v",
			b.ID, b.Voter, b.Contestant, b.Panel, b.Units, b.At, revision, err)
	}
	return r
}

// castNew casts a ballot that must be new and checks its receipt.
func castNew(t testing.TB, s voting.Store, b voting.CountedBallot, revision int64, replaced bool) voting.Receipt {
	t.Helper()
	r := mustCast(t, s, b, revision)
	checkReceipt(t, r, receiptFor(b, replaced))
	return r
}

func receiptFor(b voting.CountedBallot, replaced bool) voting.Receipt {
	return voting.Receipt{BallotID: b.ID, Contestant: b.Contestant, Panel: b.Panel, Score: b.Points(), Replaced: replaced, At: b.At}
}

func checkReceipt(t testing.TB, got, want voting.Receipt) {
	t.Helper()
	if got.BallotID != want.BallotID || got.Contestant != want.Contestant || got.Panel != want.Panel ||
		got.Replaced != want.Replaced || got.At != want.At || !near(got.Score, want.Score) {
		t.Fatalf("receipt\n got %+v\nwant %+v", got, want)
	}
}

// checkErr fails unless err matches want (errors.Is).
func checkErr(t testing.TB, what string, err, want error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want %v", what, want)
	}
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v (code %q), want %v", what, err, voting.ErrorCode(err), want)
	}
	var e *voting.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: error %T %v is not a *voting.Error", what, err, err)
	}
}

const tolerance = 1e-9

func near(a, b float64) bool { return math.Abs(a-b) <= tolerance }

// diffEvent compares events, treating nil and empty slices alike.
func diffEvent(want, got voting.Event) string {
	norm := func(ev voting.Event) voting.Event {
		ev = cloneEvent(ev)
		if len(ev.Contestants) == 0 {
			ev.Contestants = nil
		}
		if len(ev.Panels) == 0 {
			ev.Panels = nil
		}
		if len(ev.Rules.Criteria) == 0 {
			ev.Rules.Criteria = nil
		}
		return ev
	}
	if reflect.DeepEqual(norm(want), norm(got)) {
		return ""
	}
	return fmt.Sprintf(" got %+v\nwant %+v", got, want)
}

func checkEvent(t testing.TB, what string, got, want voting.Event) {
	t.Helper()
	if d := diffEvent(want, got); d != "" {
		t.Fatalf("%s:\n%s", what, d)
	}
}

// checkStandings compares standings field by field (floats to 1e-9) and
// prints every differing row.
func checkStandings(t testing.TB, what string, got, want voting.Standings) {
	t.Helper()
	if d := diffStandings(want, got); d != "" {
		t.Fatalf("%s: standings differ (store vs voting.Tally):\n%s", what, d)
	}
}

func diffStandings(want, got voting.Standings) string {
	var sb strings.Builder
	if got.Ballots != want.Ballots {
		fmt.Fprintf(&sb, "ballots: got %d, want %d\n", got.Ballots, want.Ballots)
	}
	n := max(len(got.Rows), len(want.Rows))
	for i := range n {
		var g, w *voting.Standing
		if i < len(got.Rows) {
			g = &got.Rows[i]
		}
		if i < len(want.Rows) {
			w = &want.Rows[i]
		}
		if g != nil && w != nil && rowEqual(*g, *w) {
			continue
		}
		fmt.Fprintf(&sb, "row %d:\n  got  %s\n  want %s\n", i, fmtRow(g), fmtRow(w))
	}
	return sb.String()
}

func rowEqual(a, b voting.Standing) bool {
	if a.Contestant != b.Contestant || a.Group != b.Group || a.Ballots != b.Ballots || a.Rank != b.Rank ||
		a.GroupRank != b.GroupRank || !near(a.Final, b.Final) || !near(a.Unrounded, b.Unrounded) || len(a.Panels) != len(b.Panels) {
		return false
	}
	for i := range a.Panels {
		p, q := a.Panels[i], b.Panels[i]
		if p.Panel != q.Panel || p.Count != q.Count || p.Dropped != q.Dropped || !near(p.Average, q.Average) || p.Top != q.Top {
			return false
		}
	}
	return true
}

func fmtRow(r *voting.Standing) string {
	if r == nil {
		return "(none)"
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s group=%q ballots=%d final=%.10g unrounded=%.17g rank=%d groupRank=%d panels=[", r.Contestant, r.Group, r.Ballots, r.Final, r.Unrounded, r.Rank, r.GroupRank)
	for i, p := range r.Panels {
		if i > 0 {
			sb.WriteString(" ")
		}
		fmt.Fprintf(&sb, "%s:n=%d,dropped=%d,avg=%.12g,top=%d", p.Panel, p.Count, p.Dropped, p.Average, p.Top)
	}
	sb.WriteString("]")
	return sb.String()
}

func mustStandings(t testing.TB, s voting.Store, event string) voting.Standings {
	t.Helper()
	st, err := s.Standings(ctx(t), event)
	if err != nil {
		t.Fatalf("Standings(%q): %v", event, err)
	}
	return st
}

func mustBallots(t testing.TB, s voting.Store, event string) []voting.CountedBallot {
	t.Helper()
	bs, err := s.Ballots(ctx(t), event)
	if err != nil {
		t.Fatalf("Ballots(%q): %v", event, err)
	}
	return bs
}

func mustVoterBallots(t testing.TB, s voting.Store, event, voter string) []voting.CountedBallot {
	t.Helper()
	bs, err := s.VoterBallots(ctx(t), event, voter)
	if err != nil {
		t.Fatalf("VoterBallots(%q, %q): %v", event, voter, err)
	}
	return bs
}

// checkTally checks that the store's standings are Tally over the live
// ballots want, and that its ballots are exactly want.
func checkTally(t testing.TB, what string, s voting.Store, ev *voting.Event, want []voting.CountedBallot) {
	t.Helper()
	checkBallots(t, what, mustBallots(t, s, ev.ID), want)
	checkStandings(t, what, mustStandings(t, s, ev.ID), voting.Tally(ev, want))
	checkAudit(t, what, s, ev)
}

// checkBallots compares two sets of ballots, in any order, field by field.
func checkBallots(t testing.TB, what string, got, want []voting.CountedBallot) {
	t.Helper()
	if d := diffBallots(want, got); d != "" {
		t.Fatalf("%s: ballots differ:\n%s", what, d)
	}
}

func diffBallots(want, got []voting.CountedBallot) string {
	var sb strings.Builder
	index := func(bs []voting.CountedBallot, name string) map[string]voting.CountedBallot {
		m := make(map[string]voting.CountedBallot, len(bs))
		for _, b := range bs {
			if _, dup := m[b.ID]; dup {
				fmt.Fprintf(&sb, "%s: ballot %s appears twice\n", name, b.ID)
			}
			m[b.ID] = b
		}
		return m
	}
	g, w := index(got, "got"), index(want, "want")
	if len(got) != len(want) {
		fmt.Fprintf(&sb, "got %d ballots, want %d\n", len(got), len(want))
	}
	shown := 0
	for _, id := range slices.Sorted(maps.Keys(w)) {
		if shown >= 20 {
			sb.WriteString("…\n")
			break
		}
		gb, ok := g[id]
		switch {
		case !ok:
			fmt.Fprintf(&sb, "missing %s\n", fmtBallot(w[id]))
			shown++
		case !ballotEqual(gb, w[id]):
			fmt.Fprintf(&sb, "ballot %s:\n  got  %s\n  want %s\n", id, fmtBallot(gb), fmtBallot(w[id]))
			shown++
		}
	}
	for _, id := range slices.Sorted(maps.Keys(g)) {
		if shown >= 20 {
			break
		}
		if _, ok := w[id]; !ok {
			fmt.Fprintf(&sb, "unexpected %s\n", fmtBallot(g[id]))
			shown++
		}
	}
	return sb.String()
}

func ballotEqual(a, b voting.CountedBallot) bool {
	return a.ID == b.ID && a.Event == b.Event && a.Voter == b.Voter && a.Contestant == b.Contestant &&
		a.Panel == b.Panel && a.Score == b.Score && maps.Equal(a.Scores, b.Scores) && a.Units == b.Units && a.At == b.At
}

func fmtBallot(b voting.CountedBallot) string {
	return fmt.Sprintf("{id=%s event=%s voter=%s contestant=%s panel=%s score=%g scores=%v units=%d at=%d}",
		b.ID, b.Event, b.Voter, b.Contestant, b.Panel, b.Score, b.Scores, b.Units, b.At)
}

// liveSet keeps the expected live ballots: the latest per voter,
// contestant and panel.
type liveSet map[[3]string]voting.CountedBallot

func (l liveSet) put(b voting.CountedBallot) (replaced bool) {
	k := [3]string{b.Voter, b.Contestant, b.Panel}
	_, replaced = l[k]
	l[k] = b
	return replaced
}

func (l liveSet) reset(contestant string) int {
	n := 0
	for k := range l {
		if k[1] == contestant {
			delete(l, k)
			n++
		}
	}
	return n
}

func (l liveSet) list() []voting.CountedBallot { return slices.Collect(maps.Values(l)) }

func (l liveSet) voter(v string) []voting.CountedBallot {
	var out []voting.CountedBallot
	for k, b := range l {
		if k[0] == v {
			out = append(out, b)
		}
	}
	return out
}

// snapshot is everything a reader can see of one event.
type snapshot struct {
	event     voting.Event
	stage     voting.Stage
	standings voting.Standings
	ballots   []voting.CountedBallot
}

func takeSnapshot(t testing.TB, s voting.Store, event string) snapshot {
	t.Helper()
	return snapshot{
		event:     mustEvent(t, s, event),
		stage:     mustStage(t, s, event),
		standings: mustStandings(t, s, event),
		ballots:   mustBallots(t, s, event),
	}
}

// checkSnapshot fails unless the store shows exactly what before showed.
func checkSnapshot(t testing.TB, what string, s voting.Store, before snapshot) {
	t.Helper()
	now := takeSnapshot(t, s, before.event.ID)
	checkEvent(t, what+": event", now.event, before.event)
	if now.stage != before.stage {
		t.Fatalf("%s: stage\n got %+v\nwant %+v", what, now.stage, before.stage)
	}
	if d := diffStandings(before.standings, now.standings); d != "" {
		t.Fatalf("%s: standings changed:\n%s", what, d)
	}
	checkBallots(t, what, now.ballots, before.ballots)
}
