package voting

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPanelAverage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		units   []int64 // sorted
		trim    int
		dropped int
		average float64
	}{
		{"no ballots", nil, 1, 0, 0},
		{"one ballot", []int64{800000}, 1, 0, 80},
		{"2 ballots, trim 1: not trimmed", []int64{600000, 1000000}, 1, 0, 80},
		{"3 ballots, trim 1: the middle one", []int64{600000, 850000, 1000000}, 1, 2, 85},
		{"4 ballots, trim 2: not trimmed", []int64{600000, 700000, 800000, 1000000}, 2, 0, 77.5},
		{"5 ballots, trim 2: the middle one", []int64{600000, 700000, 815000, 900000, 1000000}, 2, 4, 81.5},
		{"trim 0 keeps all", []int64{600000, 700000, 800000, 1000000}, 0, 0, 77.5},
		{"equal extremes drop once each", []int64{800000, 800000, 800000, 900000}, 1, 2, 80},
		{"worked example, audience", []int64{790000, 850000, 865000, 885000, 900000, 920000, 950000}, 1, 2, 88.4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := PanelAverage("p", tc.units, tc.trim)
			want := PanelScore{Panel: "p", Count: len(tc.units), Dropped: tc.dropped, Average: tc.average}
			if got != want {
				t.Fatalf("PanelAverage = %+v, want %+v", got, want)
			}
		})
	}
	// A repeating decimal is the same double every store computes.
	got := PanelAverage("judges", []int64{845000, 870000, 890000, 915000, 930000}, 1)
	if got.Average != TrimmedAverage(2675000, 3) || math.Abs(got.Average-535.0/6) > 1e-12 {
		t.Fatalf("average %.17g, want 89.1666…", got.Average)
	}
}

func TestRoundScore(t *testing.T) {
	t.Parallel()
	cases := []struct {
		x        float64
		decimals int
		want     float64
	}{
		{88.70666666666666, 2, 88.71},
		{88.7049, 2, 88.7},
		{88.705, 2, 88.71}, // the double just below 88.705 still rounds up
		{80.125, 2, 80.13}, // an exact half rounds up
		{0.6*60 + 0.4*74.3125, 2, 65.73},
		{64.085, 2, 64.09},
		{80.025, 2, 80.03},
		{88.25, 1, 88.3},
		{88.24, 1, 88.2},
		{87.5, 0, 88},
		{86.4999, 0, 86},
		{91.23456, 4, 91.2346},
		{91.23454, 4, 91.2345},
		{91.23455, 4, 91.2346},
		{0, 2, 0},
		{100, 2, 100},
		{9999.99995, 4, 10000},
	}
	for _, tc := range cases {
		if got := RoundScore(tc.x, tc.decimals); got != tc.want {
			t.Errorf("RoundScore(%.17g, %d) = %.17g, want %v", tc.x, tc.decimals, got, tc.want)
		}
	}
}

// TestRoundScoreHalves checks half up on every exact half the weighted mean
// of two panel averages (60/40) can produce on a 60–100 scale, step 0.5, 1–9
// kept ballots each: the floats land on either side of the half and must
// all round up.
func TestRoundScoreHalves(t *testing.T) {
	t.Parallel()
	ev := Event{Panels: []Panel{{ID: "a", Weight: 0.6}, {ID: "j", Weight: 0.4}}, Rules: Rules{Decimals: 2}}
	halves := 0
	for ka := int64(1); ka <= 9; ka += 4 {
		for kj := int64(1); kj <= 9; kj++ {
			for sa := 120 * ka; sa <= 200*ka; sa++ { // sum of kept audience scores in half points
				for sj := 120 * kj; sj <= 200*kj; sj++ {
					// Exact value ×100 = (6·sa·kj + 4·sj·ka)·100 / (20·ka·kj); a half when
					// 2·that is odd.
					num, den := (6*sa*kj+4*sj*ka)*100, 20*ka*kj
					if (2*num)%den != 0 || (2*num/den)%2 == 0 {
						continue
					}
					halves++
					want := float64((2*num/den+1)/2) / 100
					panels := []PanelScore{
						{Panel: "a", Count: int(ka), Average: TrimmedAverage(sa*5000, int(ka))},
						{Panel: "j", Count: int(kj), Average: TrimmedAverage(sj*5000, int(kj))},
					}
					if got := FinalScore(&ev, panels); got != want {
						t.Fatalf("audience %d×%v, judges %d×%v: final %.17g, want %v (half up)",
							ka, panels[0].Average, kj, panels[1].Average, got, want)
					}
				}
			}
		}
	}
	if halves < 1000 {
		t.Fatalf("only %d halves checked", halves)
	}
}

func TestFinalScore(t *testing.T) {
	t.Parallel()
	ev := validEvent() // audience 0.6, judges 0.4, 2 decimals
	cases := []struct {
		name   string
		ev     *Event
		panels []PanelScore
		want   float64
	}{
		{"both panels", &ev, []PanelScore{{Count: 7, Average: 88.4}, {Count: 5, Average: 535.0 / 6}}, 88.71},
		{"no judges: their weight is left out", &ev, []PanelScore{{Count: 3, Average: 87.5}, {}}, 87.5},
		{"no audience", &ev, []PanelScore{{}, {Count: 2, Average: 89}}, 89},
		{"no ballots", &ev, []PanelScore{{}, {}}, 0},
		{"weights need not add up to 1", func() *Event {
			e := validEvent()
			e.Panels[0].Weight, e.Panels[1].Weight = 3, 1
			return &e
		}(), []PanelScore{{Count: 1, Average: 80}, {Count: 1, Average: 90}}, 82.5},
		{"decimals 0", func() *Event {
			e := validEvent()
			e.Panels[0].Weight, e.Panels[1].Weight, e.Rules.Decimals = 3, 1, 0
			return &e
		}(), []PanelScore{{Count: 1, Average: 80}, {Count: 1, Average: 90}}, 83},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := FinalScore(tc.ev, tc.panels); got != tc.want {
				t.Fatalf("FinalScore = %.17g, want %v", got, tc.want)
			}
		})
	}
}

func TestRank(t *testing.T) {
	t.Parallel()
	type row struct {
		id, group string
		final     float64
		ballots   int
	}
	type ranked struct {
		id              string
		rank, groupRank int
	}
	cases := []struct {
		name string
		rows []row // in stage order
		want []ranked
	}{
		{"ties share a rank: 1, 2, 2, 4", []row{
			{"c1", "", 90, 1}, {"c2", "", 95, 1}, {"c3", "", 85, 1}, {"c4", "", 90, 1},
		}, []ranked{{"c2", 1, 0}, {"c1", 2, 0}, {"c4", 2, 0}, {"c3", 4, 0}}},
		{"three-way tie at the top", []row{
			{"c1", "", 88, 2}, {"c2", "", 88, 2}, {"c3", "", 70, 2}, {"c4", "", 88, 2},
		}, []ranked{{"c1", 1, 0}, {"c2", 1, 0}, {"c4", 1, 0}, {"c3", 4, 0}}},
		{"groups rank separately, ties too", []row{
			{"c1", "A", 85, 3}, {"c2", "B", 90, 2}, {"c3", "A", 90, 1}, {"c4", "B", 0, 0},
			{"c5", "A", 85, 5}, {"c6", "", 80, 1}, {"c7", "A", 0, 1}, {"c8", "A", 0, 0},
			{"c9", "A", 84, 1},
		}, []ranked{
			{"c2", 1, 1}, {"c3", 1, 1}, {"c1", 3, 2}, {"c5", 3, 2}, {"c9", 5, 4}, {"c6", 6, 0}, {"c7", 7, 5},
			{"c4", 0, 0}, {"c8", 0, 0},
		}},
		{"group ties 1, 2, 2, 4", []row{
			{"c1", "B", 99, 1}, {"c2", "A", 90, 1}, {"c3", "A", 80, 1}, {"c4", "A", 80, 1}, {"c5", "A", 70, 1},
		}, []ranked{{"c1", 1, 1}, {"c2", 2, 1}, {"c3", 3, 2}, {"c4", 3, 2}, {"c5", 5, 4}}},
		{"unscored last, in stage order", []row{
			{"c1", "", 0, 0}, {"c2", "", 61, 1}, {"c3", "", 0, 0}, {"c4", "", 60, 1},
		}, []ranked{{"c2", 1, 0}, {"c4", 2, 0}, {"c1", 0, 0}, {"c3", 0, 0}}},
		{"nobody scored", []row{{"c1", "A", 0, 0}, {"c2", "A", 0, 0}},
			[]ranked{{"c1", 0, 0}, {"c2", 0, 0}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := Event{}
			var rows []Standing
			total := 0
			for _, r := range tc.rows {
				ev.Contestants = append(ev.Contestants, Contestant{ID: r.id, Name: r.id, Group: r.group})
				// Stale ranks must be overwritten.
				rows = append(rows, Standing{Contestant: r.id, Group: r.group, Final: r.final, Ballots: r.ballots, Rank: 99, GroupRank: 99})
				total += r.ballots
			}
			got := Rank(&ev, rows)
			if got.Ballots != total {
				t.Errorf("ballots %d, want %d", got.Ballots, total)
			}
			var gotRanks []ranked
			for _, r := range got.Rows {
				gotRanks = append(gotRanks, ranked{r.Contestant, r.Rank, r.GroupRank})
			}
			if fmt.Sprint(gotRanks) != fmt.Sprint(tc.want) {
				t.Fatalf("ranks\n got %v\nwant %v", gotRanks, tc.want)
			}
		})
	}
}

func TestTally(t *testing.T) {
	t.Parallel()
	ev := validEvent()
	ev.VotingScope = ScopeAll
	b := func(voter, contestant, panel string, units int64) CountedBallot {
		return CountedBallot{Ballot: Ballot{Voter: voter, Contestant: contestant, Panel: panel}, Units: units}
	}
	ballots := []CountedBallot{
		b("v1", "c1", "audience", 800000),
		b("v2", "c1", "audience", 700000),
		b("v1", "c1", "audience", 900000), // replaces v1's 80
		b("v1", "c1", "judges", 600000),   // another panel: counts too
		b("v1", "c2", "audience", 650000),
		b("v3", "c2", "audience", 610000),
		b("v3", "c2", "audience", 660000), // replaces v3's 61
	}
	got := Tally(&ev, ballots)
	// c1: audience 90, 70 → 80 (2 ballots: not trimmed); judges 60.
	// 0.6×80 + 0.4×60 = 72. c2: audience 65, 66 → 65.5. c3 unscored.
	want := Standings{Ballots: 5, Rows: []Standing{
		{Contestant: "c1", Group: "专项组牵头单位", Ballots: 3, Final: 72, Unrounded: 72, Rank: 1, GroupRank: 1, Panels: []PanelScore{
			{Panel: "audience", Count: 2, Average: 80}, {Panel: "judges", Count: 1, Average: 60}}},
		{Contestant: "c2", Group: "街道和园区", Ballots: 2, Final: 65.5, Unrounded: 65.5, Rank: 2, GroupRank: 1, Panels: []PanelScore{
			{Panel: "audience", Count: 2, Average: 65.5}, {Panel: "judges"}}},
		{Contestant: "c3", Panels: []PanelScore{{Panel: "audience"}, {Panel: "judges"}}},
	}}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Fatalf("Tally\n got %+v\nwant %+v", got, want)
	}
	if r, ok := got.Row("c2"); !ok || r.Final != 65.5 {
		t.Fatalf("Row(c2) = %+v, %v", r, ok)
	}
	if _, ok := got.Row("c9"); ok {
		t.Fatalf("Row(c9) found")
	}
	// Only the order of one voter's ballots matters: the later one counts.
	moved := []CountedBallot{ballots[4], ballots[5], ballots[3], ballots[1], ballots[0], ballots[6], ballots[2]}
	if got := Tally(&ev, moved); fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Fatalf("Tally of the same ballots, each voter's in order\n got %+v\nwant %+v", got, want)
	}
	swapped := []CountedBallot{ballots[0], ballots[1], ballots[2], ballots[3], ballots[4], ballots[6], ballots[5]}
	swappedStandings := Tally(&ev, swapped)
	if r, _ := swappedStandings.Row("c2"); r.Panels[0].Average != 63 {
		t.Fatalf("v3's 66 then 61: c2 audience %+v, want 65 and 61 averaging 63", r.Panels[0])
	}
}

// workedExample is the example of docs/scoring.md: audience (大众评审) 60%,
// judges (专家评委) 40%, 60–100 step 0.5, trim 1, 2 decimals.
func workedExample(t *testing.T) (Event, []CountedBallot) {
	ev := Event{
		ID:    "final",
		Title: "擂台赛决赛",
		Contestants: []Contestant{
			{ID: "jia", Name: "甲单位", Group: "专项组牵头单位"},
			{ID: "yi", Name: "乙单位", Group: "专项组牵头单位"},
			{ID: "bing", Name: "丙单位", Group: "街道和园区"},
			{ID: "ding", Name: "丁单位", Group: "街道和园区"},
			{ID: "wu", Name: "戊单位", Group: "街道和园区"},
		},
		Panels: []Panel{
			{ID: "audience", Name: "大众评审", Weight: 0.6},
			{ID: "judges", Name: "专家评委", Weight: 0.4, Key: "k"},
		},
		Rules:       Rules{Min: 60, Max: 100, Step: 0.5, Trim: 1, Decimals: 2},
		VotingScope: ScopeAll,
		Revision:    1,
	}
	if err := ev.Validate(); err != nil {
		t.Fatal(err)
	}
	scores := map[string]map[string][]float64{
		"jia":  {"audience": {90, 92}, "judges": {88, 90}},
		"yi":   {"audience": {85, 88.5, 90, 79, 92, 86.5, 95}, "judges": {87, 91.5, 89, 93, 84.5}},
		"bing": {"audience": {80, 86, 87.5, 88, 89, 91, 96}, "judges": {85, 88, 89.5, 90.5, 94}},
		"ding": {"audience": {85, 87.5, 100}},
	}
	var ballots []CountedBallot
	n := 0
	for _, c := range ev.Contestants {
		for _, p := range ev.Panels {
			for _, s := range scores[c.ID][p.ID] {
				n++
				cb, err := ev.Count(Ballot{
					ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", n), Event: ev.ID,
					Voter: fmt.Sprintf("%s-%d", p.ID, n), Contestant: c.ID, Panel: p.ID, Score: s,
				})
				if err != nil {
					t.Fatal(err)
				}
				ballots = append(ballots, cb)
			}
		}
	}
	return ev, ballots
}

// TestWorkedExample asserts every number of the worked example in
// docs/scoring.md.
func TestWorkedExample(t *testing.T) {
	t.Parallel()
	ev, ballots := workedExample(t)
	st := Tally(&ev, ballots)
	type panel struct {
		count, dropped int
		average        float64
	}
	want := []struct {
		id              string
		audience        panel
		judges          panel
		final           float64
		rank, groupRank int
	}{
		// 甲: 2 ballots per panel are not trimmed. 0.6×91 + 0.4×89 = 90.2.
		{"jia", panel{2, 0, 91}, panel{2, 0, 89}, 90.2, 1, 1},
		// 乙: audience 79 … 95 → drop 79 and 95 → 442 / 5 = 88.4; judges
		// drop 84.5 and 93 → 267.5 / 3 = 89.1666…; 53.04 + 35.6666… =
		// 88.70666… → 88.71.
		{"yi", panel{7, 2, 88.4}, panel{5, 2, 267.5 / 3}, 88.71, 2, 2},
		// 丙: 441.5 / 5 = 88.3; 268 / 3 = 89.3333…; 52.98 + 35.7333… =
		// 88.71333… → 88.71: a tie with 乙 at 2 decimals.
		{"bing", panel{7, 2, 88.3}, panel{5, 2, 268.0 / 3}, 88.71, 2, 1},
		// 丁: 3 audience ballots → drop 85 and 100 → 87.5; no judges: their
		// 40% is left out, so 87.5, not 0.6×87.5 = 52.5.
		{"ding", panel{3, 2, 87.5}, panel{0, 0, 0}, 87.5, 4, 2},
		// 戊: no ballots, unranked, last.
		{"wu", panel{0, 0, 0}, panel{0, 0, 0}, 0, 0, 0},
	}
	if len(st.Rows) != len(want) || st.Ballots != 2+2+7+5+7+5+3 {
		t.Fatalf("standings %+v", st)
	}
	for i, w := range want {
		r := st.Rows[i]
		a, j := r.Panels[0], r.Panels[1]
		ok := r.Contestant == w.id && r.Final == w.final && r.Rank == w.rank && r.GroupRank == w.groupRank &&
			a.Count == w.audience.count && a.Dropped == w.audience.dropped && math.Abs(a.Average-w.audience.average) < 1e-12 &&
			j.Count == w.judges.count && j.Dropped == w.judges.dropped && math.Abs(j.Average-w.judges.average) < 1e-12 &&
			r.Ballots == w.audience.count+w.judges.count
		if !ok {
			t.Errorf("row %d = %+v\nwant %+v", i, r, w)
		}
	}
	// The unrounded weighted means of 乙 and 丙.
	for _, c := range []struct {
		id   string
		mean float64
	}{{"yi", 88.70666666666666}, {"bing", 88.71333333333334}} {
		r, _ := st.Row(c.id)
		mean := (0.6*r.Panels[0].Average + 0.4*r.Panels[1].Average) / (0.6 + 0.4)
		if math.Abs(mean-c.mean) > 1e-9 {
			t.Errorf("%s: weighted mean %.17g, want %v", c.id, mean, c.mean)
		}
	}
}

// TestCriteriaExample asserts the criteria example of docs/scoring.md:
// 举措 weight 1, 成绩 weight 2; 86.5 and 90 → 266.5 / 3 = 88.8333… → 88.8333.
func TestCriteriaExample(t *testing.T) {
	t.Parallel()
	ev := validEvent()
	ev.Rules.Criteria = []Criterion{{ID: "measures", Name: "举措", Weight: 1}, {ID: "results", Name: "成绩", Weight: 2}}
	cb, err := ev.Count(Ballot{ID: testBallotID, Event: "show", Voter: "v1", Contestant: "c1", Panel: "audience",
		Scores: map[string]float64{"measures": 86.5, "results": 90}})
	if err != nil {
		t.Fatal(err)
	}
	if cb.Units != 888333 || cb.Points() != 88.8333 {
		t.Fatalf("units %d (%v points), want 888333 (88.8333)", cb.Units, cb.Points())
	}
}

func TestScoringDocMatches(t *testing.T) {
	t.Parallel()
	// The numbers above appear in docs/scoring.md; a change of the example
	// must change both.
	raw, err := os.ReadFile(filepath.Join("..", "docs", "scoring.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, s := range []string{"88.4", "89.1667", "88.7067", "88.71", "88.3", "89.3333", "88.7133", "90.20", "87.50", "88.8333", "65.73"} {
		if !strings.Contains(doc, s) {
			t.Errorf("docs/scoring.md does not mention %s", s)
		}
	}
}

// TestTrimDropped: trimming drops trim ballots at each end only when some
// are left in the middle.
func TestTrimDropped(t *testing.T) {
	for _, tc := range []struct{ count, trim, want int }{
		{0, 1, 0}, {2, 1, 0}, {3, 1, 2}, {10, 1, 2},
		{4, 2, 0}, {5, 2, 4}, {5, 0, 0}, {1, 0, 0},
	} {
		if got := TrimDropped(tc.count, tc.trim); got != tc.want {
			t.Errorf("TrimDropped(%d, %d) = %d, want %d", tc.count, tc.trim, got, tc.want)
		}
	}
}
