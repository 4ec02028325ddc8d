package voting

import (
	"reflect"
	"testing"
	"time"
)

// TestViewOf is the table of who sees what: the host always everything;
// the screen the standings while the ranking is shown or after the end,
// only the revealed places during the reveal, nothing otherwise; phones
// the same places as ranking rows, never a contestant without ballots.
func TestViewOf(t *testing.T) {
	t.Parallel()
	// a first, b and c tied second, d without ballots.
	sd := Standings{Ballots: 9, Rows: []Standing{
		{Contestant: "a", Final: 90, Rank: 1, Ballots: 3},
		{Contestant: "b", Final: 80, Rank: 2, Ballots: 3},
		{Contestant: "c", Final: 80, Rank: 2, Ballots: 3},
		{Contestant: "d"},
	}}
	all := []RankingRow{{"a", 90, 1}, {"b", 80, 2}, {"c", 80, 2}}
	tied := []Standing{sd.Rows[1], sd.Rows[2]}
	cases := []struct {
		name   string
		stage  Stage
		screen *Standings
		phone  []RankingRow
	}{
		{"lobby, ranking shown", Stage{Phase: PhaseLobby, RankingVisible: true}, &sd, all},
		{"voting, ranking shown", Stage{Phase: PhaseVoting, RankingVisible: true}, &sd, all},
		{"voting, ranking hidden", Stage{Phase: PhaseVoting}, nil, nil},
		{"closed, ranking hidden", Stage{Phase: PhaseClosed}, nil, nil},
		{"reveal, nothing yet", Stage{Phase: PhaseReveal}, &Standings{Rows: []Standing{}, Ballots: 9}, []RankingRow{}},
		{"reveal, the tie", Stage{Phase: PhaseReveal, Revealed: 1}, &Standings{Rows: tied, Ballots: 9}, all[1:]},
		{"reveal, hidden ranking does not matter", Stage{Phase: PhaseReveal, Revealed: 1, RankingVisible: false}, &Standings{Rows: tied, Ballots: 9}, all[1:]},
		{"reveal, all places", Stage{Phase: PhaseReveal, Revealed: 5}, &Standings{Rows: sd.Rows[:3], Ballots: 9}, all},
		{"ended, ranking hidden", Stage{Phase: PhaseEnded}, &sd, all},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if host := ViewOf(AudienceHost, &sd, &tc.stage); !reflect.DeepEqual(host, View{Standings: &sd}) {
				t.Errorf("host sees %+v, want everything", host)
			}
			if screen := ViewOf(AudienceScreen, &sd, &tc.stage); !reflect.DeepEqual(screen, View{Standings: tc.screen}) {
				t.Errorf("screen sees %+v, want %+v", screen.Standings, tc.screen)
			}
			if phone := ViewOf(AudiencePhone, &sd, &tc.stage); !reflect.DeepEqual(phone, View{Ranking: tc.phone}) {
				t.Errorf("phone sees %+v, want %+v", phone.Ranking, tc.phone)
			}
			if other := ViewOf("nobody", &sd, &tc.stage); !reflect.DeepEqual(other, View{}) {
				t.Errorf("an unknown audience sees %+v", other)
			}
		})
	}
}

// TestViewOfCopies: a view does not alias the standings value it was made
// from, so that the room may replace its standings while frames are out.
func TestViewOfCopies(t *testing.T) {
	t.Parallel()
	sd := Standings{Ballots: 1, Rows: []Standing{{Contestant: "a", Rank: 1, Ballots: 1}}}
	st := Stage{Phase: PhaseVoting, RankingVisible: true}
	for _, a := range []Audience{AudienceHost, AudienceScreen} {
		v := ViewOf(a, &sd, &st)
		if v.Standings == &sd {
			t.Errorf("%s: the view is the standings themselves", a)
		}
	}
}

func TestViewChanges(t *testing.T) {
	t.Parallel()
	base := Stage{Phase: PhaseVoting, Current: "a", RankingVisible: true, Version: 3}
	cases := []struct {
		name   string
		change func(*Stage)
		want   bool
	}{
		{"only the version", func(s *Stage) { s.Version++ }, false},
		{"the countdown", func(s *Stage) { s.EndsAt = 123 }, false},
		{"ranking hidden", func(s *Stage) { s.RankingVisible = false }, true},
		{"phase", func(s *Stage) { s.Phase = PhaseClosed }, true},
		{"contestant", func(s *Stage) { s.Current = "b" }, true},
		{"a reveal step", func(s *Stage) { s.Revealed++ }, true},
	}
	for _, tc := range cases {
		next := base
		tc.change(&next)
		if got := ViewChanges(&base, &next); got != tc.want {
			t.Errorf("%s: ViewChanges = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCountdownOver(t *testing.T) {
	t.Parallel()
	at := time.UnixMilli(10_000)
	cases := []struct {
		name  string
		stage Stage
		want  bool
	}{
		{"voting, no countdown", Stage{Phase: PhaseVoting}, false},
		{"voting, time left", Stage{Phase: PhaseVoting, EndsAt: 10_001}, false},
		{"voting, at the deadline", Stage{Phase: PhaseVoting, EndsAt: 10_000}, true},
		{"voting, past it", Stage{Phase: PhaseVoting, EndsAt: 9_000}, true},
		{"presenting, past a deadline", Stage{Phase: PhasePresenting, EndsAt: 9_000}, false},
	}
	for _, tc := range cases {
		if got := tc.stage.CountdownOver(at); got != tc.want {
			t.Errorf("%s: CountdownOver = %v, want %v", tc.name, got, tc.want)
		}
	}
}
