package voting

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Service is the domain's front door: it validates input against the event
// and the rules, then asks the Store to record it. The hub and the HTTP API
// call it; it knows nothing of either.
type Service struct {
	store Store
	now   func() time.Time

	mu     sync.RWMutex
	events map[string]Event // cached; ballots carry the revision they were checked against
}

// NewService returns a Service over store. now may be nil (time.Now).
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now, events: make(map[string]Event)}
}

// Now returns the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// CreateEvent normalizes, validates and stores a new event. An event made
// this way is not from an event file: ev.Source is dropped (only
// ApplyEventFile records one).
func (s *Service) CreateEvent(ctx context.Context, ev Event) (Event, error) {
	ev.Source = EventSource{}
	ev.Normalize()
	if err := ev.Validate(); err != nil {
		return Event{}, err
	}
	return s.createEvent(ctx, ev)
}

func (s *Service) createEvent(ctx context.Context, ev Event) (Event, error) {
	if err := s.placeInSeries(ctx, &ev); err != nil {
		return Event{}, err
	}
	created, err := s.store.CreateEvent(ctx, ev)
	if err != nil {
		return Event{}, err
	}
	s.remember(created)
	return created, nil
}

// UpdateEvent normalizes, validates and stores a changed event; ev.Revision
// must be the revision the caller read. It keeps the stored Published and
// Source, which only SetPublished and ApplyEventFile change.
func (s *Service) UpdateEvent(ctx context.Context, ev Event) (Event, error) {
	ev.Source = EventSource{} // whatever the caller sent: the stored one stays
	ev.Normalize()
	if err := ev.Validate(); err != nil {
		return Event{}, err
	}
	return s.updateEvent(ctx, ev)
}

// updateEvent stores a normalized, valid event over the stored one, which
// must still be writable; ev.Source is the caller's to set (ApplyEventFile)
// or the stored one is kept.
func (s *Service) updateEvent(ctx context.Context, ev Event) (Event, error) {
	cur, err := s.writable(ctx, ev.ID)
	if err != nil {
		return Event{}, err
	}
	ev.Published = cur.Published // only SetPublished changes it
	if ev.Source.Digest == "" {
		ev.Source = cur.Source // only ApplyEventFile changes it
	}
	ev.keepComments(&cur) // only SetComment changes them
	if ev.Series != cur.Series || ev.Round != cur.Round {
		if err := s.placeInSeries(ctx, &ev); err != nil {
			return Event{}, err
		}
	}
	updated, err := s.store.UpdateEvent(ctx, ev)
	if err != nil {
		s.Forget(ev.ID)
		return Event{}, err
	}
	s.remember(updated)
	return updated, nil
}

// Event returns an event, from the cache when it has it.
func (s *Service) Event(ctx context.Context, id string) (Event, error) {
	s.mu.RLock()
	ev, ok := s.events[id]
	s.mu.RUnlock()
	if ok {
		return ev, nil
	}
	return s.reload(ctx, id)
}

// Forget drops a cached event, e.g. when another instance changed it.
func (s *Service) Forget(id string) {
	s.mu.Lock()
	delete(s.events, id)
	s.mu.Unlock()
}

func (s *Service) reload(ctx context.Context, id string) (Event, error) {
	if !ValidID(id) {
		return Event{}, errNoEvent(id)
	}
	ev, err := s.store.Event(ctx, id)
	if err != nil {
		return Event{}, err
	}
	s.remember(ev)
	return ev, nil
}

func (s *Service) remember(ev Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.events[ev.ID]; !ok || old.Revision <= ev.Revision {
		s.events[ev.ID] = ev
	}
}

// DeleteEvent removes an event and everything in it.
func (s *Service) DeleteEvent(ctx context.Context, id string) error {
	defer s.Forget(id)
	return s.store.DeleteEvent(ctx, id)
}

// Stage returns the event's stage.
func (s *Service) Stage(ctx context.Context, id string) (Stage, error) {
	return s.store.Stage(ctx, id)
}

// Command applies a host command to the stage. A concurrent change by
// another host (or instance) is retried on the fresh stage, so two hosts
// pressing "next" move the stage twice, never zero times, unless the command
// names the version it was meant for (IfVersion).
func (s *Service) Command(ctx context.Context, id string, cmd Command) (Stage, error) {
	for attempt := 0; ; attempt++ {
		ev, err := s.Event(ctx, id)
		if err != nil {
			return Stage{}, err
		}
		cur, err := s.store.Stage(ctx, id)
		if err != nil {
			return Stage{}, err
		}
		if cmd.IfVersion != 0 && cur.Version != cmd.IfVersion {
			return cur, Errorf(CodeConflict, "the stage changed meanwhile (now version %d); look again", cur.Version)
		}
		steps, err := s.revealSteps(ctx, id, cmd.Action)
		if err != nil {
			return Stage{}, err
		}
		next, err := cur.Apply(&ev, cmd, s.now(), steps)
		if err != nil {
			return cur, err
		}
		err = s.store.SetStage(ctx, id, next)
		if err == nil {
			return next, nil
		}
		if !errors.Is(err, ErrConflict) || attempt >= 5 {
			return Stage{}, err
		}
		s.Forget(id) // the event may have changed too
	}
}

// revealSteps reads the number of reveal steps from the standings when the
// action needs it (reveal), and answers 0 without a store read otherwise.
func (s *Service) revealSteps(ctx context.Context, id string, a Action) (int, error) {
	if a != ActionReveal && a != ActionSeason {
		return 0, nil
	}
	sd, err := s.store.Standings(ctx, id)
	if err != nil {
		return 0, err
	}
	return RevealSteps(&sd), nil
}

// Cast checks a ballot (Event.Check: ids, contestant, panel and its key,
// scores) against the event and records it. The store judges, atomically
// with recording, what can change meanwhile: the stage, the event's
// revision, the voter's ticket and whether the ballot id was used. The
// returned receipt carries the score that counts.
func (s *Service) Cast(ctx context.Context, req CastRequest) (Receipt, error) {
	for attempt := 0; ; attempt++ {
		ev, err := s.Event(ctx, req.Event)
		if err != nil {
			return Receipt{}, err
		}
		cb, err := ev.Check(req)
		if err != nil {
			return Receipt{}, err
		}
		if err := s.seatBallot(ctx, &ev, &cb); err != nil {
			return Receipt{}, err
		}
		cb.At = s.now().UnixMilli()
		r, err := s.store.CastBallot(ctx, cb, ev.Revision)
		if errors.Is(err, ErrStaleRevision) && attempt < 3 {
			if _, err := s.reload(ctx, req.Event); err != nil {
				return Receipt{}, err
			}
			continue
		}
		return r, s.explainClosed(ctx, req.Event, err)
	}
}

// Standings returns the event's standings.
func (s *Service) Standings(ctx context.Context, id string) (Standings, error) {
	return s.store.Standings(ctx, id)
}

// VoterBallots returns a voter's live ballots, with those of the judges'
// seat the voter's device holds (also those cast from an earlier device).
func (s *Service) VoterBallots(ctx context.Context, id, voter string) ([]CountedBallot, error) {
	own, err := s.store.VoterBallots(ctx, id, voter)
	if err != nil {
		return nil, err
	}
	if ev, err := s.Event(ctx, id); err != nil || !ev.HasSeats() {
		return own, err
	}
	held, err := s.store.VoterTickets(ctx, id, voter)
	if err != nil {
		return nil, err
	}
	for _, t := range held {
		if t.Seat == 0 || t.Revoked {
			continue
		}
		seat, err := s.store.VoterBallots(ctx, id, SeatVoter(t.Code))
		if err != nil {
			return nil, err
		}
		own = append(own, seat...)
	}
	return own, nil
}

// ResetContestant removes every ballot for a contestant. confirm must repeat
// the contestant's id: the host's page asks before it sends.
func (s *Service) ResetContestant(ctx context.Context, id, contestant, confirm string) (int, error) {
	ev, err := s.Event(ctx, id)
	if err != nil {
		return 0, err
	}
	if _, _, ok := ev.Contestant(contestant); !ok {
		return 0, Errorf(CodeNotFound, "no contestant %q in this event", Excerpt(contestant, 40))
	}
	if confirm != contestant {
		return 0, Errorf(CodeInvalid, "to reset, confirm with the contestant's id %q", contestant)
	}
	if _, err := s.writable(ctx, id); err != nil {
		return 0, err
	}
	return s.store.ResetContestant(ctx, id, contestant)
}

// errNoEvent is the answer about an event id that names no event.
func errNoEvent(id string) *Error { return Errorf(CodeNotFound, "no event %q", Excerpt(id, 40)) }
