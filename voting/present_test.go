package voting

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestApplyTimer checks the presentation timer's commands: start, pause,
// resume, reset, custom times, and what is refused.
func TestApplyTimer(t *testing.T) {
	t.Parallel()
	now := time.UnixMilli(1_732_540_000_000)
	ms := now.UnixMilli()
	ev := validEvent()
	ev.PresentationSeconds = 300
	noTime := validEvent()
	all := validEvent()
	all.VotingScope = ScopeAll
	all.PresentationSeconds = 300
	st := func(phase Phase, current string, tm Timer) Stage {
		return Stage{Phase: phase, Current: current, Version: 7, RankingVisible: true, ChangedAt: 1, Timer: tm}
	}
	cases := []struct {
		name string
		ev   *Event
		from Stage
		cmd  Command
		want Timer
		code Code
	}{
		{"start", &ev, st(PhasePresenting, "c1", Timer{Seconds: 300}), Command{Action: ActionTimer, Op: TimerStart},
			Timer{Seconds: 300, StartedAt: ms}, ""},
		{"start while voting", &ev, st(PhaseVoting, "c1", Timer{Seconds: 300}), Command{Action: ActionTimer, Op: TimerStart},
			Timer{Seconds: 300, StartedAt: ms}, ""},
		{"start after closing", &ev, st(PhaseClosed, "c1", Timer{Seconds: 300}), Command{Action: ActionTimer, Op: TimerStart},
			Timer{Seconds: 300, StartedAt: ms}, ""},
		{"start with a custom time", &ev, st(PhasePresenting, "c1", Timer{Seconds: 300}), Command{Action: ActionTimer, Op: TimerStart, Seconds: 2},
			Timer{Seconds: 2, StartedAt: ms}, ""},
		{"start takes the event's time when the stage has none", &ev, st(PhasePresenting, "c1", Timer{}), Command{Action: ActionTimer, Op: TimerStart},
			Timer{Seconds: 300, StartedAt: ms}, ""},
		{"start without any time", &noTime, st(PhasePresenting, "c1", Timer{}), Command{Action: ActionTimer, Op: TimerStart},
			Timer{}, CodeInvalid},
		{"start without a time in the event, with a custom one", &noTime, st(PhasePresenting, "c1", Timer{}), Command{Action: ActionTimer, Op: TimerStart, Seconds: 90},
			Timer{Seconds: 90, StartedAt: ms}, ""},
		{"resume keeps the time used", &ev, st(PhasePresenting, "c1", Timer{Seconds: 300, Elapsed: 42_000}), Command{Action: ActionTimer, Op: TimerStart},
			Timer{Seconds: 300, StartedAt: ms, Elapsed: 42_000}, ""},
		{"start a running timer", &ev, st(PhasePresenting, "c1", Timer{Seconds: 300, StartedAt: ms - 1000}), Command{Action: ActionTimer, Op: TimerStart},
			Timer{}, CodeInvalid},
		{"a new time for a running timer", &ev, st(PhasePresenting, "c1", Timer{Seconds: 300, StartedAt: ms - 1000}), Command{Action: ActionTimer, Op: TimerStart, Seconds: 600},
			Timer{Seconds: 600, StartedAt: ms - 1000}, ""},
		{"pause", &ev, st(PhasePresenting, "c1", Timer{Seconds: 300, StartedAt: ms - 61_500, Elapsed: 1000}), Command{Action: ActionTimer, Op: TimerPause},
			Timer{Seconds: 300, Elapsed: 62_500}, ""},
		{"pause in overtime", &ev, st(PhaseVoting, "c1", Timer{Seconds: 2, StartedAt: ms - 5000}), Command{Action: ActionTimer, Op: TimerPause},
			Timer{Seconds: 2, Elapsed: 5000}, ""},
		{"pause a stopped timer", &ev, st(PhasePresenting, "c1", Timer{Seconds: 300, Elapsed: 5000}), Command{Action: ActionTimer, Op: TimerPause},
			Timer{}, CodeInvalid},
		{"reset", &ev, st(PhasePresenting, "c1", Timer{Seconds: 300, StartedAt: ms - 1000, Elapsed: 9000}), Command{Action: ActionTimer, Op: TimerReset},
			Timer{Seconds: 300}, ""},
		{"reset keeps a custom time", &ev, st(PhasePresenting, "c1", Timer{Seconds: 120, Elapsed: 9000}), Command{Action: ActionTimer, Op: TimerReset},
			Timer{Seconds: 120}, ""},
		{"reset to a custom time", &ev, st(PhasePresenting, "c1", Timer{Seconds: 300, Elapsed: 9000}), Command{Action: ActionTimer, Op: TimerReset, Seconds: 61},
			Timer{Seconds: 61}, ""},
		{"reset takes the event's time when the stage has none", &ev, st(PhaseClosed, "c1", Timer{}), Command{Action: ActionTimer, Op: TimerReset},
			Timer{Seconds: 300}, ""},
		{"longest time", &ev, st(PhasePresenting, "c1", Timer{}), Command{Action: ActionTimer, Op: TimerReset, Seconds: MaxCountdown},
			Timer{Seconds: MaxCountdown}, ""},
		{"too long", &ev, st(PhasePresenting, "c1", Timer{}), Command{Action: ActionTimer, Op: TimerStart, Seconds: MaxCountdown + 1},
			Timer{}, CodeInvalid},
		{"negative time", &ev, st(PhasePresenting, "c1", Timer{}), Command{Action: ActionTimer, Op: TimerReset, Seconds: -1},
			Timer{}, CodeInvalid},
		{"no op", &ev, st(PhasePresenting, "c1", Timer{Seconds: 300}), Command{Action: ActionTimer},
			Timer{}, CodeInvalid},
		{"unknown op", &ev, st(PhasePresenting, "c1", Timer{Seconds: 300}), Command{Action: ActionTimer, Op: "stop"},
			Timer{}, CodeInvalid},
		{"in the lobby", &ev, st(PhaseLobby, "", Timer{}), Command{Action: ActionTimer, Op: TimerStart},
			Timer{}, CodeInvalid},
		{"during the reveal", &ev, st(PhaseReveal, "", Timer{}), Command{Action: ActionTimer, Op: TimerStart},
			Timer{}, CodeInvalid},
		{"scope all, nobody on stage", &all, st(PhaseVoting, "", Timer{}), Command{Action: ActionTimer, Op: TimerStart},
			Timer{}, CodeInvalid},
		{"a removed contestant on stage", &ev, st(PhasePresenting, "c9", Timer{Seconds: 300}), Command{Action: ActionTimer, Op: TimerStart},
			Timer{}, CodeInvalid},
		{"after the end", &ev, st(PhaseEnded, "c1", Timer{}), Command{Action: ActionTimer, Op: TimerStart},
			Timer{}, CodeClosed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.from.Apply(tc.ev, tc.cmd, now, 0)
			if tc.code != "" {
				if ErrorCode(err) != tc.code {
					t.Fatalf("Apply: %v, want code %q", err, tc.code)
				}
				if got != tc.from {
					t.Fatalf("a refused command changed the stage: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			want := tc.from
			want.Timer, want.Version, want.ChangedAt = tc.want, tc.from.Version+1, ms
			if got != want {
				t.Fatalf("Apply\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestTimerFollowsTheStage: a contestant comes on stage with the event's
// time, stopped; opening voting pauses a running timer, the other commands
// leave it alone, and it never closes voting, however far into overtime;
// leaving the contestants (lobby, reveal, end) clears it.
func TestTimerFollowsTheStage(t *testing.T) {
	t.Parallel()
	ev := validEvent()
	ev.PresentationSeconds = 2
	now := time.UnixMilli(1_732_540_000_000)
	at := func(s int) time.Time { return now.Add(time.Duration(s) * time.Second) }
	s := InitialStage()
	step := func(sec int, cmd Command) {
		t.Helper()
		next, err := s.Apply(&ev, cmd, at(sec), 0)
		if err != nil {
			t.Fatalf("%+v from %+v: %v", cmd, s, err)
		}
		s = next
	}
	step(0, Command{Action: ActionNext})
	if s.Timer != (Timer{Seconds: 2}) {
		t.Fatalf("timer on coming on stage: %+v", s.Timer)
	}
	step(1, Command{Action: ActionTimer, Op: TimerStart})
	step(4, Command{Action: ActionOpen})
	if want := (Timer{Seconds: 2, Elapsed: 3000}); s.Timer != want {
		t.Fatalf("timer after opening voting: %+v, want %+v (paused)", s.Timer, want)
	}
	step(5, Command{Action: ActionOpen}) // voting open already: stays paused
	step(6, Command{Action: ActionTimer, Op: TimerStart})
	step(7, Command{Action: ActionCountdown, Seconds: 60})
	no := false
	step(8, Command{Action: ActionRanking, Visible: &no})
	if want := (Timer{Seconds: 2, StartedAt: at(6).UnixMilli(), Elapsed: 3000}); s.Timer != want {
		t.Fatalf("timer after start, countdown and ranking: %+v, want %+v", s.Timer, want)
	}
	// An hour into overtime: voting is still open, the timer still counts.
	late := at(3600)
	if !s.VotingOpen(ev.VotingScope, "c1", at(62)) || s.Phase != PhaseVoting {
		t.Fatalf("voting closed by the timer: %+v", s)
	}
	if left := s.Timer.Left(late); left != 2*time.Second-3*time.Second-(3600-6)*time.Second {
		t.Fatalf("time left an hour later: %v", left)
	}
	step(9, Command{Action: ActionClose})
	if !s.Timer.Running() {
		t.Fatalf("closing voting stopped the timer: %+v", s.Timer)
	}
	for _, tc := range []struct {
		cmd  Command
		want Timer
	}{
		{Command{Action: ActionNext}, Timer{Seconds: 2}},
		{Command{Action: ActionPrevious}, Timer{Seconds: 2}},
		{Command{Action: ActionJump, Contestant: "c3"}, Timer{Seconds: 2}},
		{Command{Action: ActionLobby}, Timer{}},
		{Command{Action: ActionReveal}, Timer{}},
		{Command{Action: ActionEnd}, Timer{}},
	} {
		from := s
		from.Current = "c2"
		from.Timer = Timer{Seconds: 600, StartedAt: at(1).UnixMilli(), Elapsed: 5}
		got, err := from.Apply(&ev, tc.cmd, at(10), 3) // 3 places to reveal
		if err != nil {
			t.Fatalf("%s: %v", tc.cmd.Action, err)
		}
		if got.Timer != tc.want {
			t.Errorf("%s: timer %+v, want %+v", tc.cmd.Action, got.Timer, tc.want)
		}
	}
}

func TestTimerClock(t *testing.T) {
	t.Parallel()
	now := time.UnixMilli(1_732_540_000_000)
	ms := now.UnixMilli()
	for _, tc := range []struct {
		name       string
		timer      Timer
		used, left time.Duration
	}{
		{"not started", Timer{Seconds: 300}, 0, 300 * time.Second},
		{"running", Timer{Seconds: 300, StartedAt: ms - 61_000}, 61 * time.Second, 239 * time.Second},
		{"paused", Timer{Seconds: 300, Elapsed: 240_500}, 240500 * time.Millisecond, 59500 * time.Millisecond},
		{"resumed", Timer{Seconds: 300, StartedAt: ms - 1000, Elapsed: 10_000}, 11 * time.Second, 289 * time.Second},
		{"overtime", Timer{Seconds: 2, StartedAt: ms - 65_000}, 65 * time.Second, -63 * time.Second},
		{"started by a clock ahead of this one", Timer{Seconds: 60, StartedAt: ms + 500}, 0, 60 * time.Second},
	} {
		if used, left := tc.timer.Used(now), tc.timer.Left(now); used != tc.used || left != tc.left {
			t.Errorf("%s: used %v, left %v; want %v, %v", tc.name, used, left, tc.used, tc.left)
		}
	}
}

// TestPresentationFields: themes, presenters, comments and the
// presentation time are trimmed and validated like the other names.
func TestPresentationFields(t *testing.T) {
	t.Parallel()
	ev := validEvent()
	ev.Contestants[0].Theme = "  扬优势 补短板 推进各项经济指标争先创优 "
	ev.Contestants[0].Presenter = " 张三\u3000"
	ev.Contestants[0].Comment = "\t不讲困难，只找方法。 "
	ev.Normalize()
	c := ev.Contestants[0]
	if c.Theme != "扬优势 补短板 推进各项经济指标争先创优" || c.Presenter != "张三" || c.Comment != "不讲困难，只找方法。" {
		t.Errorf("normalized %+v: want theme, presenter and comment trimmed", c)
	}
	if err := ev.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	cases := []struct {
		name   string
		change func(ev *Event)
		ok     bool
	}{
		{"theme of 100 characters", func(ev *Event) { ev.Contestants[1].Theme = strings.Repeat("擂", 100) }, true},
		{"theme of 101 characters", func(ev *Event) { ev.Contestants[1].Theme = strings.Repeat("擂", 101) }, false},
		{"theme with a newline", func(ev *Event) { ev.Contestants[1].Theme = "促消费\n稳外贸" }, false},
		{"theme of invalid UTF-8", func(ev *Event) { ev.Contestants[1].Theme = "促消费\xff" }, false},
		{"presenter with an escape", func(ev *Event) { ev.Contestants[1].Presenter = "\x1b[31m张三" }, false},
		{"presenter of 101 characters", func(ev *Event) { ev.Contestants[1].Presenter = strings.Repeat("a", 101) }, false},
		{"comment of 500 characters", func(ev *Event) { ev.Contestants[1].Comment = strings.Repeat("评", MaxCommentLength) }, true},
		{"comment of 501 characters", func(ev *Event) { ev.Contestants[1].Comment = strings.Repeat("评", MaxCommentLength+1) }, false},
		{"comment with a line break", func(ev *Event) { ev.Contestants[1].Comment = "很好。\r\n继续努力。" }, false},
		{"comment with a C1 control", func(ev *Event) { ev.Contestants[1].Comment = "很好\u0085" }, false},
		{"presentation of a day", func(ev *Event) { ev.PresentationSeconds = MaxCountdown }, true},
		{"presentation longer than a day", func(ev *Event) { ev.PresentationSeconds = MaxCountdown + 1 }, false},
		{"negative presentation", func(ev *Event) { ev.PresentationSeconds = -1 }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := validEvent()
			tc.change(&ev)
			err := ev.Validate()
			if tc.ok != (err == nil) || (!tc.ok && ErrorCode(err) != CodeInvalid) {
				t.Fatalf("Validate: %v, want ok %v", err, tc.ok)
			}
		})
	}
}

func TestPublicDropsComments(t *testing.T) {
	t.Parallel()
	ev := validEvent()
	ev.Contestants[0].Theme, ev.Contestants[0].Presenter, ev.Contestants[0].Comment = "主题", "张三", "点评"
	pub := ev.Public()
	if c := pub.Contestants[0]; c.Comment != "" || c.Theme != "主题" || c.Presenter != "张三" {
		t.Errorf("public contestant %+v: want theme and presenter, no comment", c)
	}
	if ev.Contestants[0].Comment != "点评" {
		t.Errorf("Public changed the original's comment")
	}
}

// memStore is as much of a Store as the service's event methods need.
type memStore struct {
	Store  // the rest is not used: calling it panics
	mu     sync.Mutex
	events map[string]Event
	stages map[string]Stage
}

func newMemStore() *memStore {
	return &memStore{events: map[string]Event{}, stages: map[string]Stage{}}
}

func (m *memStore) CreateEvent(_ context.Context, ev Event) (Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.events[ev.ID]; ok {
		return Event{}, Errorf(CodeConflict, "exists")
	}
	ev.Revision = 1
	m.events[ev.ID], m.stages[ev.ID] = ev, InitialStage()
	return ev, nil
}

func (m *memStore) UpdateEvent(_ context.Context, ev Event) (Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.events[ev.ID]
	if !ok {
		return Event{}, errNoEvent(ev.ID)
	}
	if old.Revision != ev.Revision {
		return Event{}, Errorf(CodeConflict, "stale revision")
	}
	ev.Revision++
	ev.Contestants = append([]Contestant(nil), ev.Contestants...)
	m.events[ev.ID] = ev
	return ev, nil
}

func (m *memStore) Event(_ context.Context, id string) (Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ev, ok := m.events[id]
	if !ok {
		return Event{}, errNoEvent(id)
	}
	ev.Contestants = append([]Contestant(nil), ev.Contestants...)
	return ev, nil
}

func (m *memStore) Stage(_ context.Context, id string) (Stage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.stages[id]
	if !ok {
		return Stage{}, errNoEvent(id)
	}
	return st, nil
}

// TestSetComment: the host records, changes and removes a leader's
// comment, also after the end; bad comments change nothing; an update of
// the event keeps the comments; a clone keeps themes and presenters but
// not the comments.
func TestSetComment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newMemStore()
	svc := NewService(store, nil)
	src := validEvent()
	src.PresentationSeconds = 480
	src.Contestants[0].Theme, src.Contestants[0].Presenter = "扬优势 补短板", "张三"
	created, err := svc.CreateEvent(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := svc.SetComment(ctx, "show", "c2", "  预计5月社零同比增长5%。 ")
	if err != nil {
		t.Fatalf("SetComment: %v", err)
	}
	if ev.Contestants[1].Comment != "预计5月社零同比增长5%。" || ev.Revision != created.Revision+1 {
		t.Fatalf("after SetComment: %+v (revision %d)", ev.Contestants[1], ev.Revision)
	}
	if cached, _ := svc.Event(ctx, "show"); cached.Revision != ev.Revision {
		t.Errorf("the service's cache holds revision %d", cached.Revision)
	}
	// The same comment again changes nothing.
	if again, err := svc.SetComment(ctx, "show", "c2", "预计5月社零同比增长5%。"); err != nil || again.Revision != ev.Revision {
		t.Errorf("the same comment again: revision %d, %v", again.Revision, err)
	}
	for _, tc := range []struct {
		name, event, contestant, comment string
		code                             Code
	}{
		{"line break", "show", "c2", "一\n二", CodeInvalid},
		{"too long", "show", "c2", strings.Repeat("评", MaxCommentLength+1), CodeInvalid},
		{"unknown contestant", "show", "c9", "好", CodeNotFound},
		{"unknown event", "nope", "c1", "好", CodeNotFound},
		{"bad event id", "../x", "c1", "好", CodeNotFound},
	} {
		if _, err := svc.SetComment(ctx, tc.event, tc.contestant, tc.comment); ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.code)
		}
	}
	if got, _ := store.Event(ctx, "show"); got.Revision != ev.Revision || got.Contestants[1].Comment != ev.Contestants[1].Comment {
		t.Errorf("a refused comment changed the event: %+v", got)
	}

	// An update (the setup form, an event file) keeps the stored comments,
	// whatever it says about them.
	upd := ev
	upd.Contestants = append([]Contestant(nil), ev.Contestants...)
	upd.Title = "决赛"
	upd.Contestants[1].Comment = ""
	upd.Contestants[0].Comment = "forged"
	updated, err := svc.UpdateEvent(ctx, upd)
	if err != nil {
		t.Fatal(err)
	}
	if updated.Title != "决赛" || updated.Contestants[1].Comment != "预计5月社零同比增长5%。" || updated.Contestants[0].Comment != "" {
		t.Errorf("after UpdateEvent: %+v", updated.Contestants)
	}

	// After the end the event is read-only, except for comments.
	store.stages["show"] = Stage{Phase: PhaseEnded, Version: 9}
	if _, err := svc.UpdateEvent(ctx, updated); ErrorCode(err) != CodeClosed {
		t.Errorf("UpdateEvent after the end: %v", err)
	}
	ended, err := svc.SetComment(ctx, "show", "c1", "不讲困难，只找方法。")
	if err != nil || ended.Contestants[0].Comment != "不讲困难，只找方法。" {
		t.Fatalf("SetComment after the end: %+v, %v", ended.Contestants[0], err)
	}
	removed, err := svc.SetComment(ctx, "show", "c2", "")
	if err != nil || removed.Contestants[1].Comment != "" {
		t.Fatalf("removing a comment: %+v, %v", removed.Contestants[1], err)
	}

	clone, err := svc.CloneEvent(ctx, "show", "show-2", "")
	if err != nil {
		t.Fatal(err)
	}
	if c := clone.Contestants[0]; c.Comment != "" || c.Theme != "扬优势 补短板" || c.Presenter != "张三" || clone.PresentationSeconds != 480 {
		t.Errorf("clone: %+v, presentation %d", c, clone.PresentationSeconds)
	}
	if src, _ := store.Event(ctx, "show"); src.Contestants[0].Comment != "不讲困难，只找方法。" {
		t.Errorf("cloning changed the source's comment")
	}
}
