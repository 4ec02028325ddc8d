package votingtest_test

import (
	"testing"

	"leitai/voting"
	"leitai/voting/votingtest"
)

// TestEvents checks what the package's doc promises of its events; the
// example event is checked against examples/gongshu-2020.yaml in cmd/leitai.
func TestEvents(t *testing.T) {
	t.Parallel()
	ev := votingtest.Event("e")
	if len(ev.Contestants) != 4 || len(ev.Groups()) != 2 || len(ev.Panels) != 2 ||
		ev.Panels[0].Weight != 60 || ev.Panels[1].Weight != 40 || ev.Panels[1].Key != votingtest.JudgesKey ||
		ev.VotingScope != voting.ScopeOnStage || ev.Rules.Trim != 1 {
		t.Errorf("Event: %+v", ev)
	}
	ex := votingtest.Example()
	if len(ex.Contestants) != 16 || len(ex.Groups()) != 2 || ex.Contestants[15].ID != "u16" {
		t.Errorf("Example: %+v", ex)
	}
	crit := votingtest.Event("c", votingtest.ScopeAll, votingtest.Criteria(2, 1))
	b := votingtest.MustCount(t, &crit, votingtest.Ballot(&crit, "v", "c1", votingtest.Audience, 80), 7)
	if b.Points() != 80 || b.At != 7 || len(b.Scores) != 2 {
		t.Errorf("a criteria ballot of 80 counts %+v", b)
	}
	// Options change a copy: the shared event stays as it was.
	changed := votingtest.Clone(ev)
	changed.Contestants[0].Name = "changed"
	if ev.Contestants[0].Name == "changed" {
		t.Error("Clone shares the contestants")
	}
}
