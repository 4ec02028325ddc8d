package voting

import (
	"context"
	"slices"
)

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
