package hub_test

import (
	"encoding/json"
	"testing"

	"leitai/voting"
)

// rankingField returns the raw "ranking" of a frame and whether it has one.
func rankingField(t *testing.T, m msg) (string, bool) {
	t.Helper()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(m.Raw, &fields); err != nil {
		t.Fatalf("frame %s: %v", m.Raw, err)
	}
	r, ok := fields["ranking"]
	return string(r), ok
}

// TestVoterRankingEmptyList: while the audience may see the ranking, a
// phone's snapshot and standings frames carry "ranking", an empty list
// before any ballot (docs/protocol.md); while it is hidden, none.
func TestVoterRankingEmptyList(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{})
	e.CreateEvent(testEvent("empty", 3))
	phone := e.Dial("empty", voterQuery("phone-1"))
	snap := phone.WaitSnapshot()
	if !snap.Stage.RankingVisible || snap.Stage.Phase != voting.PhaseLobby {
		t.Fatalf("a new event's stage %+v", snap.Stage)
	}
	if r, ok := rankingField(t, snap); !ok || r != "[]" {
		t.Errorf("lobby snapshot with the ranking visible and no ballots: ranking %q (present %v), want []\n%s", r, ok, snap.Raw)
	}

	hidden, shown := false, true
	st := e.Command("empty", voting.Command{Action: voting.ActionRanking, Visible: &hidden})
	frames := phone.WaitFor("standings with the ranking hidden", func(f []msg) bool {
		// The standings that follow the stage frame (same seq), not
		// the ones before it: they arrive in one batch but are read one
		// by one.
		m, ok := last(f, "standings")
		return ok && viewOf(f).Stage.Version == st.Version && m.Seq >= viewOf(f).Seq
	})
	m, _ := last(frames, "standings")
	if r, ok := rankingField(t, m); ok {
		t.Errorf("standings with the ranking hidden carry ranking %s", r)
	}
	late := e.Dial("empty", voterQuery("phone-2"))
	if r, ok := rankingField(t, late.WaitSnapshot()); ok {
		t.Errorf("a snapshot with the ranking hidden carries ranking %s", r)
	}

	st = e.Command("empty", voting.Command{Action: voting.ActionRanking, Visible: &shown})
	frames = phone.WaitFor("standings with the ranking shown", func(f []msg) bool {
		// The standings that follow the stage frame (same seq), not
		// the ones before it: they arrive in one batch but are read one
		// by one.
		m, ok := last(f, "standings")
		return ok && viewOf(f).Stage.Version == st.Version && m.Seq >= viewOf(f).Seq
	})
	m, _ = last(frames, "standings")
	if r, ok := rankingField(t, m); !ok || r != "[]" {
		t.Errorf("standings with the ranking shown and no ballots: ranking %q (present %v), want []", r, ok)
	}
}
