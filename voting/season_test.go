package voting

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// seasonRound makes a round from "id:name:group=final" entries; a final of
// "-" is a contestant without ballots. Ranks come from Rank.
func seasonRound(t *testing.T, n int, entries ...string) SeasonRound {
	t.Helper()
	ev := &Event{ID: fmt.Sprintf("r%d", n), Title: RoundName(n), Round: n, Series: "s", Rules: Rules{Decimals: 2}}
	var rows []Standing
	for _, e := range entries {
		head, final, _ := strings.Cut(e, "=")
		parts := strings.Split(head, ":")
		c := Contestant{ID: parts[0], Name: parts[1]}
		if len(parts) > 2 {
			c.Group = parts[2]
		}
		ev.Contestants = append(ev.Contestants, c)
		row := Standing{Contestant: c.ID, Group: c.Group}
		if final != "-" {
			if _, err := fmt.Sscan(final, &row.Final); err != nil {
				t.Fatal(err)
			}
			row.Ballots = 1
		}
		rows = append(rows, row)
	}
	sd := Rank(ev, rows)
	return SeasonRound{Event: ev, Standings: &sd}
}

// want is one expected row: id, combined, rank, group rank, prev rank, move.
type wantRow struct {
	id                          string
	combined                    float64
	rank, groupRank, prev, move int
}

func checkSeason(t *testing.T, got Season, want []wantRow) {
	t.Helper()
	if len(got.Rows) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(got.Rows), len(want), got.Rows)
	}
	for i, w := range want {
		r := got.Rows[i]
		if r.Contestant != w.id || r.Combined != w.combined || r.Rank != w.rank || r.GroupRank != w.groupRank || r.PrevRank != w.prev || r.Move != w.move {
			t.Errorf("row %d = %s %v rank %d group %d prev %d move %d, want %+v", i+1, r.Contestant, r.Combined, r.Rank, r.GroupRank, r.PrevRank, r.Move, w)
		}
	}
}

// TestSeasonTable checks SeasonTable against hand-computed tables: the
// same two rounds under every rule, both ways of counting a missed round.
//
// Round 1: 甲 88.71, 乙 90.20, 丙 85 (group 街道), 丁 not in it.
// Round 2: 乙 88.71, 甲 90.20, 丁 80 (街道), 戊 no ballots; 丙 missed it.
func TestSeasonTable(t *testing.T) {
	t.Parallel()
	r1 := seasonRound(t, 1, "a:甲:专项=88.71", "b:乙:专项=90.20", "c:丙:街道=85")
	r2 := seasonRound(t, 2, "b:乙:专项=88.71", "a:甲:专项=90.20", "d:丁:街道=80", "e:戊:街道=-")
	cases := []struct {
		name   string
		series Series
		want   []wantRow
	}{
		{
			// 甲 and 乙: (88.71 + 90.20) / 2 = 89.455 → 89.46 (half up), a
			// tie listed in round 2's order (乙 first). 丙: 85 alone.
			"average, missed left out",
			Series{Rule: RuleAverage, Missed: MissedSkip},
			[]wantRow{{"b", 89.46, 1, 1, 1, 0}, {"a", 89.46, 1, 1, 2, 1}, {"c", 85, 3, 1, 3, 0}, {"d", 80, 4, 2, 0, 0}, {"e", 0, 0, 0, 0, 0}},
		},
		{
			// 丙: 85 / 2 = 42.5; 丁: 80 / 2 = 40.
			"average, missed counts zero",
			Series{Rule: RuleAverage, Missed: MissedZero},
			[]wantRow{{"b", 89.46, 1, 1, 1, 0}, {"a", 89.46, 1, 1, 2, 1}, {"c", 42.5, 3, 1, 3, 0}, {"d", 40, 4, 2, 0, 0}, {"e", 0, 0, 0, 0, 0}},
		},
		{
			"sum",
			Series{Rule: RuleSum, Missed: MissedSkip},
			[]wantRow{{"b", 178.91, 1, 1, 1, 0}, {"a", 178.91, 1, 1, 2, 1}, {"c", 85, 3, 1, 3, 0}, {"d", 80, 4, 2, 0, 0}, {"e", 0, 0, 0, 0, 0}},
		},
		{
			// 甲: (88.71 + 2×90.20) / 3 = 89.7033 → 89.70; 乙: (90.20 +
			// 2×88.71) / 3 = 89.2067 → 89.21; 丁: 80 (its one round).
			"weighted 1:2, missed left out",
			Series{Rule: RuleWeighted, Weights: []float64{1, 2}, Missed: MissedSkip},
			[]wantRow{{"a", 89.70, 1, 1, 2, 1}, {"b", 89.21, 2, 2, 1, -1}, {"c", 85, 3, 1, 3, 0}, {"d", 80, 4, 2, 0, 0}, {"e", 0, 0, 0, 0, 0}},
		},
		{
			// 丙: 85 / 3 = 28.33; 丁: 2×80 / 3 = 53.33.
			"weighted 1:2, missed counts zero",
			Series{Rule: RuleWeighted, Weights: []float64{1, 2}, Missed: MissedZero},
			[]wantRow{{"a", 89.70, 1, 1, 2, 1}, {"b", 89.21, 2, 2, 1, -1}, {"d", 53.33, 3, 1, 0, 0}, {"c", 28.33, 4, 2, 3, -1}, {"e", 0, 0, 0, 0, 0}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.series.ID, tc.series.Name = "s", "赛季"
			got, err := SeasonTable(&tc.series, []SeasonRound{r2, r1}) // any order
			if err != nil {
				t.Fatal(err)
			}
			checkSeason(t, got, tc.want)
			if len(got.Rounds) != 2 || got.Rounds[0].Event != "r1" || got.Rounds[1].Name != "第二轮" {
				t.Fatalf("rounds = %+v", got.Rounds)
			}
			c := got.Rows[slicesIndex(got.Rows, "c")]
			if !c.Finals[0].Played || c.Finals[0].Final != 85 || c.Finals[0].Rank != 3 || c.Finals[1].Played || c.Played != 1 {
				t.Fatalf("丙's finals = %+v, played %d", c.Finals, c.Played)
			}
		})
	}
}

func slicesIndex(rows []SeasonRow, id string) int {
	for i, r := range rows {
		if r.Contestant == id {
			return i
		}
	}
	return -1
}

// TestSeasonTableRenamed matches a unit whose id changed by the series'
// rename map, and shows its latest name and group.
func TestSeasonTableRenamed(t *testing.T) {
	t.Parallel()
	se := Series{ID: "s", Name: "赛季", Rule: RuleAverage, Missed: MissedSkip, Renamed: map[string]string{"old-a": "a"}}
	r1 := seasonRound(t, 1, "old-a:甲旧名:专项=80.12", "b:乙=80")
	r2 := seasonRound(t, 2, "a:甲新名:街道=80.13", "b:乙=80.20")
	got, err := SeasonTable(&se, []SeasonRound{r1, r2})
	if err != nil {
		t.Fatal(err)
	}
	// 甲: (80.12 + 80.13) / 2 = 80.125 → 80.13 (half up; as a float the
	// mean is 80.12499…). 乙: 80.10.
	checkSeason(t, got, []wantRow{{"a", 80.13, 1, 1, 1, 0}, {"b", 80.1, 2, 0, 2, 0}})
	if a := got.Rows[0]; a.Name != "甲新名" || a.Group != "街道" || a.Played != 2 {
		t.Fatalf("renamed unit = %+v", a)
	}
	// Without the map the old id is a unit of its own.
	se.Renamed = nil
	got, err = SeasonTable(&se, []SeasonRound{r1, r2})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Rows) != 3 {
		t.Fatalf("without the rename: %d rows, want 3", len(got.Rows))
	}
}

// TestSeasonTableBadRounds: two events with one round number, two
// contestants mapped onto one unit, are errors, not a table.
func TestSeasonTableBadRounds(t *testing.T) {
	t.Parallel()
	se := Series{ID: "s", Name: "赛季", Rule: RuleAverage, Missed: MissedSkip}
	r1 := seasonRound(t, 1, "a:甲=80")
	again := seasonRound(t, 1, "a:甲=81")
	again.Event.ID = "other"
	if _, err := SeasonTable(&se, []SeasonRound{r1, again}); !errors.Is(err, ErrConflict) {
		t.Fatalf("two round 1s: %v", err)
	}
	se.Renamed = map[string]string{"a2": "a"}
	both := seasonRound(t, 2, "a:甲=80", "a2:甲二=81")
	if _, err := SeasonTable(&se, []SeasonRound{r1, both}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("two contestants as one unit: %v", err)
	}
	// No rounds yet: an empty table.
	got, err := SeasonTable(&se, nil)
	if err != nil || len(got.Rows) != 0 || got.Decimals != 2 {
		t.Fatalf("no rounds: %+v, %v", got, err)
	}
}

func TestSeriesValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		se   Series
		ok   bool
	}{
		{"defaults", Series{ID: "s", Name: "赛季"}, true},
		{"weighted", Series{ID: "s", Name: "赛季", Rule: RuleWeighted, Weights: []float64{0.3, 0.7}}, true},
		{"weighted without weights", Series{ID: "s", Name: "赛季", Rule: RuleWeighted}, false},
		{"weights without weighted", Series{ID: "s", Name: "赛季", Weights: []float64{1}}, false},
		{"zero weight", Series{ID: "s", Name: "赛季", Rule: RuleWeighted, Weights: []float64{0}}, false},
		{"bad rule", Series{ID: "s", Name: "赛季", Rule: "best"}, false},
		{"bad missed", Series{ID: "s", Name: "赛季", Missed: "half"}, false},
		{"no name", Series{ID: "s"}, false},
		{"bad id", Series{ID: "S 1", Name: "赛季"}, false},
		{"rename", Series{ID: "s", Name: "赛季", Renamed: map[string]string{"a": "b"}}, true},
		{"rename to itself", Series{ID: "s", Name: "赛季", Renamed: map[string]string{"a": "a"}}, false},
		{"rename chain", Series{ID: "s", Name: "赛季", Renamed: map[string]string{"a": "b", "b": "c"}}, false},
		{"rename bad id", Series{ID: "s", Name: "赛季", Renamed: map[string]string{"A": "b"}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.se.Normalize()
			err := tc.se.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate = %v, want ok %v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("not invalid: %v", err)
			}
		})
	}
}

func TestRoundNames(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{1: "第一轮", 2: "第二轮", 10: "第十轮", 11: "第十一轮", 20: "第二十轮", 23: "第二十三轮", 99: "第九十九轮", 0: "", 100: ""} {
		if got := RoundName(n); got != want {
			t.Errorf("RoundName(%d) = %q, want %q", n, got, want)
		}
	}
	for _, tc := range []struct {
		title      string
		prev, next int
		want       string
	}{
		{"2020年度拱墅区第一轮“战疫情促发展”大比武擂台赛", 1, 2, "2020年度拱墅区第二轮“战疫情促发展”大比武擂台赛"},
		{"大比武", 1, 2, "大比武（第二轮）"},
		{"大比武（第二轮）", 0, 2, "大比武（第二轮）"},
	} {
		if got := RoundTitle(tc.title, tc.prev, tc.next); got != tc.want {
			t.Errorf("RoundTitle(%q, %d, %d) = %q, want %q", tc.title, tc.prev, tc.next, got, tc.want)
		}
	}
}

func TestStageSeason(t *testing.T) {
	t.Parallel()
	ev := &Event{ID: "r", Series: "s", Round: 1, Contestants: []Contestant{{ID: "a", Name: "甲"}}}
	show, hide := true, false
	at := func(phase Phase, revealed int) Stage {
		return Stage{Phase: phase, Revealed: revealed, Version: 1, RankingVisible: true}
	}
	cases := []struct {
		name  string
		st    Stage
		ev    *Event
		vis   *bool
		steps int
		ok    bool
	}{
		{"after the whole reveal", at(PhaseReveal, 3), ev, &show, 3, true},
		{"reveal under way", at(PhaseReveal, 2), ev, &show, 3, false},
		{"while voting", at(PhaseVoting, 0), ev, &show, 3, false},
		{"not in a series", at(PhaseReveal, 3), &Event{ID: "x"}, &show, 3, false},
		{"no visible", at(PhaseReveal, 3), ev, nil, 3, false},
		{"hide any time", at(PhaseVoting, 0), ev, &hide, 3, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			next, err := tc.st.Apply(tc.ev, Command{Action: ActionSeason, Visible: tc.vis}, time.Unix(0, 0), tc.steps)
			if (err == nil) != tc.ok {
				t.Fatalf("Apply = %v, want ok %v", err, tc.ok)
			}
			if err == nil && next.Season != *tc.vis {
				t.Fatalf("Season = %v", next.Season)
			}
		})
	}
	// Taking back a reveal step, or going back to the lobby, hides it.
	shown := at(PhaseReveal, 3)
	shown.Season = true
	for _, cmd := range []Command{{Action: ActionUnreveal}, {Action: ActionLobby}} {
		next, err := shown.Apply(ev, cmd, time.Unix(0, 0), 3)
		if err != nil || next.Season {
			t.Fatalf("%s: Season %v, %v", cmd.Action, next.Season, err)
		}
	}
	// Ending the event keeps it on the screen.
	if next, err := shown.Apply(ev, Command{Action: ActionEnd}, time.Unix(0, 0), 3); err != nil || !next.Season {
		t.Fatalf("end: Season %v, %v", next.Season, err)
	}
}
