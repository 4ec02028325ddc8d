package voting

import (
	"context"
	"errors"
	"slices"
)

// CreateSeries normalizes, validates and stores a new series.
func (s *Service) CreateSeries(ctx context.Context, se Series) (Series, error) {
	se.Normalize()
	if err := se.Validate(); err != nil {
		return Series{}, err
	}
	return s.store.CreateSeries(ctx, se)
}

// UpdateSeries normalizes, validates and stores a changed series;
// se.Revision must be the revision the caller read.
func (s *Service) UpdateSeries(ctx context.Context, se Series) (Series, error) {
	se.Normalize()
	if err := se.Validate(); err != nil {
		return Series{}, err
	}
	return s.store.UpdateSeries(ctx, se)
}

// Series returns a series.
func (s *Service) Series(ctx context.Context, id string) (Series, error) {
	if !ValidID(id) {
		return Series{}, errNoSeries(id)
	}
	return s.store.Series(ctx, id)
}

// SeriesList returns every series, ordered by id.
func (s *Service) SeriesList(ctx context.Context) ([]Series, error) {
	return s.store.SeriesList(ctx)
}

func errNoSeries(id string) *Error {
	if !ValidID(id) {
		return Errorf(CodeNotFound, "no such series")
	}
	return Errorf(CodeNotFound, "no series %q", id)
}

// RoundEvent is one event of a series with its stage: whether it counts
// in the season table yet.
type RoundEvent struct {
	Event string `json:"event"`
	Title string `json:"title"`
	Round int    `json:"round"`
	Name  string `json:"name"` // 第一轮 …
	Phase Phase  `json:"phase"`
	// Counts: the round's reveal has begun, so its finals are in the
	// season table (RoundCounts).
	Counts    bool `json:"counts"`
	Published bool `json:"published"`
}

// Rounds returns the events of a series in round order with their stage.
func (s *Service) Rounds(ctx context.Context, series string) ([]RoundEvent, error) {
	evs, err := s.roundEvents(ctx, series)
	if err != nil {
		return nil, err
	}
	out := make([]RoundEvent, 0, len(evs))
	for _, ev := range evs {
		st, err := s.store.Stage(ctx, ev.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, RoundEvent{Event: ev.ID, Title: ev.Title, Round: ev.Round, Name: RoundName(ev.Round),
			Phase: st.Phase, Counts: RoundCounts(&st), Published: ev.Published})
	}
	return out, nil
}

// roundEvents returns the stored events of a series, in round order.
func (s *Service) roundEvents(ctx context.Context, series string) ([]Event, error) {
	evs, err := s.store.Events(ctx)
	if err != nil {
		return nil, err
	}
	evs = slices.DeleteFunc(evs, func(ev Event) bool { return ev.Series != series })
	slices.SortStableFunc(evs, func(a, b Event) int { return a.Round - b.Round })
	return evs, nil
}

// SeasonTable reads a series and its counted rounds up to round upTo (0:
// every round) and computes the season table. Each round's standings are
// read on their own (on Redis Cluster the rounds live on different slots);
// counted rounds no longer take ballots, so the reads need no common
// snapshot.
func (s *Service) SeasonTable(ctx context.Context, series string, upTo int) (Season, error) {
	se, err := s.Series(ctx, series)
	if err != nil {
		return Season{}, err
	}
	evs, err := s.roundEvents(ctx, series)
	if err != nil {
		return Season{}, err
	}
	var rounds []SeasonRound
	for i := range evs {
		ev := &evs[i]
		if upTo > 0 && ev.Round > upTo {
			continue
		}
		st, err := s.store.Stage(ctx, ev.ID)
		if err != nil {
			return Season{}, err
		}
		if !RoundCounts(&st) {
			continue
		}
		sd, err := s.store.Standings(ctx, ev.ID)
		if err != nil {
			return Season{}, err
		}
		rounds = append(rounds, SeasonRound{Event: ev, Standings: &sd})
	}
	return SeasonTable(&se, rounds)
}

// placeInSeries checks the series and round of an event about to be
// stored: the series must exist, a round of 0 gets the next free number,
// and no other event of the series may have the same round. (Across
// Redis Cluster slots this check is not atomic with the write; two hosts
// racing for one round number make the season table report the clash.)
func (s *Service) placeInSeries(ctx context.Context, ev *Event) error {
	if ev.Series == "" {
		return nil
	}
	if _, err := s.Series(ctx, ev.Series); err != nil {
		if errors.Is(err, ErrNotFound) {
			return Errorf(CodeInvalid, "no series %q: create the series first", ev.Series)
		}
		return err
	}
	evs, err := s.roundEvents(ctx, ev.Series)
	if err != nil {
		return err
	}
	last := 0
	for _, other := range evs {
		if other.ID == ev.ID {
			continue
		}
		last = max(last, other.Round)
		if ev.Round != 0 && other.Round == ev.Round {
			return Errorf(CodeConflict, "%s of series %q is already the event %q; choose another round", RoundName(ev.Round), ev.Series, other.ID)
		}
	}
	if ev.Round == 0 {
		if last >= MaxRounds {
			return Errorf(CodeInvalid, "series %q has its %d rounds", ev.Series, MaxRounds)
		}
		ev.Round = last + 1
	}
	return nil
}

// nextRound is the round after the last one of src's series (0 when src
// is in no series).
func (s *Service) nextRound(ctx context.Context, src *Event) (int, error) {
	if src.Series == "" {
		return 0, nil
	}
	evs, err := s.roundEvents(ctx, src.Series)
	if err != nil {
		return 0, err
	}
	last := src.Round
	for _, ev := range evs {
		last = max(last, ev.Round)
	}
	if last >= MaxRounds {
		return 0, Errorf(CodeInvalid, "series %q has its %d rounds", src.Series, MaxRounds)
	}
	return last + 1, nil
}
