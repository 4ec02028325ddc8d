package voting

import (
	"context"
	"errors"
)

// IssueTickets makes n new tickets for a panel of the event (at most
// MaxTicketsPerCall at a time). Turning the panel's Tickets on is a
// separate event update, so tickets can be printed before the doors open.
func (s *Service) IssueTickets(ctx context.Context, event, panel string, n int) ([]Ticket, error) {
	if n < 1 || n > MaxTicketsPerCall {
		return nil, Errorf(CodeInvalid, "issue between 1 and %d tickets at a time", MaxTicketsPerCall)
	}
	ev, err := s.writable(ctx, event)
	if err != nil {
		return nil, err
	}
	if _, ok := ev.Panel(panel); !ok {
		return nil, Errorf(CodeNotFound, "no panel %q in this event", Excerpt(panel, 40))
	}
	now := s.now().UnixMilli()
	for attempt := 0; ; attempt++ {
		tickets := make([]Ticket, n)
		for i := range tickets {
			tickets[i] = Ticket{Code: NewTicketCode(), Panel: panel, Issued: now}
		}
		err := s.store.CreateTickets(ctx, event, tickets)
		// A clash of 48-bit random codes is all but impossible; if it
		// happens, draw them all again.
		if errors.Is(err, ErrConflict) && attempt < 2 {
			continue
		}
		if err != nil {
			return nil, err
		}
		return tickets, nil
	}
}

// Tickets returns the event's tickets.
func (s *Service) Tickets(ctx context.Context, event string) ([]Ticket, error) {
	return s.store.Tickets(ctx, event)
}

// ClaimTicket binds a ticket, typed or scanned, to the voter.
func (s *Service) ClaimTicket(ctx context.Context, event, code, voter string) (Ticket, error) {
	c := NormalizeTicketCode(code)
	if c == "" {
		return Ticket{}, ErrNoSuchTicket
	}
	return s.store.ClaimTicket(ctx, event, c, voter, s.now().UnixMilli())
}

// RevokeTicket revokes a ticket: its holder can vote no more.
func (s *Service) RevokeTicket(ctx context.Context, event, code string) (Ticket, error) {
	c := NormalizeTicketCode(code)
	if c == "" {
		return Ticket{}, ErrNoSuchTicket
	}
	return s.store.RevokeTicket(ctx, event, c)
}

// VoterTickets returns the tickets a voter holds.
func (s *Service) VoterTickets(ctx context.Context, event, voter string) ([]Ticket, error) {
	return s.store.VoterTickets(ctx, event, voter)
}

// MaxAuditPage bounds one read of the audit log.
const MaxAuditPage = 5000

// Audit returns a page of the event's audit log: entries after the given
// number, at most limit (capped at MaxAuditPage).
func (s *Service) Audit(ctx context.Context, event string, after int64, limit int) ([]AuditEntry, error) {
	if limit <= 0 || limit > MaxAuditPage {
		limit = MaxAuditPage
	}
	return s.store.Audit(ctx, event, after, limit)
}
