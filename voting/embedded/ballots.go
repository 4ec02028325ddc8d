package embedded

// Ballots: casting (what a store checks of a ballot, atomically with
// recording: its id, the revision, the stage and the ticket; see
// voting.Store), reading them and the standings, and resetting a
// contestant.

import (
	"context"
	"maps"
	"time"

	"leitai/voting"
)

// CastBallot implements voting.Store: the ballot id first, then the
// revision, then whether voting is open, then the ticket, then the upsert.
func (s *Store) CastBallot(ctx context.Context, b voting.CountedBallot, revision int64) (voting.Receipt, error) {
	b.Scores = maps.Clone(b.Scores) // the store keeps it; the caller may not change it under us
	fp := b.Fingerprint()
	s.mu.Lock()
	if err := s.writableLocked(ctx); err != nil {
		s.mu.Unlock()
		return voting.Receipt{}, err
	}
	es := s.st.events[b.Event]
	if es == nil {
		s.mu.Unlock()
		return voting.Receipt{}, notFound(b.Event)
	}
	if used, ok := es.ids[b.ID]; ok {
		// The first cast may still be on its way to disk: answer only
		// once it is there.
		barrier := s.barrierLocked()
		s.mu.Unlock()
		if used.fp != fp {
			return voting.Receipt{}, voting.Errorf(voting.CodeConflict, "this ballot id was already used for another ballot")
		}
		if err := s.wait(ctx, barrier); err != nil {
			return voting.Receipt{}, err
		}
		return used.receipt(b.ID), nil
	}
	if err := s.checkBallotLocked(es, &b, revision); err != nil {
		s.mu.Unlock()
		return voting.Receipt{}, err
	}
	replaced := es.has(b.Voter, b.Contestant, b.Panel)
	rec := ballotRecord(&b, replaced)
	es.seal(b.Event, rec)
	batch, err := s.commitLocked(rec)
	s.mu.Unlock()
	if err == nil {
		err = s.wait(ctx, batch)
	}
	if err != nil {
		return voting.Receipt{}, err
	}
	return voting.Receipt{BallotID: b.ID, Contestant: b.Contestant, Panel: b.Panel,
		Score: b.Points(), Replaced: replaced, At: b.At, Code: voting.ReceiptCode(rec.AuditHash)}, nil
}

func (s *Store) checkBallotLocked(es *eventState, b *voting.CountedBallot, revision int64) error {
	if revision != es.ev.Revision {
		return voting.ErrStaleRevision
	}
	st := &es.stage
	if !st.VotingOpen(es.ev.VotingScope, b.Contestant, time.UnixMilli(b.At)) {
		switch {
		case st.Phase != voting.PhaseVoting:
			return voting.Errorf(voting.CodeClosed, "voting is not open right now")
		case st.EndsAt != 0 && b.At >= st.EndsAt:
			return voting.Errorf(voting.CodeClosed, "time is up: voting has closed")
		default:
			return voting.Errorf(voting.CodeClosed, "voting is open only for the contestant on stage")
		}
	}
	// The ids, contestant, panel and scores were checked (Event.Check)
	// against this revision, which the check above pins. (apply still
	// refuses a record that does not fit the event: that guards the
	// journal on replay, not the input.)
	if p, _ := es.ev.Panel(b.Panel); p.Tickets && !es.ballotHolds(b) {
		return voting.ErrNoTicket
	}
	return nil
}

// Ballots implements voting.Store.
func (s *Store) Ballots(_ context.Context, event string) ([]voting.CountedBallot, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	es, err := s.eventLocked(event)
	if err != nil {
		return nil, err
	}
	out := make([]voting.CountedBallot, 0, es.live)
	for _, mine := range es.voters {
		for _, b := range mine {
			out = append(out, cloneBallot(b))
		}
	}
	return out, nil
}

// VoterBallots implements voting.Store.
func (s *Store) VoterBallots(_ context.Context, event, voter string) ([]voting.CountedBallot, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	es, err := s.eventLocked(event)
	if err != nil {
		return nil, err
	}
	mine := es.voters[voter]
	out := make([]voting.CountedBallot, 0, len(mine))
	for _, b := range mine {
		out = append(out, cloneBallot(b))
	}
	return out, nil
}

// Standings implements voting.Store. It costs one pass over the live
// scores, which are kept sorted as ballots arrive.
func (s *Store) Standings(_ context.Context, event string) (voting.Standings, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	es, err := s.eventLocked(event)
	if err != nil {
		return voting.Standings{}, err
	}
	return es.standings(), nil
}

// ResetContestant implements voting.Store. The ids of the removed ballots
// stay used.
func (s *Store) ResetContestant(ctx context.Context, event, contestant string) (int, error) {
	s.mu.Lock()
	if err := s.writableLocked(ctx); err != nil {
		s.mu.Unlock()
		return 0, err
	}
	es := s.st.events[event]
	if es == nil {
		s.mu.Unlock()
		return 0, notFound(event)
	}
	if !es.contestants[contestant] {
		s.mu.Unlock()
		return 0, voting.Errorf(voting.CodeNotFound, "no contestant %q in this event", contestant)
	}
	n := es.countFor(contestant)
	if n == 0 {
		s.mu.Unlock()
		return 0, nil
	}
	rec := &record{Type: recReset, EventID: event, Contestant: contestant, At: time.Now().UnixMilli()}
	es.seal(event, rec)
	b, err := s.commitLocked(rec)
	s.mu.Unlock()
	if err == nil {
		err = s.wait(ctx, b)
	}
	if err != nil {
		return 0, err
	}
	return n, nil
}
