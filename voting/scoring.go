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
	// Average is the panel's result in points by its scoring mode: the
	// (trimmed) average, or in ModeSum the sum. 0 when Count is 0.
	Average float64 `json:"average"`
	// Top is the number of ballots at the top of the scale (满分), for the
	// "top" tie-break.
	Top int `json:"top,omitempty"`
}

// A Standing (排名) is one contestant's place in the standings.
type Standing struct {
	Contestant string       `json:"contestant"`
	Group      string       `json:"group,omitempty"`
	Panels     []PanelScore `json:"panels"` // in the event's panel order
	Ballots    int          `json:"ballots"`
	// Final is the weighted final score, rounded to Rules.Decimals.
	Final float64 `json:"final"`
	// Unrounded is the final score before rounding, for the "unrounded"
	// tie-break.
	Unrounded float64 `json:"unrounded,omitempty"`
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
		rows = append(rows, Score(ev, c, func(panel string) []int64 {
			us := units[[2]string{c.ID, panel}]
			slices.Sort(us)
			return us
		}))
	}
	return Rank(ev, rows)
}

// Score is one contestant's standing, unranked, from its live scores:
// sorted returns a panel's scores in ScoreUnits, lowest first. Tally and
// the embedded store score with it.
func Score(ev *Event, c Contestant, sorted func(panel string) []int64) Standing {
	row := Standing{Contestant: c.ID, Group: c.Group, Panels: make([]PanelScore, len(ev.Panels))}
	top := TopUnits(&ev.Rules)
	for i, p := range ev.Panels {
		us := sorted(p.ID)
		row.Panels[i] = PanelResult(p.ID, us, ev.PanelRule(i))
		row.Panels[i].Top = CountTop(us, top)
		row.Ballots += len(us)
	}
	row.Unrounded = UnroundedFinal(ev, row.Panels)
	row.Final = RoundScore(row.Unrounded, ev.Rules.Decimals)
	return row
}

// CountTop counts the scores (sorted, lowest first) at the top of the
// scale, in ScoreUnits.
func CountTop(sorted []int64, top int64) int {
	i, _ := slices.BinarySearch(sorted, top)
	return len(sorted) - i
}

// PanelAverage scores one panel's ballots for one contestant in the trimmed
// mode: sorted holds the scores in ScoreUnits, lowest first. When there are
// more than 2×trim ballots the trim lowest and trim highest are dropped
// (去掉最高分和最低分).
func PanelAverage(panel string, sorted []int64, trim int) PanelScore {
	return PanelResult(panel, sorted, PanelRule{Trim: trim})
}

// PanelResult scores one panel's ballots for one contestant by its rule:
// sorted holds the scores in ScoreUnits, lowest first. When there are more
// than 2×Trim ballots the Trim lowest and Trim highest are dropped; the
// kept ones are averaged, or summed when the rule says so.
func PanelResult(panel string, sorted []int64, rule PanelRule) PanelScore {
	ps := PanelScore{Panel: panel, Count: len(sorted)}
	if len(sorted) == 0 {
		return ps
	}
	kept := sorted
	if ps.Dropped = TrimDropped(len(sorted), rule.Trim); ps.Dropped > 0 {
		kept = sorted[rule.Trim : len(sorted)-rule.Trim]
	}
	var sum int64
	for _, u := range kept {
		sum += u
	}
	if rule.Sum {
		ps.Average = SumPoints(sum)
	} else {
		ps.Average = TrimmedAverage(sum, len(kept))
	}
	return ps
}

// SumPoints turns a sum of scores (in ScoreUnits) into points, the result
// of a panel in ModeSum (the Redis store's Lua divides the same way).
func SumPoints(sumUnits int64) float64 { return float64(sumUnits) / ScoreUnits }

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
	return RoundScore(UnroundedFinal(ev, panels), ev.Rules.Decimals)
}

// UnroundedFinal is the final score before rounding: the weighted mean of
// the panel results over the panels that have ballots (0 without any).
func UnroundedFinal(ev *Event, panels []PanelScore) float64 {
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
	return sum / weights
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

// Rank orders rows (one per contestant, with Final, Unrounded, Ballots and
// Panels set) and gives their ranks overall and in their group. Equal final
// scores are ordered by the rules' tie-breaks; rows equal in every step
// share a rank, listed in stage order.
func Rank(ev *Event, rows []Standing) Standings {
	order := make(map[string]int, len(ev.Contestants))
	for i, c := range ev.Contestants {
		order[c.ID] = i
	}
	slices.SortStableFunc(rows, func(a, b Standing) int {
		if c := ev.ComparePlaces(&a, &b); c != 0 {
			return c
		}
		return order[a.Contestant] - order[b.Contestant]
	})
	var total int
	groupSeen := make(map[string]int)
	groupRank := make(map[string]int)
	groupLast := make(map[string]int) // index of the group's last row
	for i := range rows {
		r := &rows[i]
		total += r.Ballots
		r.Rank, r.GroupRank = 0, 0
		if r.Ballots == 0 {
			continue
		}
		if i > 0 && ev.ComparePlaces(&rows[i-1], r) == 0 {
			r.Rank = rows[i-1].Rank
		} else {
			r.Rank = i + 1
		}
		if r.Group != "" {
			n := groupSeen[r.Group]
			if n > 0 && ev.ComparePlaces(&rows[groupLast[r.Group]], r) == 0 {
				r.GroupRank = groupRank[r.Group]
			} else {
				r.GroupRank = n + 1
			}
			groupSeen[r.Group] = n + 1
			groupRank[r.Group] = r.GroupRank
			groupLast[r.Group] = i
		}
	}
	return Standings{Rows: rows, Ballots: total}
}

// ComparePlaces orders two standings by place: negative when a places
// before b, positive when after, 0 when they share a place. Rows with
// ballots come before rows without (which all share "no place"); then the
// higher final score; then the tie-breaks in order.
func (ev *Event) ComparePlaces(a, b *Standing) int {
	if (a.Ballots > 0) != (b.Ballots > 0) {
		if a.Ballots > 0 {
			return -1
		}
		return 1
	}
	if a.Ballots == 0 {
		return 0
	}
	if c := higherFirst(a.Final, b.Final); c != 0 {
		return c
	}
	for _, tb := range ev.Rules.TieBreaks {
		if c := ev.compareTieBreak(tb, a, b); c != 0 {
			return c
		}
	}
	return 0
}

// compareTieBreak compares a and b by one tie-break, higher first.
func (ev *Event) compareTieBreak(tb TieBreak, a, b *Standing) int {
	kind, panel := tb.Split()
	switch kind {
	case TieUnrounded:
		return higherFirst(a.Unrounded, b.Unrounded)
	case TiePanel:
		pa, pb := panelOf(ev, a, panel), panelOf(ev, b, panel)
		if (pa.Count > 0) != (pb.Count > 0) {
			if pa.Count > 0 {
				return -1
			}
			return 1
		}
		return higherFirst(pa.Average, pb.Average)
	case TieTop:
		ta, tbb := 0, 0
		for i, p := range ev.Panels {
			if panel == "" || p.ID == panel {
				ta += panelAt(a, i).Top
				tbb += panelAt(b, i).Top
			}
		}
		return tbb - ta
	}
	return 0
}

func higherFirst(x, y float64) int {
	switch {
	case x > y:
		return -1
	case x < y:
		return 1
	}
	return 0
}

func panelOf(ev *Event, s *Standing, panel string) PanelScore {
	for i, p := range ev.Panels {
		if p.ID == panel {
			return panelAt(s, i)
		}
	}
	return PanelScore{}
}

func panelAt(s *Standing, i int) PanelScore {
	if i < len(s.Panels) {
		return s.Panels[i]
	}
	return PanelScore{}
}
