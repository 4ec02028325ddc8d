package voting

import (
	"cmp"
	"math"
	"slices"
)

// A SeasonRound is one round's part of the season table: the event (its
// contestants' names, groups and running order, and its rules' decimals)
// and its standings.
type SeasonRound struct {
	Event     *Event
	Standings *Standings
}

// Season is the season table (年度累计排名) of a series after its latest
// counted round.
type Season struct {
	Series  string      `json:"series"`
	Name    string      `json:"name"`
	Rule    SeasonRule  `json:"rule"`
	Missed  MissedRound `json:"missed"`
	Weights []float64   `json:"weights,omitempty"`
	// Decimals is the precision of the combined score: the largest of
	// the rounds' decimals (2 before any round counts).
	Decimals int `json:"decimals"`
	// Rounds are the rounds in the table, in round order.
	Rounds []SeasonRoundInfo `json:"rounds"`
	// Rows: ranked units first by rank, then units without any final.
	Rows []SeasonRow `json:"rows"`
}

// SeasonRoundInfo names one round of the table.
type SeasonRoundInfo struct {
	Round  int     `json:"round"`
	Name   string  `json:"name"` // 第一轮 …
	Event  string  `json:"event"`
	Title  string  `json:"title"`
	Weight float64 `json:"weight"`
}

// SeasonRow is one unit's line of the season table.
type SeasonRow struct {
	// Contestant is the unit's id in the season (after Series.Renamed);
	// Name and Group are those of the latest round it took part in.
	Contestant string `json:"contestant"`
	Name       string `json:"name"`
	Group      string `json:"group,omitempty"`
	// Finals has one entry per round of the table, in round order.
	Finals []SeasonFinal `json:"finals"`
	// Played counts the rounds in which the unit has a final score.
	Played int `json:"played"`
	// Combined is the season score, rounded half up to Season.Decimals;
	// 0 and unranked (Rank 0) when the unit has no final in any round.
	Combined  float64 `json:"combined"`
	Rank      int     `json:"rank"`
	GroupRank int     `json:"groupRank"`
	// PrevRank is the unit's rank in the table before the latest round
	// (0: it had none, or the table has one round). Move is the places it
	// gained since (PrevRank − Rank, negative when it fell); 0 when either
	// rank is 0.
	PrevRank int `json:"prevRank"`
	Move     int `json:"move"`
	// PrevCombined is the combined score in the table before the latest
	// round (0 when it had none): the screen counts up from it.
	PrevCombined float64 `json:"prevCombined"`
}

// SeasonFinal is a unit's result in one round.
type SeasonFinal struct {
	// Played is false when the unit has no final in the round: it did not
	// take part, or got no ballots. Final and Rank are then 0.
	Played bool    `json:"played"`
	Final  float64 `json:"final"`
	Rank   int     `json:"rank"`
}

// SeasonTable is the reference definition of the season table: rounds
// are the series' counted rounds (RoundCounts), in any order. Units are
// matched across rounds by contestant id after Series.Renamed. A unit's
// combined score is
//
//	round_d( Σ w_r·F_r / W )
//
// over the rounds r it has a final F_r in, with w_r the round's weight
// (RoundWeight) and W: for the rule sum, 1; otherwise Σ w_r over the rounds
// it played (missed rounds left out) or over every round of the table
// (missed rounds count 0). Finals are summed as whole 1/10000 points, so
// the average of 88.71 and 90.20 is exactly 89.455 and rounds half up to
// 89.46. Ranks, ties, groups and rounding follow docs/scoring.md: equal
// combined scores share a rank (1, 2, 2, 4), group ranks likewise, ties
// listed in the latest running order. Movement compares with the table
// of the rounds before the latest one.
func SeasonTable(se *Series, rounds []SeasonRound) (Season, error) {
	rounds = slices.Clone(rounds)
	slices.SortStableFunc(rounds, func(a, b SeasonRound) int { return cmp.Compare(a.Event.Round, b.Event.Round) })
	for i := 1; i < len(rounds); i++ {
		if rounds[i].Event.Round == rounds[i-1].Event.Round {
			return Season{}, Errorf(CodeConflict, "series %q: events %q and %q are both round %d; give one another round",
				se.ID, rounds[i-1].Event.ID, rounds[i].Event.ID, rounds[i].Event.Round)
		}
	}
	table, err := seasonTable(se, rounds)
	if err != nil || len(rounds) < 2 {
		return table, err
	}
	before, err := seasonTable(se, rounds[:len(rounds)-1])
	if err != nil {
		return Season{}, err
	}
	prev := make(map[string]*SeasonRow, len(before.Rows))
	for i, r := range before.Rows {
		if r.Rank > 0 {
			prev[r.Contestant] = &before.Rows[i]
		}
	}
	for i := range table.Rows {
		r := &table.Rows[i]
		if p := prev[r.Contestant]; p != nil {
			r.PrevRank, r.PrevCombined = p.Rank, p.Combined
		}
		if r.PrevRank > 0 && r.Rank > 0 {
			r.Move = r.PrevRank - r.Rank
		}
	}
	return table, nil
}

// seasonTable is the table of rounds (sorted by round) without movement.
func seasonTable(se *Series, rounds []SeasonRound) (Season, error) {
	table := Season{Series: se.ID, Name: se.Name, Rule: se.Rule, Missed: se.Missed,
		Weights: se.Weights, Decimals: 2, Rounds: make([]SeasonRoundInfo, len(rounds)), Rows: []SeasonRow{}}
	if len(rounds) > 0 {
		table.Decimals = 0
	}
	units := make(map[string]*SeasonRow)
	for i, rd := range rounds {
		ev := rd.Event
		table.Decimals = max(table.Decimals, ev.Rules.Decimals)
		table.Rounds[i] = SeasonRoundInfo{Round: ev.Round, Name: RoundName(ev.Round), Event: ev.ID, Title: ev.Title, Weight: se.RoundWeight(ev.Round)}
		seen := make(map[string]string, len(ev.Contestants))
		for _, c := range ev.Contestants {
			id := se.SeasonID(c.ID)
			if other, dup := seen[id]; dup {
				return Season{}, Errorf(CodeInvalid, "round %d (%s): contestants %q and %q are both the season's unit %q; fix the renamed units",
					ev.Round, ev.ID, other, c.ID, id)
			}
			seen[id] = c.ID
			u := units[id]
			if u == nil {
				u = &SeasonRow{Contestant: id, Finals: make([]SeasonFinal, len(rounds))}
				units[id] = u
			}
			u.Name, u.Group = c.Name, c.Group // the latest round's wins
			if st, ok := rd.Standings.Row(c.ID); ok && st.Ballots > 0 {
				u.Finals[i] = SeasonFinal{Played: true, Final: st.Final, Rank: st.Rank}
				u.Played++
			}
		}
	}
	order := seasonOrder(se, rounds)
	rows := make([]Standing, 0, len(units))
	for _, id := range order.Contestants {
		u := units[id.ID]
		u.Combined = combined(se, table.Rounds, u, table.Decimals)
		rows = append(rows, Standing{Contestant: u.Contestant, Group: u.Group, Final: u.Combined, Ballots: u.Played})
	}
	ranked := Rank(&order, rows)
	for _, r := range ranked.Rows {
		u := units[r.Contestant]
		u.Rank, u.GroupRank = r.Rank, r.GroupRank
		table.Rows = append(table.Rows, *u)
	}
	return table, nil
}

// combined is a unit's season score (see SeasonTable).
func combined(se *Series, rounds []SeasonRoundInfo, u *SeasonRow, decimals int) float64 {
	if u.Played == 0 {
		return 0
	}
	var sum, weights float64
	for i, f := range u.Finals {
		w := rounds[i].Weight
		if f.Played {
			units := math.Round(f.Final * ScoreUnits) // exact whole 1/10000 points
			sum += float64(w * units)
		}
		if f.Played || se.Missed == MissedZero {
			weights += w
		}
	}
	if se.Rule == RuleSum {
		weights = 1
	}
	return RoundScore(sum/weights/ScoreUnits, decimals)
}

// seasonOrder is the running order that breaks ties in the season table:
// the latest round's, then units that are not in it in the order of the
// latest round they took part in. It is returned as an Event so that
// Rank, the one definition of ranks, can order the table.
func seasonOrder(se *Series, rounds []SeasonRound) Event {
	var order Event
	seen := make(map[string]bool)
	for i := len(rounds) - 1; i >= 0; i-- {
		for _, c := range rounds[i].Event.Contestants {
			id := se.SeasonID(c.ID)
			if !seen[id] {
				seen[id] = true
				order.Contestants = append(order.Contestants, Contestant{ID: id})
			}
		}
	}
	return order
}
