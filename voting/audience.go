package voting

import (
	"context"
	"time"
)

// Who may see which standings. The host sees everything, always. The big
// screen and the phones are the audience: anyone may open the screen page
// or join as a phone, so they see the ranking only while the host shows it
// (Stage.RankingVisible) or after the end, and during the reveal only the
// places revealed so far (RevealedRows: never a place before its step,
// nobody without ballots). The screen gets the standings themselves;
// phones get the ranked contestants' places and finals only.
//
// The hub encodes what these functions return and nothing else; the pages
// render what they receive.

// Audience is who looks at the standings.
type Audience string

const (
	AudienceHost   Audience = "host"
	AudienceScreen Audience = "screen"
	AudiencePhone  Audience = "voter"
)

// RankingRow is what a phone may see of one place of the ranking.
type RankingRow struct {
	Contestant string  `json:"contestant"`
	Final      float64 `json:"final"`
	Rank       int     `json:"rank"`
}

// View is what one audience may see of the standings at a stage: the
// standings (host, screen) or the ranking (phones). Nil means nothing now;
// an empty ranking means nobody is ranked yet.
type View struct {
	Standings *Standings
	Ranking   []RankingRow
}

// ViewOf returns what audience a may see of sd at stage st. The view may
// share rows with sd: neither is changed afterwards.
func ViewOf(a Audience, sd *Standings, st *Stage) View {
	switch a {
	case AudienceHost:
		return View{Standings: sd.clone()}
	case AudienceScreen, AudiencePhone:
	default:
		return View{}
	}
	var rows []Standing
	switch {
	case st.Phase == PhaseReveal:
		rows = RevealedRows(sd, st.Revealed)
	case st.RankingVisible || st.Phase == PhaseEnded:
		rows = sd.Rows
	default:
		return View{}
	}
	if a == AudienceScreen {
		if st.Phase == PhaseReveal {
			return View{Standings: &Standings{Rows: rows, Ballots: sd.Ballots}}
		}
		return View{Standings: sd.clone()}
	}
	out := make([]RankingRow, 0, len(rows))
	for _, row := range rows {
		if row.Rank > 0 { // contestants without ballots have no place
			out = append(out, RankingRow{Contestant: row.Contestant, Final: row.Final, Rank: row.Rank})
		}
	}
	return View{Ranking: out}
}

// ViewChanges reports whether going from stage prev to next may change
// what an audience sees of the same standings, so that it must be sent
// again at once.
func ViewChanges(prev, next *Stage) bool {
	return prev.RankingVisible != next.RankingVisible || prev.Phase != next.Phase ||
		prev.Current != next.Current || prev.Revealed != next.Revealed
}

// clone is a copy of sd (its rows shared) that an audience may keep.
func (sd *Standings) clone() *Standings {
	c := *sd
	return &c
}

// CountdownOver reports whether voting at stage s has a countdown that ran
// out at now: ballots are refused from then on (VotingOpen), and the stage
// should say "closed" too (CloseExpired).
func (s *Stage) CountdownOver(now time.Time) bool {
	return s.Phase == PhaseVoting && s.EndsAt > 0 && now.UnixMilli() >= s.EndsAt
}

// CloseExpired closes voting of the event when the countdown of stage st
// (the stage the caller holds) ran out, so that the host, the screen and
// the phones all see "closed". It names st's version, so that of the
// instances that try, exactly one succeeds. It reports whether it closed.
func (s *Service) CloseExpired(ctx context.Context, id string, st Stage) (Stage, bool, error) {
	if !st.CountdownOver(s.now()) {
		return st, false, nil
	}
	next, err := s.Command(ctx, id, Command{Action: ActionClose, IfVersion: st.Version})
	if err != nil {
		return st, false, err
	}
	return next, true, nil
}
