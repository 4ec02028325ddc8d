package embedded

import (
	"cmp"
	"context"
	"slices"

	"leitai/voting"
)

// CreateTickets implements voting.Store.
func (s *Store) CreateTickets(ctx context.Context, event string, tickets []voting.Ticket) error {
	s.mu.Lock()
	es, err := s.writableEventLocked(ctx, event)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	seen := make(map[string]bool, len(tickets))
	for _, t := range tickets {
		if _, ok := es.tickets[t.Code]; ok || seen[t.Code] {
			s.mu.Unlock()
			return voting.Errorf(voting.CodeConflict, "ticket code %s exists already", t.Code)
		}
		if !es.panels[t.Panel] || t.Voter != "" || t.Revoked || t.Seat < 0 {
			s.mu.Unlock()
			return voting.Errorf(voting.CodeInvalid, "a new ticket names a panel of the event and nothing else")
		}
		seen[t.Code] = true
	}
	return s.commitUnlock(ctx, &record{Type: recTicket, EventID: event, Tickets: tickets})
}

// Tickets implements voting.Store.
func (s *Store) Tickets(_ context.Context, event string) ([]voting.Ticket, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	es, err := s.eventLocked(event)
	if err != nil {
		return nil, err
	}
	out := make([]voting.Ticket, 0, len(es.tickets))
	for _, t := range es.tickets {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b voting.Ticket) int {
		return cmp.Or(cmp.Compare(a.Issued, b.Issued), cmp.Compare(a.Code, b.Code))
	})
	return out, nil
}

// ticketLocked finds a ticket to change, for a caller holding mu.
func (s *Store) ticketLocked(ctx context.Context, event, code string) (*eventState, *voting.Ticket, error) {
	es, err := s.writableEventLocked(ctx, event)
	if err != nil {
		return nil, nil, err
	}
	t := es.tickets[code]
	if t == nil {
		return nil, nil, voting.ErrNoSuchTicket
	}
	return es, t, nil
}

// ClaimTicket implements voting.Store.
func (s *Store) ClaimTicket(ctx context.Context, event, code, voter string, at int64) (voting.Ticket, error) {
	if !voting.ValidVoter(voter) {
		return voting.Ticket{}, voting.Errorf(voting.CodeInvalid, "voter id is malformed")
	}
	s.mu.Lock()
	es, t, err := s.ticketLocked(ctx, event, code)
	if err != nil {
		s.mu.Unlock()
		return voting.Ticket{}, err
	}
	if err := voting.CheckClaim(*t, voter, es.holders[voter+"|"+t.Panel]); err != nil || t.Voter == voter {
		// Held already by this voter: wait until the claim is durable.
		barrier := s.barrierLocked()
		held := *t
		s.mu.Unlock()
		if err != nil {
			return voting.Ticket{}, err
		}
		return held, s.wait(ctx, barrier)
	}
	held := *t
	held.Voter, held.Claimed = voter, at
	if err := s.commitUnlock(ctx, &record{Type: recClaim, EventID: event, Code: code, Voter: voter, At: at}); err != nil {
		return voting.Ticket{}, err
	}
	return held, nil
}

// RevokeTicket implements voting.Store.
func (s *Store) RevokeTicket(ctx context.Context, event, code string) (voting.Ticket, error) {
	s.mu.Lock()
	_, t, err := s.ticketLocked(ctx, event, code)
	if err != nil {
		s.mu.Unlock()
		return voting.Ticket{}, err
	}
	if t.Revoked {
		barrier := s.barrierLocked()
		held := *t
		s.mu.Unlock()
		return held, s.wait(ctx, barrier)
	}
	held := *t
	held.Revoked = true
	if err := s.commitUnlock(ctx, &record{Type: recRevoke, EventID: event, Code: code}); err != nil {
		return voting.Ticket{}, err
	}
	return held, nil
}

// ReleaseTicket implements voting.Store.
func (s *Store) ReleaseTicket(ctx context.Context, event, code string) (voting.Ticket, error) {
	s.mu.Lock()
	_, t, err := s.ticketLocked(ctx, event, code)
	if err != nil {
		s.mu.Unlock()
		return voting.Ticket{}, err
	}
	if t.Revoked {
		s.mu.Unlock()
		return voting.Ticket{}, voting.ErrTicketRevoked
	}
	if t.Voter == "" {
		barrier := s.barrierLocked()
		held := *t
		s.mu.Unlock()
		return held, s.wait(ctx, barrier)
	}
	held := *t
	held.Voter, held.Claimed = "", 0
	if err := s.commitUnlock(ctx, &record{Type: recFree, EventID: event, Code: code}); err != nil {
		return voting.Ticket{}, err
	}
	return held, nil
}

// VoterTickets implements voting.Store.
func (s *Store) VoterTickets(_ context.Context, event, voter string) ([]voting.Ticket, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	es, err := s.eventLocked(event)
	if err != nil {
		return nil, err
	}
	var out []voting.Ticket
	for _, p := range es.ev.Panels {
		if code, ok := es.holders[voter+"|"+p.ID]; ok {
			out = append(out, *es.tickets[code])
		}
	}
	return out, nil
}
