package voting

import (
	"testing"
	"time"
)

func TestApply(t *testing.T) {
	t.Parallel()
	now := time.UnixMilli(1_732_540_000_000)
	ms := now.UnixMilli()
	onStage := validEvent() // c1, c2, c3; scope stage
	all := validEvent()
	all.VotingScope = ScopeAll
	empty := validEvent()
	empty.Contestants = nil
	emptyAll := empty
	emptyAll.VotingScope = ScopeAll
	yes, no := true, false

	// st builds a stage at version 7.
	st := func(phase Phase, current string, change ...func(*Stage)) Stage {
		s := Stage{Phase: phase, Current: current, Version: 7, RankingVisible: true, ChangedAt: 1}
		for _, c := range change {
			c(&s)
		}
		return s
	}
	endsAt := func(v int64) func(*Stage) { return func(s *Stage) { s.EndsAt = v } }
	revealed := func(n int) func(*Stage) { return func(s *Stage) { s.Revealed = n } }
	hidden := func(s *Stage) { s.RankingVisible = false }

	cases := []struct {
		name string
		ev   *Event
		from Stage
		cmd  Command
		want Stage // Version and ChangedAt are checked separately
		code Code  // the error, if any
	}{
		// open
		{"open in the lobby, scope stage", &onStage, st(PhaseLobby, ""), Command{Action: ActionOpen}, Stage{}, CodeInvalid},
		{"open in the lobby with a stale current", &onStage, st(PhaseLobby, "c1"), Command{Action: ActionOpen}, Stage{}, CodeInvalid},
		{"open in the lobby, scope all", &all, st(PhaseLobby, ""), Command{Action: ActionOpen}, st(PhaseVoting, ""), ""},
		{"open without contestants", &emptyAll, st(PhaseLobby, ""), Command{Action: ActionOpen}, Stage{}, CodeInvalid},
		{"open while presenting", &onStage, st(PhasePresenting, "c2"), Command{Action: ActionOpen}, st(PhaseVoting, "c2"), ""},
		{"open clears a presenting countdown", &onStage, st(PhasePresenting, "c2", endsAt(ms+5000)), Command{Action: ActionOpen},
			st(PhaseVoting, "c2"), ""},
		{"open while voting keeps the countdown", &onStage, st(PhaseVoting, "c2", endsAt(ms+5000)), Command{Action: ActionOpen},
			st(PhaseVoting, "c2", endsAt(ms+5000)), ""},
		{"reopen after closing", &onStage, st(PhaseClosed, "c2"), Command{Action: ActionOpen}, st(PhaseVoting, "c2"), ""},
		{"open with a removed contestant on stage", &onStage, st(PhasePresenting, "c9"), Command{Action: ActionOpen}, Stage{}, CodeInvalid},
		{"open during the reveal, scope all", &all, st(PhaseReveal, "", revealed(1)), Command{Action: ActionOpen}, Stage{}, CodeInvalid},
		{"open during the reveal, scope stage", &onStage, st(PhaseReveal, "", revealed(1)), Command{Action: ActionOpen}, Stage{}, CodeInvalid},
		// close
		{"close", &onStage, st(PhaseVoting, "c1", endsAt(ms+5000)), Command{Action: ActionClose}, st(PhaseClosed, "c1"), ""},
		{"close while presenting", &onStage, st(PhasePresenting, "c1"), Command{Action: ActionClose}, Stage{}, CodeInvalid},
		{"close when closed", &onStage, st(PhaseClosed, "c1"), Command{Action: ActionClose}, Stage{}, CodeInvalid},
		{"close in the lobby", &onStage, st(PhaseLobby, ""), Command{Action: ActionClose}, Stage{}, CodeInvalid},
		// next / previous / jump
		{"next from the lobby", &onStage, st(PhaseLobby, ""), Command{Action: ActionNext}, st(PhasePresenting, "c1"), ""},
		{"next", &onStage, st(PhaseClosed, "c1"), Command{Action: ActionNext}, st(PhasePresenting, "c2"), ""},
		{"next while voting", &onStage, st(PhaseVoting, "c2", endsAt(ms+9000)), Command{Action: ActionNext}, st(PhasePresenting, "c3"), ""},
		{"next at the last contestant", &onStage, st(PhaseClosed, "c3"), Command{Action: ActionNext}, Stage{}, CodeInvalid},
		{"next without contestants", &empty, st(PhaseLobby, ""), Command{Action: ActionNext}, Stage{}, CodeInvalid},
		{"next from a removed contestant", &onStage, st(PhaseClosed, "c9"), Command{Action: ActionNext}, st(PhasePresenting, "c1"), ""},
		{"previous", &onStage, st(PhasePresenting, "c3"), Command{Action: ActionPrevious}, st(PhasePresenting, "c2"), ""},
		{"previous at the first contestant", &onStage, st(PhasePresenting, "c1"), Command{Action: ActionPrevious}, Stage{}, CodeInvalid},
		{"previous in the lobby", &onStage, st(PhaseLobby, ""), Command{Action: ActionPrevious}, Stage{}, CodeInvalid},
		{"jump", &onStage, st(PhaseVoting, "c1", endsAt(ms+1)), Command{Action: ActionJump, Contestant: "c3"}, st(PhasePresenting, "c3"), ""},
		{"jump from the lobby", &onStage, st(PhaseLobby, ""), Command{Action: ActionJump, Contestant: "c2"}, st(PhasePresenting, "c2"), ""},
		{"jump to an unknown contestant", &onStage, st(PhasePresenting, "c1"), Command{Action: ActionJump, Contestant: "c9"}, Stage{}, CodeNotFound},
		{"jump to nobody", &onStage, st(PhasePresenting, "c1"), Command{Action: ActionJump}, Stage{}, CodeNotFound},
		// countdown
		{"countdown", &onStage, st(PhaseVoting, "c1"), Command{Action: ActionCountdown, Seconds: 30},
			st(PhaseVoting, "c1", endsAt(ms+30_000)), ""},
		{"countdown replaced", &onStage, st(PhaseVoting, "c1", endsAt(ms+1)), Command{Action: ActionCountdown, Seconds: 60},
			st(PhaseVoting, "c1", endsAt(ms+60_000)), ""},
		{"countdown stopped", &onStage, st(PhaseVoting, "c1", endsAt(ms+1)), Command{Action: ActionCountdown, Seconds: 0},
			st(PhaseVoting, "c1"), ""},
		{"longest countdown", &onStage, st(PhaseLobby, ""), Command{Action: ActionCountdown, Seconds: MaxCountdown},
			st(PhaseLobby, "", endsAt(ms+MaxCountdown*1000)), ""},
		{"countdown too long", &onStage, st(PhaseVoting, "c1"), Command{Action: ActionCountdown, Seconds: MaxCountdown + 1}, Stage{}, CodeInvalid},
		{"negative countdown", &onStage, st(PhaseVoting, "c1"), Command{Action: ActionCountdown, Seconds: -1}, Stage{}, CodeInvalid},
		// ranking
		{"hide the ranking", &onStage, st(PhaseVoting, "c1"), Command{Action: ActionRanking, Visible: &no}, st(PhaseVoting, "c1", hidden), ""},
		{"show the ranking", &onStage, st(PhaseVoting, "c1", hidden), Command{Action: ActionRanking, Visible: &yes}, st(PhaseVoting, "c1"), ""},
		{"ranking without saying", &onStage, st(PhaseVoting, "c1"), Command{Action: ActionRanking}, Stage{}, CodeInvalid},
		// reveal
		{"first reveal", &onStage, st(PhaseClosed, "c3", endsAt(ms+1)), Command{Action: ActionReveal}, st(PhaseReveal, "", revealed(1)), ""},
		{"first reveal from voting", &onStage, st(PhaseVoting, "c3"), Command{Action: ActionReveal}, st(PhaseReveal, "", revealed(1)), ""},
		{"next reveal", &onStage, st(PhaseReveal, "", revealed(2)), Command{Action: ActionReveal}, st(PhaseReveal, "", revealed(3)), ""},
		{"reveal past the end", &onStage, st(PhaseReveal, "", revealed(3)), Command{Action: ActionReveal}, Stage{}, CodeInvalid},
		{"reveal without contestants", &empty, st(PhaseLobby, ""), Command{Action: ActionReveal}, Stage{}, CodeInvalid},
		{"reveal after an earlier reveal", &onStage, st(PhaseClosed, "c1", revealed(3)), Command{Action: ActionReveal},
			st(PhaseReveal, "", revealed(1)), ""},
		{"unreveal", &onStage, st(PhaseReveal, "", revealed(2)), Command{Action: ActionUnreveal}, st(PhaseReveal, "", revealed(1)), ""},
		{"unreveal at nothing revealed", &onStage, st(PhaseReveal, ""), Command{Action: ActionUnreveal}, Stage{}, CodeInvalid},
		{"unreveal outside the reveal", &onStage, st(PhaseClosed, "c1", revealed(2)), Command{Action: ActionUnreveal}, Stage{}, CodeInvalid},
		{"next during the reveal", &onStage, st(PhaseReveal, "", revealed(2)), Command{Action: ActionNext},
			st(PhasePresenting, "c1", revealed(2)), ""},
		// end and lobby
		{"end", &onStage, st(PhaseVoting, "c2", endsAt(ms+1)), Command{Action: ActionEnd}, st(PhaseEnded, "c2"), ""},
		{"end from the lobby", &onStage, st(PhaseLobby, ""), Command{Action: ActionEnd}, st(PhaseEnded, ""), ""},
		{"back to the lobby", &onStage, st(PhaseReveal, "", revealed(2), endsAt(ms+1)), Command{Action: ActionLobby}, st(PhaseLobby, ""), ""},
		{"unknown action", &onStage, st(PhaseVoting, "c1"), Command{Action: "restart"}, Stage{}, CodeInvalid},
		{"no action", &onStage, st(PhaseVoting, "c1"), Command{}, Stage{}, CodeInvalid},
	}
	// After the end nothing changes.
	for _, a := range []Action{ActionOpen, ActionClose, ActionNext, ActionPrevious, ActionJump, ActionCountdown,
		ActionRanking, ActionReveal, ActionUnreveal, ActionEnd, ActionLobby, "bogus"} {
		cases = append(cases, struct {
			name string
			ev   *Event
			from Stage
			cmd  Command
			want Stage
			code Code
		}{"after the end: " + string(a), &onStage, st(PhaseEnded, "c2"),
			Command{Action: a, Contestant: "c1", Seconds: 10, Visible: &no}, Stage{}, CodeClosed})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Every contestant ranked, no ties: a step per contestant.
			got, err := tc.from.Apply(tc.ev, tc.cmd, now, len(tc.ev.Contestants))
			if tc.code != "" {
				if ErrorCode(err) != tc.code {
					t.Fatalf("Apply = %+v, %v; want code %q", got, err, tc.code)
				}
				if got != tc.from {
					t.Fatalf("Apply changed the stage on error:\n got %+v\nwant %+v", got, tc.from)
				}
				return
			}
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if got.Version != tc.from.Version+1 || got.ChangedAt != ms {
				t.Fatalf("version %d, changedAt %d; want %d, %d", got.Version, got.ChangedAt, tc.from.Version+1, ms)
			}
			want := tc.want
			want.Version, want.ChangedAt = got.Version, got.ChangedAt
			if got != want {
				t.Fatalf("Apply\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestApplyWalk runs an event through from the lobby to the end and checks
// that every step raises the version by exactly one.
func TestApplyWalk(t *testing.T) {
	t.Parallel()
	ev := validEvent()
	now := time.UnixMilli(1_732_540_000_000)
	s := InitialStage()
	steps := []Command{
		{Action: ActionNext}, {Action: ActionOpen}, {Action: ActionCountdown, Seconds: 60}, {Action: ActionClose},
		{Action: ActionNext}, {Action: ActionOpen}, {Action: ActionClose},
		{Action: ActionJump, Contestant: "c3"}, {Action: ActionOpen}, {Action: ActionClose},
		{Action: ActionReveal}, {Action: ActionReveal}, {Action: ActionUnreveal}, {Action: ActionReveal}, {Action: ActionReveal},
		{Action: ActionEnd},
	}
	for i, cmd := range steps {
		next, err := s.Apply(&ev, cmd, now.Add(time.Duration(i)*time.Second), 3)
		if err != nil {
			t.Fatalf("step %d %+v from %+v: %v", i, cmd, s, err)
		}
		if next.Version != s.Version+1 {
			t.Fatalf("step %d: version %d → %d", i, s.Version, next.Version)
		}
		s = next
	}
	if s.Phase != PhaseEnded || s.Revealed != 3 || s.Version != int64(len(steps))+1 {
		t.Fatalf("final stage %+v", s)
	}
}

// TestApplyReveal: the reveal counts steps (places, see RevealSteps), not
// contestants: it refuses once every place is shown and when nobody has a
// place at all.
func TestApplyReveal(t *testing.T) {
	t.Parallel()
	ev := validEvent() // c1, c2, c3
	now := time.UnixMilli(1_732_540_000_000)
	reveal := func(n int) Stage { return Stage{Phase: PhaseReveal, Version: 7, Revealed: n} }
	cases := []struct {
		name  string
		from  Stage
		steps int
		want  int  // Revealed after the reveal
		code  Code // the error, if any
	}{
		{"first step", Stage{Phase: PhaseClosed, Current: "c3", Version: 7}, 3, 1, ""},
		{"a tie: two places for three contestants", reveal(1), 2, 2, ""},
		{"a tie: every place shown", reveal(2), 2, 0, CodeInvalid},
		{"all tied: one step", Stage{Phase: PhaseClosed, Current: "c3", Version: 7}, 1, 1, ""},
		{"all tied: shown", reveal(1), 1, 0, CodeInvalid},
		{"no ballots: nothing to reveal", Stage{Phase: PhaseClosed, Current: "c3", Version: 7}, 0, 0, CodeInvalid},
		{"no ballots during the reveal", reveal(0), 0, 0, CodeInvalid},
		{"fewer places after a reset", reveal(3), 2, 0, CodeInvalid},
		{"a new reveal starts at the last place", Stage{Phase: PhaseClosed, Current: "c1", Version: 7, Revealed: 2}, 2, 1, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.from.Apply(&ev, Command{Action: ActionReveal}, now, tc.steps)
			if tc.code != "" {
				if ErrorCode(err) != tc.code || got != tc.from {
					t.Fatalf("Apply = %+v, %v; want code %q and the stage unchanged", got, err, tc.code)
				}
				return
			}
			if err != nil || got.Phase != PhaseReveal || got.Revealed != tc.want || got.Version != tc.from.Version+1 {
				t.Fatalf("Apply = %+v, %v; want the reveal at step %d", got, err, tc.want)
			}
		})
	}
}

func TestVotingOpen(t *testing.T) {
	t.Parallel()
	const ends = 1_732_540_000_000
	cases := []struct {
		name       string
		stage      Stage
		scope      VotingScope
		contestant string
		now        int64
		want       bool
	}{
		{"on stage", Stage{Phase: PhaseVoting, Current: "c1"}, ScopeOnStage, "c1", ends, true},
		{"not on stage", Stage{Phase: PhaseVoting, Current: "c1"}, ScopeOnStage, "c2", ends, false},
		{"scope all, not on stage", Stage{Phase: PhaseVoting, Current: "c1"}, ScopeAll, "c2", ends, true},
		{"scope all, nobody on stage", Stage{Phase: PhaseVoting}, ScopeAll, "c2", ends, true},
		{"presenting", Stage{Phase: PhasePresenting, Current: "c1"}, ScopeOnStage, "c1", ends, false},
		{"closed", Stage{Phase: PhaseClosed, Current: "c1"}, ScopeAll, "c1", ends, false},
		{"lobby", Stage{Phase: PhaseLobby}, ScopeAll, "c1", ends, false},
		{"reveal", Stage{Phase: PhaseReveal}, ScopeAll, "c1", ends, false},
		{"ended", Stage{Phase: PhaseEnded, Current: "c1"}, ScopeAll, "c1", ends, false},
		{"before the countdown ends", Stage{Phase: PhaseVoting, Current: "c1", EndsAt: ends}, ScopeOnStage, "c1", ends - 1, true},
		{"when the countdown ends", Stage{Phase: PhaseVoting, Current: "c1", EndsAt: ends}, ScopeOnStage, "c1", ends, false},
		{"after the countdown ends", Stage{Phase: PhaseVoting, Current: "c1", EndsAt: ends}, ScopeAll, "c1", ends + 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.stage.VotingOpen(tc.scope, tc.contestant, time.UnixMilli(tc.now)); got != tc.want {
				t.Fatalf("VotingOpen = %v, want %v", got, tc.want)
			}
		})
	}
}
