package report

import (
	"leitai/voting"
)

// A SeatSheet (评委评分表) is one judges' seat's scores of every contestant,
// in stage order, for the judge to sign: offices keep them on file. Only
// the host's copy of the results carries them (Public drops them).
type SeatSheet struct {
	Panel     string     `json:"panel"`
	PanelName string     `json:"panelName"`
	Seat      int        `json:"seat"`
	Name      string     `json:"name"`
	Rows      []SeatMark `json:"rows"`
}

// A SeatMark is one contestant's score by one seat; Scored is false when
// the seat did not score it.
type SeatMark struct {
	Contestant string  `json:"contestant"`
	Name       string  `json:"name"`
	Order      int     `json:"order"`
	Scored     bool    `json:"scored"`
	Score      float64 `json:"score,omitempty"`
}

// AddSeatSheets adds one sheet per judges' seat of the event, from its live
// ballots and tickets (which say whose seat a ballot is).
func (r *Report) AddSeatSheets(ev *voting.Event, ballots []voting.CountedBallot, tickets []voting.Ticket) {
	type key struct {
		panel      string
		seat       int
		contestant string
	}
	seatOf := make(map[string]int, len(tickets))
	for _, t := range tickets {
		if t.Seat > 0 {
			seatOf[voting.SeatVoter(t.Code)] = t.Seat
		}
	}
	marks := make(map[key]voting.CountedBallot)
	for _, b := range ballots {
		n := seatOf[b.Voter]
		if n == 0 {
			continue
		}
		k := key{b.Panel, n, b.Contestant}
		if old, ok := marks[k]; !ok || b.At >= old.At {
			marks[k] = b
		}
	}
	for _, p := range ev.Panels {
		for i, name := range p.Seats {
			sh := SeatSheet{Panel: p.ID, PanelName: p.Name, Seat: i + 1, Name: name}
			for j, c := range ev.Contestants {
				m := SeatMark{Contestant: c.ID, Name: c.Name, Order: j + 1}
				if b, ok := marks[key{p.ID, i + 1, c.ID}]; ok {
					m.Scored, m.Score = true, b.Points()
				}
				sh.Rows = append(sh.Rows, m)
			}
			r.SeatSheets = append(r.SeatSheets, sh)
		}
	}
}
