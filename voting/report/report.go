// Package report turns an event, its stage and its live ballots into the
// results a host hands over after the event: the ranking (with each panel's
// trimmed average and the scores that trimming dropped), every live ballot
// (with voters anonymised) and the rules in words. Writers make an Excel
// workbook and CSV files of the same tables. It knows nothing of HTTP.
package report

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"leitai/voting"
)

// A Report is the results of one event at one moment.
type Report struct {
	Event string `json:"event"`
	Title string `json:"title"`
	// Phase is the stage's phase when the report was made. Final says the
	// event has ended, so the results can no longer change; ClosedAt
	// (Unix milliseconds) is when it ended.
	Phase       voting.Phase `json:"phase"`
	Final       bool         `json:"final"`
	ClosedAt    int64        `json:"closedAt,omitempty"`
	GeneratedAt int64        `json:"generatedAt"`
	Published   bool         `json:"published"`

	Decimals int `json:"decimals"` // of the final score
	// AverageDecimals is the precision of the panel averages in the
	// report: each is rounded half up to it (docs/scoring.md, "Rounding in
	// results and exports").
	AverageDecimals int         `json:"averageDecimals"`
	Scale           int         `json:"scaleDecimals"` // of a ballot's score (step 0.5 → 1)
	Trim            int         `json:"trim"`          // ballots dropped at each end per panel
	Panels          []Panel     `json:"panels"`        // in the event's order
	Criteria        []Criterion `json:"criteria,omitempty"`
	Groups          []string    `json:"groups,omitempty"`
	Contestants     int         `json:"contestants"` // how many take part
	Ballots         int         `json:"ballots"`     // live ballots
	Voters          int         `json:"voters"`      // distinct voters with a live ballot

	// Rows are the standings, ordered by rank (contestants without
	// ballots last, in stage order).
	Rows []Row `json:"rows"`
	// Rules describe the scoring in words, in Chinese (RulesEn: English).
	Rules   []Rule `json:"rules"`
	RulesEn []Rule `json:"rulesEn"`
	// Detail lists every live ballot, voters anonymised; left out of what
	// the public sees.
	Detail []BallotRow `json:"detail,omitempty"`
	// SeatSheets are the 评委评分表, one per judges' seat (host only:
	// AddSeatSheets; Public drops them).
	SeatSheets []SeatSheet `json:"seatSheets,omitempty"`
	// AuditHead is the head of the audit chain when the report was made
	// (SetAuditHead); the rules name it too, so that it is printed.
	AuditHead *voting.AuditHead `json:"auditHead,omitempty"`
	// Season is the season table (年度累计排名) of the event's series up to
	// its round, once the round counts (SetSeason); nil otherwise.
	Season *voting.Season `json:"season,omitempty"`

	loc *time.Location
}

// Panel is a panel as the report shows it.
type Panel struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Weight float64 `json:"weight"`
	Share  float64 `json:"share"` // the weight as a percentage of all weights
	// Mode is the panel's scoring mode (trimmed, average, sum) and Trim
	// how many ballots it drops at each end (0: none).
	Mode voting.ScoringMode `json:"mode"`
	Trim int                `json:"trim"`
	// Seats names the panel's judges' seats, if it has them.
	Seats []string `json:"seats,omitempty"`
}

// ResultName is what a panel's result is called in a column title: 平均分,
// or 总分 in the sum mode.
func (p *Panel) ResultName() string {
	if p.Mode == voting.ModeSum {
		return "总分"
	}
	return "平均分"
}

// Criterion is a criterion as the report shows it.
type Criterion struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Weight float64 `json:"weight"`
}

// A Row is one contestant's result.
type Row struct {
	Rank       int        `json:"rank"`      // 0: no ballots, not ranked
	GroupRank  int        `json:"groupRank"` // 0: no group or not ranked
	Contestant string     `json:"contestant"`
	Name       string     `json:"name"`
	Group      string     `json:"group,omitempty"`
	Order      int        `json:"order"` // place in the running order, from 1
	Final      float64    `json:"final"`
	Ballots    int        `json:"ballots"`
	Panels     []PanelRow `json:"panels"` // in the event's panel order
	// Theme (汇报主题), Presenter (汇报人) and the leader's comment
	// (区领导点评), as the event has them; printed under the contestant.
	Theme     string `json:"theme,omitempty"`
	Presenter string `json:"presenter,omitempty"`
	Comment   string `json:"comment,omitempty"`
}

// PanelRow is one panel's part of a contestant's result.
type PanelRow struct {
	Panel   string `json:"panel"`
	Count   int    `json:"count"`
	Dropped int    `json:"dropped"`
	// Average is the trimmed average rounded half up to AverageDecimals
	// (the standings carry it unrounded); 0 without ballots.
	Average float64 `json:"average"`
	// Highest and Lowest are the scores trimming dropped (去掉的最高分和最低
	// 分), exactly as the ballots have them, highest first and lowest
	// first; empty when nothing was dropped.
	Highest []float64 `json:"highest,omitempty"`
	Lowest  []float64 `json:"lowest,omitempty"`
}

// A BallotRow is one live ballot.
type BallotRow struct {
	Voter      string    `json:"voter"` // VoterHash, never the voter id
	Contestant string    `json:"contestant"`
	Name       string    `json:"name"`
	Panel      string    `json:"panel"`
	PanelName  string    `json:"panelName"`
	Score      float64   `json:"score"`            // the score that counts
	Scores     []float64 `json:"scores,omitempty"` // per criterion, in the rules' order
	At         int64     `json:"at"`
}

// A Rule is one line of the rules in words.
type Rule struct {
	Item string `json:"item"`
	Text string `json:"text"`
}

// VoterHash names a voter in a report without revealing the voter id (which
// is the phone's credential): the first 12 hex digits of SHA-256 over the
// event id and the voter id. The same voter gets the same name throughout
// one event, and different names in different events.
func VoterHash(event, voter string) string {
	sum := sha256.Sum256([]byte(event + "\x00" + voter))
	return hex.EncodeToString(sum[:6])
}

// Build makes the report of ev at stage st from its live ballots (one per
// voter, contestant and panel, as Store.Ballots returns them). The standings
// are voting.Tally over those ballots, which every store's standings equal,
// so that the ranking and the detail come from the same snapshot. loc is
// the time zone of the times written as text (nil: UTC).
func Build(ev *voting.Event, st voting.Stage, ballots []voting.CountedBallot, now time.Time, loc *time.Location) *Report {
	if loc == nil {
		loc = time.UTC
	}
	r := &Report{
		Event: ev.ID, Title: ev.Title, Phase: st.Phase, Final: st.Phase == voting.PhaseEnded,
		GeneratedAt: now.UnixMilli(), Published: ev.Published,
		Decimals: ev.Rules.Decimals, AverageDecimals: averageDecimals(ev.Rules.Decimals), Scale: scoreDecimals(ev.Rules),
		Trim: ev.Rules.Trim, Groups: ev.Groups(),
		Contestants: len(ev.Contestants), loc: loc,
	}
	if r.Final {
		r.ClosedAt = st.ChangedAt
	}
	var weights float64
	for _, p := range ev.Panels {
		weights += p.Weight
	}
	for i, p := range ev.Panels {
		rule := ev.PanelRule(i)
		mode := voting.ModeTrimmed
		switch {
		case rule.Sum:
			mode = voting.ModeSum
		case rule.Trim == 0:
			mode = voting.ModeAverage
		}
		r.Panels = append(r.Panels, Panel{ID: p.ID, Name: p.Name, Weight: p.Weight, Share: voting.RoundScore(p.Weight/weights*100, 2),
			Mode: mode, Trim: rule.Trim, Seats: p.Seats})
	}
	for _, c := range ev.Rules.Criteria {
		r.Criteria = append(r.Criteria, Criterion(c))
	}

	sd := voting.Tally(ev, ballots)
	units := make(map[[2]string][]int64) // contestant, panel → scores
	voters := make(map[string]bool)
	for _, b := range ballots {
		k := [2]string{b.Contestant, b.Panel}
		units[k] = append(units[k], b.Units)
		voters[b.Voter] = true
	}
	r.Ballots, r.Voters = sd.Ballots, len(voters)
	for _, s := range sd.Rows {
		c, idx, _ := ev.Contestant(s.Contestant)
		row := Row{
			Rank: s.Rank, GroupRank: s.GroupRank, Contestant: c.ID, Name: c.Name, Group: c.Group,
			Order: idx + 1, Final: s.Final, Ballots: s.Ballots,
			Theme: c.Theme, Presenter: c.Presenter, Comment: c.Comment,
		}
		for i, ps := range s.Panels {
			us := units[[2]string{c.ID, ev.Panels[i].ID}]
			slices.Sort(us)
			pr := PanelRow{Panel: ps.Panel, Count: ps.Count, Dropped: ps.Dropped, Average: voting.RoundScore(ps.Average, r.AverageDecimals)}
			pr.Highest, pr.Lowest = Trimmed(us, ev.PanelRule(i).Trim)
			row.Panels = append(row.Panels, pr)
		}
		r.Rows = append(r.Rows, row)
	}
	r.Detail = detail(ev, ballots)
	r.Rules = rules(ev, r, zh)
	r.RulesEn = rules(ev, r, en)
	return r
}

// Trimmed returns the scores (in points) that trimming drops from one
// panel's ballots for one contestant, sorted holding them in ScoreUnits,
// lowest first: the trim highest (highest first) and the trim lowest
// (lowest first), exactly those that voting.PanelAverage leaves out; none
// when there are not more than 2×trim ballots.
func Trimmed(sorted []int64, trim int) (highest, lowest []float64) {
	n := len(sorted)
	if voting.TrimDropped(n, trim) == 0 {
		return nil, nil
	}
	for i := range trim {
		lowest = append(lowest, points(sorted[i]))
		highest = append(highest, points(sorted[n-1-i]))
	}
	return highest, lowest
}

func points(units int64) float64 { return float64(units) / voting.ScoreUnits }

// detail lists the live ballots by the running order of the contestants,
// then panel, then time.
func detail(ev *voting.Event, ballots []voting.CountedBallot) []BallotRow {
	order := make(map[string]int, len(ev.Contestants))
	names := make(map[string]string, len(ev.Contestants))
	for i, c := range ev.Contestants {
		order[c.ID], names[c.ID] = i, c.Name
	}
	panelOrder := make(map[string]int, len(ev.Panels))
	panelNames := make(map[string]string, len(ev.Panels))
	for i, p := range ev.Panels {
		panelOrder[p.ID], panelNames[p.ID] = i, p.Name
	}
	bs := slices.Clone(ballots)
	slices.SortStableFunc(bs, func(a, b voting.CountedBallot) int {
		return cmp.Or(
			cmp.Compare(order[a.Contestant], order[b.Contestant]),
			cmp.Compare(panelOrder[a.Panel], panelOrder[b.Panel]),
			cmp.Compare(a.At, b.At),
			cmp.Compare(a.ID, b.ID),
		)
	})
	rows := make([]BallotRow, 0, len(bs))
	for _, b := range bs {
		row := BallotRow{
			Voter: VoterHash(ev.ID, b.Voter), Contestant: b.Contestant, Name: names[b.Contestant],
			Panel: b.Panel, PanelName: panelNames[b.Panel], Score: b.Points(), At: b.At,
		}
		if len(ev.Rules.Criteria) > 0 {
			row.Scores = make([]float64, len(ev.Rules.Criteria))
			for i, c := range ev.Rules.Criteria {
				row.Scores[i] = b.Scores[c.ID]
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// Public returns a copy of the report without per-ballot detail, fit for
// anyone once the host has published the results: no ballot list, and no
// scores that trimming dropped (with 3 judges, the dropped highest and
// lowest and the average left would be every judge's score).
func (r *Report) Public() *Report {
	c := *r
	c.Detail, c.SeatSheets = nil, nil // no ballot, no seat's score
	c.Rows = make([]Row, len(r.Rows))
	for i, row := range r.Rows {
		row.Panels = slices.Clone(row.Panels)
		for j := range row.Panels {
			row.Panels[j].Highest, row.Panels[j].Lowest = nil, nil
		}
		c.Rows[i] = row
	}
	return &c
}

// SetAuditHead records the head of the audit chain in the report and in
// its rules (the results page and the 规则 sheet print them), with how to
// check it.
func (r *Report) SetAuditHead(h voting.AuditHead) {
	r.AuditHead = &h
	r.Rules = append(r.Rules, Rule{Item: "审计链头", Text: fmt.Sprintf(
		"%s（共 %d 条记录，最后一条的哈希；核对：leitai audit verify --head %s）", h, h.Count, h)})
	r.RulesEn = append(r.RulesEn, Rule{Item: "Audit chain head", Text: fmt.Sprintf(
		"%s (%d entries, the last one's hash; check with leitai audit verify --head %s)", h, h.Count, h)})
}

// Location is the time zone of the times the report writes as text.
func (r *Report) Location() *time.Location {
	if r.loc == nil {
		return time.UTC
	}
	return r.loc
}

// Date is the day of the event as the report names it: the day it ended,
// or the day of the report while it runs.
func (r *Report) Date() time.Time {
	at := r.GeneratedAt
	if r.ClosedAt != 0 {
		at = r.ClosedAt
	}
	return time.UnixMilli(at).In(r.Location())
}
