package voting

import (
	"math"
	"slices"
)

// PanelScore is one panel's part of a contestant's standing.
type PanelScore struct {
	Panel string `json:"panel"`
	// Count is the number of live ballots (one per voter).
	Count int `json:"count"`
	// Dropped is how many ballots trimming left out (the highest and lowest).
	Dropped int `json:"dropped"`
	// Average is the trimmed average in points; 0 when Count is 0.
	Average float64 `json:"average"`
}

// A Standing (排名) is one contestant's place in the standings.
type Standing struct {
	Contestant string       `json:"contestant"`
	Group      string       `json:"group,omitempty"`
	Panels     []PanelScore `json:"panels"` // in the event's panel order
	Ballots    int          `json:"ballots"`
	// Final is the weighted final score, rounded to Rules.Decimals.
	Final float64 `json:"final"`
	// Rank is the place overall (ties share a rank: 1, 2, 2, 4); 0 while
	// the contestant has no ballots.
	Rank int `json:"rank"`
	// GroupRank is the place within the contestant's group; 0 without one.
	GroupRank int `json:"groupRank"`
}

// Standings are the ranked standings of an event: ranked contestants first
// by rank (then stage order), contestants without ballots after them in
// stage order.
type Standings struct {
	Rows    []Standing `json:"rows"`
	Ballots int        `json:"ballots"`
}

// Row returns the standing of a contestant.
func (s *Standings) Row(contestant string) (Standing, bool) {
	for _, r := range s.Rows {
		if r.Contestant == contestant {
			return r, true
		}
	}
	return Standing{}, false
}

// Tally is the reference definition of the standings: it takes ballots in
// the order they were cast, keeps the latest of each voter for each
// contestant and panel, and scores them. Stores may compute the standings
// another way, but must arrive at exactly these.
func Tally(ev *Event, ballots []CountedBallot) Standings {
	type key struct{ voter, contestant, panel string }
	latest := make(map[key]int64, len(ballots))
	for _, b := range ballots {
		latest[key{b.Voter, b.Contestant, b.Panel}] = b.Units
	}
	units := make(map[[2]string][]int64) // contestant, panel → scores
	for k, u := range latest {
		cp := [2]string{k.contestant, k.panel}
		units[cp] = append(units[cp], u)
	}
	rows := make([]Standing, 0, len(ev.Contestants))
	for _, c := range ev.Contestants {
		row := Standing{Contestant: c.ID, Group: c.Group, Panels: make([]PanelScore, len(ev.Panels))}
		for i, p := range ev.Panels {
			us := units[[2]string{c.ID, p.ID}]
			slices.Sort(us)
			row.Panels[i] = PanelAverage(p.ID, us, ev.Rules.Trim)
			row.Ballots += len(us)
		}
		row.Final = FinalScore(ev, row.Panels)
		rows = append(rows, row)
	}
	return Rank(ev, rows)
}

// PanelAverage scores one panel's ballots for one contestant: sorted holds
// the scores in ScoreUnits, lowest first. When there are more than 2×trim
// ballots the trim lowest and trim highest are dropped (去掉最高分和最低分).
func PanelAverage(panel string, sorted []int64, trim int) PanelScore {
	ps := PanelScore{Panel: panel, Count: len(sorted)}
	if len(sorted) == 0 {
		return ps
	}
	kept := sorted
	if ps.Dropped = TrimDropped(len(sorted), trim); ps.Dropped > 0 {
		kept = sorted[trim : len(sorted)-trim]
	}
	var sum int64
	for _, u := range kept {
		sum += u
	}
	ps.Average = TrimmedAverage(sum, len(kept))
	return ps
}

// TrimDropped is how many of a panel's count ballots trimming leaves out:
// the trim highest and the trim lowest when there are more than 2×trim,
// else none (a panel of 2×trim ballots or fewer keeps them all). Every
// place that reports or applies trimming asks this (the Redis store's
// cast.lua mirrors it, see there).
func TrimDropped(count, trim int) int {
	if trim > 0 && count > 2*trim {
		return 2 * trim
	}
	return 0
}

// TrimmedAverage turns a sum of kept scores (in ScoreUnits) into an average
// in points. Every store divides in this order so that the floating-point
// result is bit for bit the same (the Redis store's Lua does the same).
func TrimmedAverage(sumUnits int64, kept int) float64 {
	return float64(sumUnits) / float64(kept) / ScoreUnits
}

// FinalScore is the weighted mean of the panel averages over the panels that
// have ballots, rounded half up to the rules' decimals. A panel without
// ballots does not pull a contestant down; its weight is left out.
func FinalScore(ev *Event, panels []PanelScore) float64 {
	var sum, weights float64
	for i, ps := range panels {
		if ps.Count == 0 {
			continue
		}
		w := ev.Panels[i].Weight
		sum += float64(w * ps.Average) // no fused multiply-add: Lua never fuses
		weights += w
	}
	if weights == 0 {
		return 0
	}
	return RoundScore(sum/weights, ev.Rules.Decimals)
}

// RoundScore rounds half up to the given decimals, the same way in Go and Lua
// (math.floor(x*p + 0.5 + 1e-9) / p). The 1e-9 absorbs binary noise: the
// weighted mean 0.6×60 + 0.4×74.3125 = 65.725 comes out as the float64
// 65.72499999999999…, whose x*100 is 6572.499999999999, and must still round
// up to 65.73.
func RoundScore(x float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Floor(float64(x*p)+0.5+1e-9) / p // float64(): no fused multiply-add
}

// Rank orders rows (one per contestant, Final and Ballots set) and gives
// their ranks overall and in their group. Equal final scores share a rank.
func Rank(ev *Event, rows []Standing) Standings {
	order := make(map[string]int, len(ev.Contestants))
	for i, c := range ev.Contestants {
		order[c.ID] = i
	}
	slices.SortStableFunc(rows, func(a, b Standing) int {
		switch {
		case (a.Ballots > 0) != (b.Ballots > 0):
			if a.Ballots > 0 {
				return -1
			}
			return 1
		case a.Ballots > 0 && a.Final != b.Final:
			if a.Final > b.Final {
				return -1
			}
			return 1
		}
		return order[a.Contestant] - order[b.Contestant]
	})
	var total int
	groupSeen := make(map[string]int)
	groupRank := make(map[string]int)
	groupLast := make(map[string]float64)
	for i := range rows {
		r := &rows[i]
		total += r.Ballots
		r.Rank, r.GroupRank = 0, 0
		if r.Ballots == 0 {
			continue
		}
		if i > 0 && rows[i-1].Ballots > 0 && rows[i-1].Final == r.Final {
			r.Rank = rows[i-1].Rank
		} else {
			r.Rank = i + 1
		}
		if r.Group != "" {
			n := groupSeen[r.Group]
			if n > 0 && groupLast[r.Group] == r.Final {
				r.GroupRank = groupRank[r.Group]
			} else {
				r.GroupRank = n + 1
			}
			groupSeen[r.Group] = n + 1
			groupRank[r.Group] = r.GroupRank
			groupLast[r.Group] = r.Final
		}
	}
	return Standings{Rows: rows, Ballots: total}
}
