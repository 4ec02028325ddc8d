package voting

import (
	"context"
	"errors"
	"slices"
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

// CloneEvent makes a new event with the contestants (with their themes and
// presenters), groups, panels (with their keys), rules, voting scope and
// presentation time of the event from: no ballots, no leader's comments (they
// were about that day), a fresh stage, not published. An empty title keeps
// the old one. An event of a series makes the series' next round, and an
// empty title then names that round (第一轮 → 第二轮, see RoundTitle).
func (s *Service) CloneEvent(ctx context.Context, from, id, title string) (Event, error) {
	if !ValidID(from) {
		return Event{}, errNoEvent(from)
	}
	src, err := s.store.Event(ctx, from)
	if err != nil {
		return Event{}, err
	}
	round, err := s.nextRound(ctx, &src)
	if err != nil {
		return Event{}, err
	}
	if title == "" {
		title = RoundTitle(src.Title, src.Round, round)
	}
	rules := src.Rules
	rules.Criteria = slices.Clone(src.Rules.Criteria)
	contestants := slices.Clone(src.Contestants)
	for i := range contestants {
		contestants[i].Comment = ""
	}
	return s.CreateEvent(ctx, Event{
		ID:                  id,
		Title:               title,
		Contestants:         contestants,
		Panels:              slices.Clone(src.Panels),
		Rules:               rules,
		VotingScope:         src.VotingScope,
		PresentationSeconds: src.PresentationSeconds,
		Series:              src.Series,
		Round:               round,
	})
}
