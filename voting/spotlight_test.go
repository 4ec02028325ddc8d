package voting

import (
	"testing"
	"time"
)

// TestSpotlightOf: five seats, one did not score; trim 1 strikes out the
// highest and the lowest of the four; the panel result and the final are
// Tally's; the audience panel shows result and count only.
func TestSpotlightOf(t *testing.T) {
	ev := validEvent()
	ev.Panels[1].Seats = SeatNames(5)
	ev.Normalize()
	codes := []string{"BBBBBBBBBB", "CCCCCCCCCC", "DDDDDDDDDD", "FFFFFFFFFF", "GGGGGGGGGG"}
	var tickets []Ticket
	for i, c := range codes {
		tickets = append(tickets, Ticket{Code: c, Panel: "judges", Seat: i + 1})
	}
	b := func(voter, panel string, points float64, at int64) CountedBallot {
		return CountedBallot{Ballot: Ballot{Voter: voter, Contestant: "c1", Panel: panel}, Units: int64(points * ScoreUnits), At: at}
	}
	ballots := []CountedBallot{
		b(SeatVoter(codes[0]), "judges", 88, 1),
		b(SeatVoter(codes[1]), "judges", 92.5, 2),
		b(SeatVoter(codes[2]), "judges", 90, 3),
		b(SeatVoter(codes[3]), "judges", 85, 4), // seat 5 did not score
		b("a1", "audience", 80, 5), b("a2", "audience", 90, 6),
		{Ballot: Ballot{Voter: "a3", Contestant: "c2", Panel: "audience"}, Units: 600000}, // another contestant
	}
	sp := SpotlightOf(&ev, ev.Contestants[0], ballots, tickets)
	j := sp.Panels[1]
	want := []SeatScore{
		{1, "评委一", true, 88, ""}, {2, "评委二", true, 92.5, "high"}, {3, "评委三", true, 90, ""},
		{4, "评委四", true, 85, "low"}, {5, "评委五", false, 0, ""},
	}
	for i, w := range want {
		if j.Seats[i] != w {
			t.Errorf("seat %d: %+v, want %+v", i+1, j.Seats[i], w)
		}
	}
	// Judges (88 + 90) / 2 = 89; audience 85; 0.6×85 + 0.4×89 = 86.6.
	if j.Result != 89 || j.Count != 4 || j.Mode != ModeTrimmed || sp.Panels[0].Seats != nil || sp.Panels[0].Result != 85 || sp.Final != 86.6 || sp.Ballots != 6 {
		t.Fatalf("spotlight %+v", sp)
	}
}

// TestStageSpotlight: closing voting in an event with seats spotlights
// the contestant; the host's 亮分 is refused while voting is open for it;
// any move clears it.
func TestStageSpotlight(t *testing.T) {
	ev := validEvent()
	ev.Panels[1].Seats = SeatNames(5)
	ev.Normalize()
	now := time.UnixMilli(1_700_000_000_000)
	st := InitialStage()
	apply := func(cmd Command) error {
		next, err := st.Apply(&ev, cmd, now, 0)
		if err == nil {
			st = next
		}
		return err
	}
	must := func(cmd Command) {
		if err := apply(cmd); err != nil {
			t.Fatalf("%+v: %v", cmd, err)
		}
	}
	must(Command{Action: ActionNext})
	must(Command{Action: ActionOpen})
	if err := apply(Command{Action: ActionSpotlight}); err == nil || st.Spotlight != "" {
		t.Fatalf("亮分 while voting is open: %v, spotlight %q", err, st.Spotlight)
	}
	must(Command{Action: ActionClose})
	if st.Spotlight != "c1" {
		t.Fatalf("after close: spotlight %q, want c1", st.Spotlight)
	}
	hide := false
	must(Command{Action: ActionSpotlight, Visible: &hide})
	if st.Spotlight != "" {
		t.Fatalf("skipped: spotlight %q", st.Spotlight)
	}
	must(Command{Action: ActionSpotlight})
	must(Command{Action: ActionRanking, Visible: &hide})
	if st.Spotlight != "c1" {
		t.Fatalf("hiding the ranking ended the spotlight")
	}
	must(Command{Action: ActionNext})
	if st.Spotlight != "" {
		t.Fatalf("the next contestant keeps the spotlight %q", st.Spotlight)
	}
	must(Command{Action: ActionSpotlight, Contestant: "c1"}) // an earlier, closed contestant
	if st.Spotlight != "c1" {
		t.Fatalf("spotlight %q, want c1", st.Spotlight)
	}
}
