package voting

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPanelResultModes is the reference of each scoring mode: the judges of
// the docs/scoring.md example, five seats of which four scored 85, 88, 90
// and 92.5 (the fifth did not score and is not counted).
func TestPanelResultModes(t *testing.T) {
	judges := []int64{850000, 880000, 900000, 925000}
	cases := []struct {
		name    string
		mode    ScoringMode
		trim    int // the panel's own trim
		units   []int64
		dropped int
		result  float64
	}{
		{"trimmed (rules' trim 1): drop 92.5 and 85", "", 0, judges, 2, 89},
		{"trimmed named explicitly", ModeTrimmed, 0, judges, 2, 89},
		{"trimmed, the panel's own trim 2: not more than 4 ballots", ModeTrimmed, 2, judges, 0, 88.875},
		{"average: every ballot", ModeAverage, 0, judges, 0, 88.875},
		{"sum: every ballot", ModeSum, 0, judges, 0, 355.5},
		{"sum of one ballot", ModeSum, 0, []int64{600000}, 0, 60},
		{"average without ballots", ModeAverage, 0, nil, 0, 0},
		{"sum without ballots", ModeSum, 0, nil, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := validEvent() // rules trim 1
			ev.Panels[1].Mode, ev.Panels[1].Trim = tc.mode, tc.trim
			if err := ev.Validate(); err != nil {
				t.Fatal(err)
			}
			got := PanelResult("judges", tc.units, ev.PanelRule(1))
			want := PanelScore{Panel: "judges", Count: len(tc.units), Dropped: tc.dropped, Average: tc.result}
			if got != want {
				t.Fatalf("PanelResult = %+v, want %+v", got, want)
			}
		})
	}
}

// TestModesFinal: a sum panel's result enters the weighted mean as it is,
// and the event-wide trim does not touch an average panel.
func TestModesFinal(t *testing.T) {
	ev := validEvent()
	ev.Panels = []Panel{{ID: "audience", Name: "大众评审", Weight: 1, Mode: ModeAverage}}
	ev.VotingScope = ScopeAll
	b := func(voter string, units int64) CountedBallot {
		return CountedBallot{Ballot: Ballot{Voter: voter, Contestant: "c1", Panel: "audience"}, Units: units}
	}
	st := Tally(&ev, []CountedBallot{b("a", 600000), b("b", 700000), b("c", 1000000)})
	if r := st.Rows[0]; r.Final != 76.67 || r.Panels[0].Dropped != 0 || r.Panels[0].Top != 1 {
		t.Fatalf("average mode: %+v", r)
	}
	ev.Panels[0].Mode = ModeSum
	st = Tally(&ev, []CountedBallot{b("a", 600000), b("b", 700000), b("c", 1000000)})
	if r := st.Rows[0]; r.Final != 230 || r.Unrounded != 230 {
		t.Fatalf("sum mode: %+v", r)
	}
}

func TestValidateModesAndTieBreaks(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Event)
		err    string // "" for valid
	}{
		{"modes", func(e *Event) { e.Panels[0].Mode, e.Panels[1].Mode = ModeSum, ModeAverage }, ""},
		{"panel trim", func(e *Event) { e.Panels[1].Mode, e.Panels[1].Trim = ModeTrimmed, 2 }, ""},
		{"unknown mode", func(e *Event) { e.Panels[0].Mode = "median" }, "scoring mode"},
		{"trim with sum", func(e *Event) { e.Panels[0].Mode, e.Panels[0].Trim = ModeSum, 1 }, "trimmed mode only"},
		{"negative trim", func(e *Event) { e.Panels[0].Trim = -1 }, "trim must be"},
		{"tie-breaks", func(e *Event) {
			e.Rules.TieBreaks = []TieBreak{"unrounded", "panel:judges", "top", "top:audience"}
		}, ""},
		{"unknown tie-break", func(e *Event) { e.Rules.TieBreaks = []TieBreak{"coin"} }, "use unrounded"},
		{"tie-break on a missing panel", func(e *Event) { e.Rules.TieBreaks = []TieBreak{"panel:nobody"} }, "no panel"},
		{"panel tie-break without a panel", func(e *Event) { e.Rules.TieBreaks = []TieBreak{"panel"} }, "no panel"},
		{"top of a missing panel", func(e *Event) { e.Rules.TieBreaks = []TieBreak{"top:x"} }, "no panel"},
		{"twice", func(e *Event) { e.Rules.TieBreaks = []TieBreak{"top", "top"} }, "twice"},
		{"unrounded with a panel", func(e *Event) { e.Rules.TieBreaks = []TieBreak{"unrounded:judges"} }, "use unrounded"},
		{"seats", func(e *Event) { e.Panels[1].Seats = SeatNames(5) }, ""},
		{"too many seats", func(e *Event) { e.Panels[1].Seats = SeatNames(MaxSeats + 1) }, "at most"},
		{"a seat twice", func(e *Event) { e.Panels[1].Seats = []string{"评委一", "评委一"} }, "twice"},
		{"an empty seat name", func(e *Event) { e.Panels[1].Seats = []string{"评委一", " "} }, "seat name is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := validEvent()
			tc.change(&ev)
			ev.Normalize()
			err := ev.Validate()
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("want valid, got %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("want an error with %q, got %v", tc.err, err)
			}
		})
	}
}

func TestSeatNames(t *testing.T) {
	got := SeatNames(23)
	for i, want := range map[int]string{0: "评委一", 4: "评委五", 9: "评委十", 10: "评委十一", 19: "评委二十", 22: "评委二十三"} {
		if got[i] != want {
			t.Errorf("seat %d: %q, want %q", i+1, got[i], want)
		}
	}
	ev := validEvent()
	ev.Panels[1].Seats = []string{" 张评委 "}
	ev.Normalize()
	if !ev.Panels[1].Tickets || ev.Panels[1].Seats[0] != "张评委" {
		t.Fatalf("seats imply tickets: %+v", ev.Panels[1])
	}
	if c, ok := SeatCode(SeatVoter("BCDFG23456")); !ok || c != "BCDFG23456" {
		t.Fatalf("SeatCode(SeatVoter) = %q, %v", c, ok)
	}
	for _, v := range []string{"BCDFG23456", "seat.x", "seat."} {
		if _, ok := SeatCode(v); ok {
			t.Errorf("SeatCode(%q) is a seat", v)
		}
	}
}

// tieEvent is the tie-break example of docs/scoring.md: audience weight 3
// and judges weight 2 (60% and 40%), both trim 1, 2 decimals, tie-breaks
// unrounded, then the judges' result, then the number of top scores.
func tieEvent() Event {
	ev := validEvent()
	ev.VotingScope = ScopeAll
	ev.Panels[0].Weight, ev.Panels[1].Weight = 3, 2
	ev.Rules.TieBreaks = []TieBreak{"unrounded", "panel:judges", "top"}
	ev.Contestants = nil
	for _, id := range []string{"jia", "yi", "bing", "ding", "wu", "ji", "geng", "xin"} {
		ev.Contestants = append(ev.Contestants, Contestant{ID: id, Name: id})
	}
	return ev
}

// tieBallots casts the given points for a contestant in a panel, one
// voter each.
func tieBallots(c, panel string, points ...float64) []CountedBallot {
	var out []CountedBallot
	for i, p := range points {
		out = append(out, CountedBallot{Ballot: Ballot{Voter: c + panel + string(rune('a'+i)), Contestant: c, Panel: panel}, Units: int64(p * ScoreUnits)})
	}
	return out
}

func tieExample() (Event, []CountedBallot) {
	ev := tieEvent()
	var bs []CountedBallot
	add := func(c string, audience, judges []float64) {
		bs = append(bs, tieBallots(c, "audience", audience...)...)
		bs = append(bs, tieBallots(c, "judges", judges...)...)
	}
	// 甲 and 乙: 88.71 each; unrounded 88.7133… beats 88.7067….
	add("yi", []float64{85, 88.5, 90, 79, 92, 86.5, 95}, []float64{87, 91.5, 89, 93, 84.5})
	add("jia", []float64{80, 86, 87.5, 88, 89, 91, 96}, []float64{85, 88, 89.5, 90.5, 94})
	// 丙 and 丁: (3×88 + 2×90) / 5 = (3×90 + 2×87) / 5 = 88.8 exactly; the
	// judges' 90 beats 87.
	add("ding", []float64{90, 90, 90}, []float64{87, 87, 87})
	add("bing", []float64{88, 88, 88}, []float64{90, 90, 90})
	// 戊 and 己: (3×86 + 2×93) / 5 = 88.8 too, and the same judges' 93,
	// but 戊 got a 100 (dropped as the highest, still a top score).
	add("ji", []float64{95, 86, 86, 86, 80}, []float64{93, 93, 93})
	add("wu", []float64{100, 86, 86, 86, 70}, []float64{93, 93, 93})
	// 庚 and 辛: equal in every step: they share a place.
	add("geng", []float64{70, 70}, []float64{70})
	add("xin", []float64{70, 70}, []float64{70})
	return ev, bs
}

// TestTieBreakExample asserts the tie-break example of docs/scoring.md.
func TestTieBreakExample(t *testing.T) {
	ev, bs := tieExample()
	st := Tally(&ev, bs)
	want := []struct {
		id    string
		final float64
		rank  int
	}{
		{"wu", 88.8, 1}, {"ji", 88.8, 2}, {"bing", 88.8, 3}, {"ding", 88.8, 4},
		{"jia", 88.71, 5}, {"yi", 88.71, 6}, {"geng", 70, 7}, {"xin", 70, 7},
	}
	for i, w := range want {
		if r := st.Rows[i]; r.Contestant != w.id || r.Final != w.final || r.Rank != w.rank {
			t.Errorf("row %d: %s final %v rank %d, want %s %v %d", i, r.Contestant, r.Final, r.Rank, w.id, w.final, w.rank)
		}
	}
	// Without tie-breaks, equal final scores share a place, as before.
	ev.Rules.TieBreaks = nil
	st = Tally(&ev, bs)
	ranks := map[string]int{}
	for _, r := range st.Rows {
		ranks[r.Contestant] = r.Rank
	}
	if ranks["bing"] != 1 || ranks["ji"] != 1 || ranks["wu"] != 1 || ranks["jia"] != 5 || ranks["yi"] != 5 || ranks["xin"] != 7 {
		t.Fatalf("without tie-breaks: %v", ranks)
	}
}

// TestTieBreaks checks each tie-break on its own, and the order of the
// list: the first step that differs decides.
func TestTieBreaks(t *testing.T) {
	_, bs := tieExample()
	cases := []struct {
		name   string
		breaks []TieBreak
		first  string // the pair's winner
		second string
		shared bool // the pair shares a place
	}{
		{"unrounded", []TieBreak{"unrounded"}, "jia", "yi", false},
		{"no tie-break", nil, "jia", "yi", true},
		{"the judges' result decides", []TieBreak{"panel:judges"}, "bing", "ding", false},
		{"the audience's result decides the other way", []TieBreak{"panel:audience"}, "ding", "bing", false},
		{"unrounded does not separate exact equals", []TieBreak{"unrounded"}, "bing", "ding", true},
		{"top scores", []TieBreak{"top"}, "wu", "ji", false},
		{"top scores of the audience", []TieBreak{"top:audience"}, "wu", "ji", false},
		{"top scores of the judges: none", []TieBreak{"top:judges"}, "ji", "wu", true},
		{"exhausted: shared", []TieBreak{"unrounded", "panel:judges", "top"}, "geng", "xin", true},
		{"a later step decides only when the first is equal", []TieBreak{"panel:judges", "top"}, "bing", "ding", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := tieEvent()
			ev.Rules.TieBreaks = tc.breaks
			if err := ev.Validate(); err != nil {
				t.Fatal(err)
			}
			st := Tally(&ev, bs)
			a, _ := st.Row(tc.first)
			b, _ := st.Row(tc.second)
			switch {
			case tc.shared && a.Rank != b.Rank:
				t.Fatalf("%s rank %d, %s rank %d: want a shared place", tc.first, a.Rank, tc.second, b.Rank)
			case !tc.shared && a.Rank >= b.Rank:
				t.Fatalf("%s rank %d, %s rank %d: want %[1]s first", tc.first, a.Rank, tc.second, b.Rank)
			}
		})
	}
}

// TestTieBreakPanelWithoutBallots: a contestant without a result in the
// named panel places after one with any result.
func TestTieBreakPanelWithoutBallots(t *testing.T) {
	ev := tieEvent()
	ev.Rules.TieBreaks = []TieBreak{"panel:judges"}
	bs := append(tieBallots("jia", "audience", 80), tieBallots("yi", "audience", 90, 70)...)
	bs = append(bs, tieBallots("yi", "judges", 60)...)
	// 甲: audience 80 alone → 80. 乙: (3×80 + 2×60) / 5 = 72. Make them equal:
	bs = append(bs, tieBallots("jia", "judges")...)
	st := Tally(&ev, bs)
	if st.Rows[0].Contestant != "jia" || st.Rows[0].Rank != 1 {
		t.Fatalf("%+v", st.Rows[:2])
	}
	ev.Contestants = ev.Contestants[:2]
	bs = append(tieBallots("jia", "audience", 76), tieBallots("yi", "audience", 80)...)
	bs = append(bs, tieBallots("yi", "judges", 70)...) // (3×80 + 2×70) / 5 = 76
	st = Tally(&ev, bs)
	if st.Rows[0].Contestant != "yi" || st.Rows[1].Rank != 2 || st.Rows[0].Final != st.Rows[1].Final {
		t.Fatalf("the judges' result beats no result: %+v", st.Rows)
	}
}

func TestTieBreakDocMatches(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "docs", "scoring.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, s := range []string{"355.5", "88.875", "panel:judges", "unrounded", "top:", "88.80", "88.7133"} {
		if !strings.Contains(doc, s) {
			t.Errorf("docs/scoring.md does not mention %s", s)
		}
	}
}
