package voting

import (
	"fmt"
	"strings"
	"testing"
)

// revealStandings ranks contestants c1, c2, … with the given finals; a
// negative final is a contestant without ballots.
func revealStandings(finals ...float64) Standings {
	var ev Event
	rows := make([]Standing, len(finals))
	for i, f := range finals {
		id := fmt.Sprintf("c%d", i+1)
		ev.Contestants = append(ev.Contestants, Contestant{ID: id, Name: id})
		rows[i] = Standing{Contestant: id}
		if f >= 0 {
			rows[i].Final, rows[i].Ballots = f, 1
		}
	}
	return Rank(&ev, rows)
}

// shown writes rows as "contestant:rank" in their order.
func shown(rows []Standing) string {
	parts := make([]string, len(rows))
	for i, r := range rows {
		parts[i] = fmt.Sprintf("%s:%d", r.Contestant, r.Rank)
	}
	return strings.Join(parts, " ")
}

// TestRevealedRows walks every reveal step of standings with and without
// ties and contestants without ballots: each step shows one whole place
// more, from the last place up, best first; nobody without ballots is ever
// shown; steps past the end show no more.
func TestRevealedRows(t *testing.T) {
	t.Parallel()
	const none = -1
	cases := []struct {
		name   string
		finals []float64
		steps  []string // what each step shows: steps[0] after one step
	}{
		{"no ties", []float64{90, 95, 85}, []string{
			"c3:3",
			"c1:2 c3:3",
			"c2:1 c1:2 c3:3",
		}},
		{"a tie at the podium (two at place 3, no place 4)", []float64{95, 92, 90, 90, 85}, []string{
			"c5:5",
			"c3:3 c4:3 c5:5",
			"c2:2 c3:3 c4:3 c5:5",
			"c1:1 c2:2 c3:3 c4:3 c5:5",
		}},
		{"a tie at the last place", []float64{70, 95, 70, 80}, []string{
			"c1:3 c3:3",
			"c4:2 c1:3 c3:3",
			"c2:1 c4:2 c1:3 c3:3",
		}},
		{"all tied", []float64{88, 88, 88}, []string{
			"c1:1 c2:1 c3:1",
		}},
		{"contestants without ballots are never revealed", []float64{none, 90, none, 80, none}, []string{
			"c4:2",
			"c2:1 c4:2",
		}},
		{"1, 1, 3: two winners, no second place", []float64{90, 95, 95}, []string{
			"c1:3",
			"c2:1 c3:1 c1:3",
		}},
		{"nobody has ballots", []float64{none, none}, nil},
		{"no contestants", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sd := revealStandings(tc.finals...)
			if got := RevealSteps(&sd); got != len(tc.steps) {
				t.Fatalf("RevealSteps = %d, want %d (standings %s)", got, len(tc.steps), shown(sd.Rows))
			}
			if got := RevealedRows(&sd, 0); len(got) != 0 {
				t.Errorf("nothing revealed shows %s", shown(got))
			}
			for i, want := range tc.steps {
				if got := shown(RevealedRows(&sd, i+1)); got != want {
					t.Errorf("step %d shows %q, want %q", i+1, got, want)
				}
			}
			last := ""
			if n := len(tc.steps); n > 0 {
				last = tc.steps[n-1]
			}
			if got := shown(RevealedRows(&sd, len(tc.steps)+2)); got != last {
				t.Errorf("steps past the end show %q, want %q", got, last)
			}
		})
	}
}

// TestRevealedRowsCopies: the revealed rows are a copy; changing them does
// not change the standings (the hub keeps both).
func TestRevealedRowsCopies(t *testing.T) {
	t.Parallel()
	sd := revealStandings(90, 80)
	rows := RevealedRows(&sd, 1)
	rows[0].Contestant = "changed"
	if sd.Rows[1].Contestant != "c2" {
		t.Fatalf("RevealedRows shares its rows with the standings")
	}
}

func TestRevealUnderWay(t *testing.T) {
	t.Parallel()
	sd := revealStandings(90, 90, 80) // two places
	cases := []struct {
		stage Stage
		want  bool
	}{
		{Stage{Phase: PhaseClosed, Current: "c3"}, false},
		{Stage{Phase: PhaseReveal, Revealed: 0}, true},
		{Stage{Phase: PhaseReveal, Revealed: 1}, true},
		{Stage{Phase: PhaseReveal, Revealed: 2}, false},
		{Stage{Phase: PhaseEnded, Revealed: 1}, false},
	}
	for _, tc := range cases {
		if got := RevealUnderWay(&tc.stage, &sd); got != tc.want {
			t.Errorf("RevealUnderWay(%+v) = %v, want %v", tc.stage, got, tc.want)
		}
	}
}
