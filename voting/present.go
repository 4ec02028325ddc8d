package voting

import (
	"context"
	"errors"
	"strings"
	"time"
)

// The presentation: what a contestant presents (theme, presenter), the
// leader's comment on it, and the presentation timer.

// MaxCommentLength bounds a leader's comment: a short paragraph (the
// customer's write-up has 40–150 characters per unit).
const MaxCommentLength = 500 // characters

// validPresentation checks a contestant's theme, presenter and comment.
func (c *Contestant) validPresentation() error {
	if err := validName("theme", c.Theme, true); err != nil {
		return err
	}
	if err := validName("presenter", c.Presenter, true); err != nil {
		return err
	}
	return validText("comment", c.Comment, MaxCommentLength, true)
}

// keepComments gives e's contestants the comments they have in stored, by
// contestant id: only SetComment changes a comment.
func (e *Event) keepComments(stored *Event) {
	for i := range e.Contestants {
		c, _, _ := stored.Contestant(e.Contestants[i].ID)
		e.Contestants[i].Comment = c.Comment
	}
}

// SetComment records the leader's comment (区领导点评) on a contestant; an
// empty comment removes it. Like SetPublished it works after the event has
// ended: the comment is part of the write-up of the day, which the host may
// finish afterwards. It changes nothing else of the event.
func (s *Service) SetComment(ctx context.Context, id, contestant, comment string) (Event, error) {
	if !ValidID(id) {
		return Event{}, errNoEvent(id)
	}
	comment = strings.TrimSpace(comment)
	if err := validText("comment", comment, MaxCommentLength, true); err != nil {
		return Event{}, err
	}
	for attempt := 0; ; attempt++ {
		ev, err := s.store.Event(ctx, id)
		if err != nil {
			return Event{}, err
		}
		_, i, ok := ev.Contestant(contestant)
		if !ok {
			return Event{}, Errorf(CodeNotFound, "no contestant %q in this event", Excerpt(contestant, 40))
		}
		if ev.Contestants[i].Comment == comment {
			s.remember(ev)
			return ev, nil
		}
		ev.Contestants[i].Comment = comment
		updated, err := s.store.UpdateEvent(ctx, ev)
		if errors.Is(err, ErrConflict) && attempt < 5 {
			continue // another change won the revision; read it again
		}
		if err != nil {
			s.Forget(id)
			return Event{}, err
		}
		s.remember(updated)
		return updated, nil
	}
}

// Timer is the presentation timer (汇报计时) of the contestant on stage. It
// counts the time used against Seconds and runs on into overtime; it is
// stage state (kept by the store, so it survives a reload of the screen and
// a restart), and it never closes voting: that is the countdown (EndsAt).
//
// The host starts it: a contestant comes on stage with the timer set to the
// event's presentation time and stopped, because walking up and opening
// the slides is not presenting. Opening voting ends the presentation and
// pauses a running timer (the host may start it again). Pausing keeps the
// time used; reset sets it back to the full time.
type Timer struct {
	// Seconds is the time allowed; 0 means no timer.
	Seconds int `json:"seconds"`
	// StartedAt is when the timer last started running (Unix
	// milliseconds); 0 while it is stopped.
	StartedAt int64 `json:"startedAt,omitempty"`
	// Elapsed is the time used before StartedAt, in milliseconds.
	Elapsed int64 `json:"elapsed,omitempty"`
}

// TimerOp says what a timer command does.
type TimerOp string

const (
	TimerStart TimerOp = "start" // start or resume; Seconds, when given, sets the time allowed
	TimerPause TimerOp = "pause" // stop counting, keeping the time used
	TimerReset TimerOp = "reset" // stop, with no time used; Seconds, when given, sets the time allowed
)

// Running reports whether the timer counts.
func (t Timer) Running() bool { return t.StartedAt != 0 }

// Used returns the time used at now.
func (t Timer) Used(now time.Time) time.Duration {
	ms := t.Elapsed
	if t.Running() {
		ms += max(0, now.UnixMilli()-t.StartedAt)
	}
	return time.Duration(ms) * time.Millisecond
}

// paused returns the timer stopped at now, keeping the time used.
func (t Timer) paused(now time.Time) Timer {
	if t.Running() {
		t.Elapsed, t.StartedAt = t.Used(now).Milliseconds(), 0
	}
	return t
}

// Left returns the time left at now: negative in overtime.
func (t Timer) Left(now time.Time) time.Duration {
	return time.Duration(t.Seconds)*time.Second - t.Used(now)
}

// applyTimer returns the timer after a timer command, for the stage s
// (which must have a contestant on stage).
func (s *Stage) applyTimer(ev *Event, cmd Command, now time.Time) (Timer, error) {
	t := s.Timer
	if cmd.Seconds < 0 || cmd.Seconds > MaxCountdown {
		return t, Errorf(CodeInvalid, "a presentation lasts 0 to %d seconds", MaxCountdown)
	}
	switch cmd.Op {
	case TimerStart:
		if cmd.Seconds > 0 {
			t.Seconds = cmd.Seconds
		}
		if t.Seconds == 0 {
			t.Seconds = ev.PresentationSeconds
		}
		if t.Seconds == 0 {
			return s.Timer, Errorf(CodeInvalid, "set a presentation time first")
		}
		if t.Running() && cmd.Seconds == 0 {
			return s.Timer, Errorf(CodeInvalid, "the timer is running")
		}
		if !t.Running() {
			t.StartedAt = now.UnixMilli()
		}
	case TimerPause:
		if !t.Running() {
			return s.Timer, Errorf(CodeInvalid, "the timer is not running")
		}
		t = t.paused(now)
	case TimerReset:
		t.StartedAt, t.Elapsed = 0, 0
		if cmd.Seconds > 0 {
			t.Seconds = cmd.Seconds
		}
		if t.Seconds == 0 {
			t.Seconds = ev.PresentationSeconds
		}
	default:
		return s.Timer, Errorf(CodeInvalid, "timer: op %q: use start, pause or reset", Excerpt(string(cmd.Op), 30))
	}
	return t, nil
}
