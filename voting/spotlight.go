package voting

import (
	"cmp"
	"context"
	"slices"
)

// The 亮分 (spotlight): once voting has closed for a contestant, the big
// screen shows each judges' seat's score under the seat's name, marks the
// ballots trimming dropped, then the panel's result and the final score.
// Before voting closes for that contestant no seat score leaves the
// server: Service.Spotlight refuses.

// A SeatScore is one seat's score for the spotlighted contestant.
type SeatScore struct {
	Seat int    `json:"seat"`
	Name string `json:"name"`
	// Scored is false for a seat that did not score (not counted).
	Scored bool    `json:"scored"`
	Score  float64 `json:"score,omitempty"`
	// Dropped is "high" or "low" for a score trimming left out.
	Dropped string `json:"dropped,omitempty"`
}

// A SpotlightPanel is one panel's part of the spotlight: a panel with
// seats lists them; the others show their result and count only.
type SpotlightPanel struct {
	Panel  string      `json:"panel"`
	Name   string      `json:"name"`
	Mode   ScoringMode `json:"mode"`
	Trim   int         `json:"trim"`
	Seats  []SeatScore `json:"seats,omitempty"`
	Count  int         `json:"count"`
	Result float64     `json:"result"`
}

// Spotlight is what the screen shows in the 亮分 of one contestant.
type Spotlight struct {
	Contestant string           `json:"contestant"`
	Name       string           `json:"name"`
	Panels     []SpotlightPanel `json:"panels"`
	Ballots    int              `json:"ballots"`
	Final      float64          `json:"final"`
	Decimals   int              `json:"decimals"`
}

// ErrSpotlightOpen refuses the seats' scores of a contestant still voted on.
var ErrSpotlightOpen = &Error{Code: CodeClosed, Message: "voting is still open for this contestant: no scores are shown before it closes"}

// Spotlight returns the 亮分 of a contestant ("" for the stage's
// Spotlight, else the one on stage). It is refused while voting is open for that contestant.
func (s *Service) Spotlight(ctx context.Context, event, contestant string) (Spotlight, error) {
	ev, err := s.Event(ctx, event)
	if err != nil {
		return Spotlight{}, err
	}
	st, err := s.store.Stage(ctx, event)
	if err != nil {
		return Spotlight{}, err
	}
	if contestant == "" {
		contestant = cmp.Or(st.Spotlight, st.Current)
	}
	c, _, ok := ev.Contestant(contestant)
	if !ok {
		return Spotlight{}, Errorf(CodeNotFound, "no contestant to show: close voting or press 亮分 first")
	}
	if st.VotingOpen(ev.VotingScope, c.ID, s.now()) {
		return Spotlight{}, ErrSpotlightOpen
	}
	ballots, err := s.store.Ballots(ctx, event)
	if err != nil {
		return Spotlight{}, err
	}
	var tickets []Ticket
	if ev.HasSeats() {
		if tickets, err = s.store.Tickets(ctx, event); err != nil {
			return Spotlight{}, err
		}
	}
	return SpotlightOf(&ev, c, ballots, tickets), nil
}

// SpotlightOf builds the 亮分 of contestant c from the event's live ballots
// and tickets. The panel results and the final score are Score's.
func SpotlightOf(ev *Event, c Contestant, ballots []CountedBallot, tickets []Ticket) Spotlight {
	seatOf := make(map[string]int, len(tickets)) // seat voter → seat number
	for _, t := range tickets {
		if t.Seat > 0 {
			seatOf[SeatVoter(t.Code)] = t.Seat
		}
	}
	mine := make(map[string][]CountedBallot) // panel → this contestant's ballots
	for _, b := range ballots {
		if b.Contestant == c.ID {
			mine[b.Panel] = append(mine[b.Panel], b)
		}
	}
	row := Score(ev, c, func(panel string) []int64 {
		us := make([]int64, 0, len(mine[panel]))
		for _, b := range mine[panel] {
			us = append(us, b.Units)
		}
		slices.Sort(us)
		return us
	})
	sp := Spotlight{Contestant: c.ID, Name: c.Name, Ballots: row.Ballots, Final: row.Final, Decimals: ev.Rules.Decimals}
	for i, p := range ev.Panels {
		rule := ev.PanelRule(i)
		mode := ModeTrimmed
		switch {
		case rule.Sum:
			mode = ModeSum
		case rule.Trim == 0:
			mode = ModeAverage
		}
		pp := SpotlightPanel{Panel: p.ID, Name: p.Name, Mode: mode, Trim: rule.Trim, Count: row.Panels[i].Count, Result: row.Panels[i].Average}
		if len(p.Seats) > 0 {
			pp.Seats = seatScores(&p, rule, mine[p.ID], seatOf)
		}
		sp.Panels = append(sp.Panels, pp)
	}
	return sp
}

// seatScores lists a seat panel's seats with their scores and marks the
// ones trimming dropped: the Trim lowest and Trim highest, equal scores in
// seat order (which of two equal scores is struck out changes no result).
func seatScores(p *Panel, rule PanelRule, ballots []CountedBallot, seatOf map[string]int) []SeatScore {
	out := make([]SeatScore, len(p.Seats))
	latest := make([]int64, len(p.Seats)) // time of the ballot shown per seat
	for i, name := range p.Seats {
		out[i] = SeatScore{Seat: i + 1, Name: name}
	}
	var scored []int // indexes of seats with a score
	for _, b := range ballots {
		n := seatOf[b.Voter]
		if n < 1 || n > len(out) {
			continue
		}
		i := n - 1
		if !out[i].Scored {
			scored = append(scored, i)
		}
		if !out[i].Scored || b.At >= latest[i] {
			out[i].Scored, out[i].Score, latest[i] = true, b.Points(), b.At
		}
	}
	slices.SortFunc(scored, func(a, b int) int { return cmp.Or(cmp.Compare(out[a].Score, out[b].Score), a-b) })
	if TrimDropped(len(scored), rule.Trim) > 0 {
		for k := range rule.Trim {
			out[scored[k]].Dropped = "low"
			out[scored[len(scored)-1-k]].Dropped = "high"
		}
	}
	return out
}
