package voting

import (
	"context"
	"errors"
)

// seatBallot makes cb a seat's ballot when its panel has seats: the voter
// becomes the seat (SeatVoter of the ticket the device holds) and the
// device is kept for the store's check. A device without a seat's ticket
// of the panel is refused (ErrNoTicket) before the store is asked.
func (s *Service) seatBallot(ctx context.Context, ev *Event, cb *CountedBallot) error {
	p, _ := ev.Panel(cb.Panel)
	if len(p.Seats) == 0 {
		return nil
	}
	held, err := s.store.VoterTickets(ctx, ev.ID, cb.Voter)
	if err != nil {
		return err
	}
	for _, t := range held {
		if t.Panel == cb.Panel && t.Seat > 0 && !t.Revoked {
			cb.Device, cb.Voter = cb.Voter, SeatVoter(t.Code)
			return nil
		}
	}
	return ErrNoTicket
}

// IssueSeats makes one ticket for each seat of a panel that has no
// unrevoked ticket yet (all of them the first time; a seat whose ticket was
// revoked gets a new one) and returns the tickets made.
func (s *Service) IssueSeats(ctx context.Context, event, panel string) ([]Ticket, error) {
	ev, err := s.writable(ctx, event)
	if err != nil {
		return nil, err
	}
	p, ok := ev.Panel(panel)
	if !ok {
		return nil, Errorf(CodeNotFound, "no panel %q in this event", Excerpt(panel, 40))
	}
	if len(p.Seats) == 0 {
		return nil, Errorf(CodeInvalid, "the panel %q has no seats", p.Name)
	}
	existing, err := s.store.Tickets(ctx, event)
	if err != nil {
		return nil, err
	}
	covered := make(map[int]bool)
	for _, t := range existing {
		if t.Panel == panel && t.Seat > 0 && !t.Revoked {
			covered[t.Seat] = true
		}
	}
	now := s.now().UnixMilli()
	for attempt := 0; ; attempt++ {
		var tickets []Ticket
		for n := 1; n <= len(p.Seats); n++ {
			if !covered[n] {
				tickets = append(tickets, Ticket{Code: NewTicketCode(), Panel: panel, Issued: now, Seat: n})
			}
		}
		if len(tickets) == 0 {
			return []Ticket{}, nil
		}
		err := s.store.CreateTickets(ctx, event, tickets)
		if errors.Is(err, ErrConflict) && attempt < 2 {
			continue // a clash of random codes: draw again
		}
		if err != nil {
			return nil, err
		}
		return tickets, nil
	}
}

// ReleaseTicket unbinds a ticket from the device that holds it, so that
// another device can claim it (a judge whose phone died scans the same
// seat ticket again). The seat's ballots stay the seat's.
func (s *Service) ReleaseTicket(ctx context.Context, event, code string) (Ticket, error) {
	c := NormalizeTicketCode(code)
	if c == "" {
		return Ticket{}, ErrNoSuchTicket
	}
	if _, err := s.writable(ctx, event); err != nil {
		return Ticket{}, err
	}
	return s.store.ReleaseTicket(ctx, event, c)
}

// A SeatStatus is one judges' seat as the host's control page shows it.
type SeatStatus struct {
	Panel string `json:"panel"`
	Seat  int    `json:"seat"`
	Name  string `json:"name"`
	// Code is the seat's ticket ("" before seats are issued); Claimed says
	// a device holds it.
	Code    string `json:"code,omitempty"`
	Claimed bool   `json:"claimed"`
	// Scored lists the contestants the seat has a live ballot for (not the
	// scores: the control page may be seen by others).
	Scored []string `json:"scored"`
}

// Seats returns the status of every judges' seat of the event, panel by
// panel in seat order.
func (s *Service) Seats(ctx context.Context, event string) ([]SeatStatus, error) {
	ev, err := s.Event(ctx, event)
	if err != nil {
		return nil, err
	}
	tickets, err := s.store.Tickets(ctx, event)
	if err != nil {
		return nil, err
	}
	ballots, err := s.store.Ballots(ctx, event)
	if err != nil {
		return nil, err
	}
	scored := make(map[string][]string) // seat voter → contestants
	for _, b := range ballots {
		if _, ok := SeatCode(b.Voter); ok {
			scored[b.Voter] = append(scored[b.Voter], b.Contestant)
		}
	}
	var out []SeatStatus
	for _, p := range ev.Panels {
		for i, name := range p.Seats {
			st := SeatStatus{Panel: p.ID, Seat: i + 1, Name: name, Scored: []string{}}
			for _, t := range tickets {
				if t.Panel == p.ID && t.Seat == i+1 && !t.Revoked {
					st.Code, st.Claimed = t.Code, t.Voter != ""
					st.Scored = append(st.Scored, scored[SeatVoter(t.Code)]...)
				}
			}
			out = append(out, st)
		}
	}
	return out, nil
}
