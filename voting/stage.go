package voting

import "time"

// Phase is where an event is: lobby → (presenting ↔ voting → closed) per
// contestant → reveal → ended.
type Phase string

const (
	PhaseLobby      Phase = "lobby"      // before the first contestant
	PhasePresenting Phase = "presenting" // a contestant is on stage, voting not yet open
	PhaseVoting     Phase = "voting"     // ballots are taken
	PhaseClosed     Phase = "closed"     // voting for the current contestant is over
	PhaseReveal     Phase = "reveal"     // the final ranking is revealed step by step
	PhaseEnded      Phase = "ended"      // the event is over; nothing changes any more
)

// Stage (环节) is the state of the room: which contestant is on stage and
// whether ballots are taken. Every change raises Version; stores change the
// stage only by compare-and-set on it.
type Stage struct {
	Phase   Phase  `json:"phase"`
	Current string `json:"current,omitempty"` // contestant on stage
	Version int64  `json:"version"`
	// EndsAt is when the running countdown reaches zero (Unix milliseconds;
	// 0 when none runs). In the voting phase voting closes at that moment.
	EndsAt int64 `json:"endsAt,omitempty"`
	// RankingVisible says whether the live ranking is shown on the screen
	// and to voters. The host always sees it.
	RankingVisible bool `json:"rankingVisible"`
	// Revealed counts the steps of the final reveal taken so far, from the
	// last place upwards. A step is a place (a tie group of ranked
	// contestants, see RevealedRows), not a contestant.
	Revealed int `json:"revealed"`
	// Season says the screen shows the season table (年度累计排名) of the
	// event's series instead of the final ranking: the host shows it once
	// every place of the reveal is shown (ActionSeason).
	Season bool `json:"season,omitempty"`
	// ChangedAt is when this version was made (Unix milliseconds).
	ChangedAt int64 `json:"changedAt"`
	// Timer is the presentation timer of the contestant on stage; zero
	// when nobody is on stage.
	Timer Timer `json:"timer,omitzero"`
	// Spotlight (亮分) names the contestant whose seats' scores the big
	// screen shows (Service.Spotlight), set when voting closes in an event
	// with judges' seats or by the host's spotlight command, and cleared by
	// the next move. Never a contestant whose voting is open.
	Spotlight string `json:"spotlight,omitempty"`
}

// InitialStage is the stage of a new event.
func InitialStage() Stage {
	return Stage{Phase: PhaseLobby, Version: 1, RankingVisible: true}
}

// VotingOpen reports whether a ballot for contestant is taken at time now.
func (s *Stage) VotingOpen(scope VotingScope, contestant string, now time.Time) bool {
	if s.Phase != PhaseVoting {
		return false
	}
	if s.EndsAt != 0 && now.UnixMilli() >= s.EndsAt {
		return false
	}
	return scope == ScopeAll || s.Current == contestant
}

// A Command is what a host asks of the stage.
type Command struct {
	Action     Action `json:"action"`
	Contestant string `json:"contestant,omitempty"` // for jump
	Seconds    int    `json:"seconds,omitempty"`    // for countdown; 0 stops it
	Visible    *bool  `json:"visible,omitempty"`    // for ranking
	// IfVersion, when set, makes the command apply only to that stage
	// version, so that a double press does not act twice.
	IfVersion int64 `json:"ifVersion,omitempty"`
	// Op says what a timer command does: start, pause or reset; Seconds,
	// when given, sets the presentation's time.
	Op TimerOp `json:"op,omitempty"`
}

// Action names a host command.
type Action string

const (
	ActionOpen      Action = "open"      // open voting (for the contestant on stage)
	ActionClose     Action = "close"     // close voting
	ActionNext      Action = "next"      // next contestant, presenting
	ActionPrevious  Action = "previous"  // previous contestant, presenting
	ActionJump      Action = "jump"      // a named contestant, presenting
	ActionCountdown Action = "countdown" // start (Seconds > 0) or stop (0) a countdown
	ActionRanking   Action = "ranking"   // show or hide the live ranking
	ActionReveal    Action = "reveal"    // reveal one more place (tie group) of the final ranking
	ActionUnreveal  Action = "unreveal"  // take back the last reveal step
	ActionEnd       Action = "end"       // end the event
	ActionLobby     Action = "lobby"     // back to the lobby (before the first contestant)
	ActionTimer     Action = "timer"     // start, pause or reset the presentation timer (Op)
	ActionSpotlight Action = "spotlight" // 亮分: show (or, Visible false, hide) a closed contestant's seat scores
	ActionSeason    Action = "season"    // show or hide the season table after the reveal (Visible)
)

// MaxCountdown is the longest countdown a host can start.
const MaxCountdown = 24 * 60 * 60

// Apply returns the stage after cmd, with the version raised by one, or an
// error (invalid, not found, conflict) that leaves the stage as it was.
// revealSteps is RevealSteps of the event's standings; only reveal reads it
// (the caller may pass 0 for other actions).
func (s Stage) Apply(ev *Event, cmd Command, now time.Time, revealSteps int) (Stage, error) {
	if s.Phase == PhaseEnded {
		return s, errEnded()
	}
	next := s
	next.Version = s.Version + 1
	next.ChangedAt = now.UnixMilli()
	moveTo := func(i int) (Stage, error) {
		if i < 0 || i >= len(ev.Contestants) {
			return s, Errorf(CodeInvalid, "there is no contestant there")
		}
		next.Phase, next.Current, next.EndsAt = PhasePresenting, ev.Contestants[i].ID, 0
		next.Timer = Timer{Seconds: ev.PresentationSeconds} // stopped: see Timer
		return next, nil
	}
	_, idx, onStage := ev.Contestant(s.Current)
	if s.Phase == PhaseLobby || s.Phase == PhaseReveal {
		onStage = false
	}
	switch cmd.Action {
	case ActionRanking, ActionCountdown, ActionTimer:
	default:
		next.Spotlight = "" // any move ends the 亮分 on the screen
	}
	switch cmd.Action {
	case ActionOpen:
		if len(ev.Contestants) == 0 {
			return s, Errorf(CodeInvalid, "the event has no contestants")
		}
		if ev.VotingScope == ScopeOnStage && !onStage {
			return s, Errorf(CodeInvalid, "put a contestant on stage before opening voting")
		}
		if s.Phase == PhaseReveal {
			return s, Errorf(CodeInvalid, "the reveal has begun; voting cannot reopen")
		}
		next.Phase = PhaseVoting
		if s.Phase != PhaseVoting {
			next.EndsAt = 0
		}
		next.Timer = next.Timer.paused(now) // voting ends the presentation
	case ActionClose:
		if s.Phase != PhaseVoting {
			return s, Errorf(CodeInvalid, "voting is not open")
		}
		next.Phase, next.EndsAt = PhaseClosed, 0
		if ev.HasSeats() && ev.VotingScope == ScopeOnStage {
			next.Spotlight = s.Current // 亮分 follows the close
		}
	case ActionSpotlight:
		return s.applySpotlight(ev, cmd, now, next)
	case ActionNext:
		if !onStage {
			return moveTo(0)
		}
		if idx+1 >= len(ev.Contestants) {
			return s, Errorf(CodeInvalid, "this is the last contestant; reveal the ranking or end the event")
		}
		return moveTo(idx + 1)
	case ActionPrevious:
		if !onStage || idx == 0 {
			return s, Errorf(CodeInvalid, "there is no previous contestant")
		}
		return moveTo(idx - 1)
	case ActionJump:
		_, i, ok := ev.Contestant(cmd.Contestant)
		if !ok {
			return s, Errorf(CodeNotFound, "no contestant %q in this event", Excerpt(cmd.Contestant, 40))
		}
		return moveTo(i)
	case ActionCountdown:
		if cmd.Seconds < 0 || cmd.Seconds > MaxCountdown {
			return s, Errorf(CodeInvalid, "a countdown lasts 0 to %d seconds", MaxCountdown)
		}
		next.EndsAt = 0
		if cmd.Seconds > 0 {
			next.EndsAt = now.Add(time.Duration(cmd.Seconds) * time.Second).UnixMilli()
		}
	case ActionRanking:
		if cmd.Visible == nil {
			return s, Errorf(CodeInvalid, "say whether the ranking is visible")
		}
		next.RankingVisible = *cmd.Visible
	case ActionReveal:
		if next.Phase != PhaseReveal {
			next.Phase, next.Current, next.EndsAt, next.Revealed = PhaseReveal, "", 0, 0
		}
		if revealSteps == 0 {
			return s, Errorf(CodeInvalid, "no contestant has ballots: there is no ranking to reveal")
		}
		if next.Revealed >= revealSteps {
			return s, Errorf(CodeInvalid, "every place has been revealed")
		}
		next.Revealed++
	case ActionUnreveal:
		if s.Phase != PhaseReveal || s.Revealed == 0 {
			return s, Errorf(CodeInvalid, "nothing has been revealed")
		}
		next.Revealed--
	case ActionSeason:
		if err := s.applySeason(ev, cmd, revealSteps); err != nil {
			return s, err
		}
		next.Season = *cmd.Visible
	case ActionEnd:
		next.Phase, next.EndsAt = PhaseEnded, 0
	case ActionLobby:
		next.Phase, next.Current, next.EndsAt, next.Revealed = PhaseLobby, "", 0, 0
	case ActionTimer:
		if !onStage {
			return s, Errorf(CodeInvalid, "the presentation timer needs a contestant on stage")
		}
		t, err := s.applyTimer(ev, cmd, now)
		if err != nil {
			return s, err
		}
		next.Timer = t
	default:
		return s, Errorf(CodeInvalid, "unknown action %q", Excerpt(string(cmd.Action), 30))
	}
	if next.Phase == PhaseLobby || next.Phase == PhaseReveal || next.Phase == PhaseEnded {
		next.Timer = Timer{} // the timer belongs to the contestant on stage
	}
	if next.Phase != PhaseReveal && next.Phase != PhaseEnded || next.Revealed < s.Revealed {
		next.Season = false // the season table follows a finished reveal only
	}
	return next, nil
}

// applySpotlight shows (or hides) the 亮分 of a contestant: the one named,
// else the one on stage. Voting must be closed for it.
func (s Stage) applySpotlight(ev *Event, cmd Command, now time.Time, next Stage) (Stage, error) {
	if cmd.Visible != nil && !*cmd.Visible {
		return next, nil // the host skips it: Spotlight is cleared above
	}
	c := cmd.Contestant
	if c == "" {
		c = s.Current
	}
	if _, _, ok := ev.Contestant(c); !ok {
		return s, Errorf(CodeInvalid, "name a contestant (or put one on stage) to show its scores")
	}
	if s.VotingOpen(ev.VotingScope, c, now) {
		return s, Errorf(CodeInvalid, "close voting before showing the scores (亮分)")
	}
	next.Spotlight = c
	return next, nil
}
