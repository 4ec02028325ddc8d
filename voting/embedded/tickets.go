package embedded

import (
	"cmp"
	"context"
	"slices"

	"leitai/voting"
)

// eventLocked returns an event's state to a caller holding mu (to read or
// write, as readable says).
func (s *Store) eventLocked(event string) (*eventState, error) {
	if err := s.readableLocked(); err != nil {
		return nil, err
	}
	if es := s.st.events[event]; es != nil {
		return es, nil
	}
	return nil, notFound(event)
}

// writableEventLocked is eventLocked for a caller about to change it.
func (s *Store) writableEventLocked(ctx context.Context, event string) (*eventState, error) {
	if err := s.writableLocked(ctx); err != nil {
		return nil, err
	}
	return s.eventLocked(event)
}

// commitUnlock commits r, releases mu and waits until r is durable.
func (s *Store) commitUnlock(ctx context.Context, r *record) error {
	b, err := s.commitLocked(r)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.wait(ctx, b)
}

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
	return s.commitUnlock(ctx, &record{T: recTicket, E: event, Tk: tickets})
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
	if err := s.commitUnlock(ctx, &record{T: recClaim, E: event, K: code, V: voter, A: at}); err != nil {
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
	if err := s.commitUnlock(ctx, &record{T: recRevoke, E: event, K: code}); err != nil {
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
	if err := s.commitUnlock(ctx, &record{T: recFree, E: event, K: code}); err != nil {
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

// Audit implements voting.Store.
func (s *Store) Audit(_ context.Context, event string, after int64, limit int) ([]voting.AuditEntry, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	es, err := s.eventLocked(event)
	if err != nil {
		return nil, err
	}
	after = max(after, 0)
	if after >= int64(len(es.audit)) || limit <= 0 {
		return []voting.AuditEntry{}, nil
	}
	end := min(int64(len(es.audit)), after+int64(limit))
	return slices.Clone(es.audit[after:end]), nil
}
