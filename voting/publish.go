// After the event: an ended event is read-only, and publishing its results
// is what a host still does then.

package voting

import (
	"context"
	"errors"
)

// EndedMessage is the message of every refusal because the event has ended.
const EndedMessage = "the event has ended; it is read-only"

// errEnded is what every change to an ended event gets: closed, with a
// message a host understands.
func errEnded() *Error { return Errorf(CodeClosed, EndedMessage) }

// writable returns the stored event (not the cached copy) when its stage
// still allows changes, and a closed error once the event has ended.
func (s *Service) writable(ctx context.Context, id string) (Event, error) {
	if !ValidID(id) {
		return Event{}, errNoEvent(id)
	}
	st, err := s.store.Stage(ctx, id)
	if err != nil {
		return Event{}, err
	}
	if st.Phase == PhaseEnded {
		return Event{}, errEnded()
	}
	return s.store.Event(ctx, id)
}

// explainClosed turns the store's "voting is not open" into "the event has
// ended" when that is the reason, so that a phone can say so. It reads the
// stage only on that refusal, never for an accepted ballot.
func (s *Service) explainClosed(ctx context.Context, id string, err error) error {
	if ErrorCode(err) != CodeClosed {
		return err
	}
	if st, serr := s.store.Stage(ctx, id); serr == nil && st.Phase == PhaseEnded {
		return &Error{Code: CodeClosed, Message: EndedMessage + ": no more ballots are taken", Err: err}
	}
	return err
}

// SetPublished makes the event's final results readable without the host
// key (true) or hides them again (false). Unlike UpdateEvent it works after
// the event has ended: publishing is what a host does then. While the
// reveal is under way, publishing would show the order before the screen
// does: it is refused (confirm) unless confirm says the host means it.
func (s *Service) SetPublished(ctx context.Context, id string, published, confirm bool) (Event, error) {
	if !ValidID(id) {
		return Event{}, errNoEvent(id)
	}
	if published && !confirm {
		if err := s.checkRevealDone(ctx, id); err != nil {
			return Event{}, err
		}
	}
	for attempt := 0; ; attempt++ {
		ev, err := s.store.Event(ctx, id)
		if err != nil {
			return Event{}, err
		}
		if ev.Published == published {
			s.remember(ev)
			return ev, nil
		}
		ev.Published = published
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

// checkRevealDone refuses (confirm) while the reveal has places to show.
func (s *Service) checkRevealDone(ctx context.Context, id string) error {
	st, err := s.store.Stage(ctx, id)
	if err != nil || st.Phase != PhaseReveal {
		return err
	}
	sd, err := s.store.Standings(ctx, id)
	if err != nil {
		return err
	}
	if RevealUnderWay(&st, &sd) {
		return Errorf(CodeConfirm, "the reveal is under way (%d of %d places shown): publishing the results now shows the order before the screen does; confirm to publish anyway",
			st.Revealed, RevealSteps(&sd))
	}
	return nil
}
