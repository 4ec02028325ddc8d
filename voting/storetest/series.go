package storetest

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"leitai/voting"
)

// testSeries checks the series records: create (Revision 1, a second
// create is a conflict), read, the revision's compare-and-set, the list
// ordered by id, and that they survive a restart.
func testSeries(t *testing.T, f Factory) {
	s, restart := f(t)
	se := voting.Series{ID: "season", Name: "2020年度拱墅区大比武", Rule: voting.RuleWeighted, Weights: []float64{0.3, 0.7},
		Missed: voting.MissedZero, Renamed: map[string]string{"xiaohe": "u12"}}
	created, err := s.CreateSeries(ctx(t), se)
	if err != nil || created.Revision != 1 {
		t.Fatalf("CreateSeries = %+v, %v; want revision 1", created, err)
	}
	_, err = s.CreateSeries(ctx(t), se)
	checkErr(t, "CreateSeries twice", err, voting.ErrConflict)
	_, err = s.Series(ctx(t), "missing")
	checkErr(t, "Series(missing)", err, voting.ErrNotFound)
	_, err = s.Series(ctx(t), "Bad Id")
	checkErr(t, "Series(bad id)", err, voting.ErrNotFound)
	got, err := s.Series(ctx(t), "season")
	if err != nil || !reflect.DeepEqual(got, created) {
		t.Fatalf("Series = %+v, %v; want %+v", got, err, created)
	}
	next := got
	next.Rule, next.Weights, next.Missed = voting.RuleAverage, nil, voting.MissedSkip
	updated, err := s.UpdateSeries(ctx(t), next)
	if err != nil || updated.Revision != 2 {
		t.Fatalf("UpdateSeries = %+v, %v; want revision 2", updated, err)
	}
	_, err = s.UpdateSeries(ctx(t), next) // revision 1 again: stale
	checkErr(t, "UpdateSeries with a stale revision", err, voting.ErrConflict)
	missing := next
	missing.ID = "missing"
	_, err = s.UpdateSeries(ctx(t), missing)
	checkErr(t, "UpdateSeries of a missing series", err, voting.ErrNotFound)
	bad := updated
	bad.Rule = "best"
	_, err = s.UpdateSeries(ctx(t), bad)
	checkErr(t, "UpdateSeries with a bad rule", err, voting.ErrInvalid)
	if _, err := s.CreateSeries(ctx(t), voting.Series{ID: "autumn", Name: "秋季", Rule: voting.RuleSum, Missed: voting.MissedSkip}); err != nil {
		t.Fatal(err)
	}
	checkList := func(s voting.Store) {
		t.Helper()
		list, err := s.SeriesList(ctx(t))
		if err != nil || len(list) != 2 || list[0].ID != "autumn" || !reflect.DeepEqual(list[1], updated) {
			t.Fatalf("SeriesList = %+v, %v", list, err)
		}
	}
	checkList(s)
	if restart != nil {
		s = restart()
		checkList(s)
		if _, err := s.UpdateSeries(ctx(t), updated); err != nil {
			t.Fatalf("UpdateSeries after a restart: %v", err)
		}
	}
}

// seasonUnits are the 16 units of examples/gongshu-2020.yaml.
var seasonUnits = []voting.Contestant{
	{ID: "u01", Name: "区发改经信局", Group: "专项组牵头单位"}, {ID: "u02", Name: "区商务局", Group: "专项组牵头单位"},
	{ID: "u03", Name: "区住建局", Group: "专项组牵头单位"}, {ID: "u04", Name: "区财政局", Group: "专项组牵头单位"},
	{ID: "u05", Name: "区投促局", Group: "专项组牵头单位"}, {ID: "u06", Name: "上塘街道", Group: "街道和园区"},
	{ID: "u07", Name: "祥符街道", Group: "街道和园区"}, {ID: "u08", Name: "康桥街道", Group: "街道和园区"},
	{ID: "u09", Name: "半山街道", Group: "街道和园区"}, {ID: "u10", Name: "米市巷街道", Group: "街道和园区"},
	{ID: "u11", Name: "湖墅街道", Group: "街道和园区"}, {ID: "u12", Name: "小河街道", Group: "街道和园区"},
	{ID: "u13", Name: "拱宸桥街道", Group: "街道和园区"}, {ID: "u14", Name: "和睦街道", Group: "街道和园区"},
	{ID: "u15", Name: "大关街道", Group: "街道和园区"}, {ID: "u16", Name: "区科技园区管委会", Group: "街道和园区"},
}

// testSeason runs three rounds of the 16 units through the Service on the
// store: round 2 is a clone of round 1 without 祥符街道 (u07 misses it),
// round 3 a clone of round 2 with u07 back and 小河街道 under a new id
// (xiaohe, mapped to u12 by the series), and 区住建局 and 区投促局 score
// the same finals in swapped rounds, so that they tie in the season. The
// season table the Service reads from the store must equal SeasonTable
// over the reference standings (Tally of the cast ballots), under every
// rule, before and after round 3 counts.
func testSeason(t *testing.T, s voting.Store) {
	svc := voting.NewService(s, nil)
	se, err := svc.CreateSeries(ctx(t), voting.Series{ID: "gongshu", Name: "2020年度拱墅区大比武",
		Renamed: map[string]string{"xiaohe": "u12"}})
	if err != nil {
		t.Fatal(err)
	}
	r1 := newEvent("round-1", scopeAll, func(ev *voting.Event) {
		ev.Title = "2020年度拱墅区第一轮“战疫情促发展”大比武擂台赛"
		ev.Contestants = append([]voting.Contestant(nil), seasonUnits...)
		ev.Series = "gongshu"
	})
	r1, err = svc.CreateEvent(ctx(t), r1)
	if err != nil || r1.Round != 1 {
		t.Fatalf("round 1: %+v, %v", r1.Round, err)
	}
	r2 := cloneRound(t, svc, "round-1", "round-2", 2, func(ev *voting.Event) {
		ev.Contestants = append(ev.Contestants[:6:6], ev.Contestants[7:]...) // u07 misses round 2
	})
	r3 := cloneRound(t, svc, "round-2", "round-3", 3, func(ev *voting.Event) {
		ev.Contestants = append([]voting.Contestant(nil), seasonUnits...)
		ev.Contestants[11] = voting.Contestant{ID: "xiaohe", Name: "小河街道（更名）", Group: "街道和园区"}
	})
	// A round number is taken once; a series must exist.
	dup := newEvent("dup", func(ev *voting.Event) { ev.Series, ev.Round = "gongshu", 2 })
	_, err = svc.CreateEvent(ctx(t), dup)
	checkErr(t, "a second round 2", err, voting.ErrConflict)
	dup.Series, dup.Round = "nope", 1
	_, err = svc.CreateEvent(ctx(t), dup)
	checkErr(t, "an event in a missing series", err, voting.ErrInvalid)

	rng := rand.New(rand.NewPCG(16, 3))
	scores := map[string][]float64{} // round|unit → the ballots' scores, audience then judges
	tallies := map[string]voting.Standings{}
	var played []voting.SeasonRound
	for n, ev := range []*voting.Event{&r1, &r2, &r3} {
		for _, c := range ev.Contestants {
			k := fmt.Sprintf("%d|%s", n+1, c.ID)
			scores[k] = make([]float64, 8)
			for i := range scores[k] {
				scores[k][i] = 60 + float64(rng.IntN(81))*0.5
			}
		}
		// 区投促局 has 区住建局's round 2 in round 1 and its round 1 in round
		// 2, and the same round 3: the same average, a tie.
		switch n + 1 {
		case 2:
			scores["1|u05"], scores["2|u05"] = scores["2|u03"], scores["1|u03"]
		case 3:
			scores["3|u05"] = scores["3|u03"]
		}
	}
	for n, ev := range []*voting.Event{&r1, &r2, &r3} {
		openVoting(t, s, ev.ID, "")
		var cast []voting.CountedBallot
		for _, c := range ev.Contestants {
			for i, sc := range scores[fmt.Sprintf("%d|%s", n+1, c.ID)] {
				panel := "audience"
				if i >= 5 {
					panel = "judges"
				}
				b := ballot(t, ev, fmt.Sprintf("v%d", i), c.ID, panel, sc, baseTime)
				mustCast(t, s, b, ev.Revision)
				cast = append(cast, b)
			}
		}
		setStage(t, s, ev.ID, func(st *voting.Stage) { st.Phase, st.Current, st.Revealed = voting.PhaseReveal, "", 1 })
		tallies[ev.ID] = voting.Tally(ev, cast)
		sd := tallies[ev.ID]
		played = append(played, voting.SeasonRound{Event: ev, Standings: &sd})
		if n == 1 {
			// Round 3 has ballots but its reveal has not begun: it does
			// not count yet.
			checkSeasonTable(t, svc, &se, played)
		}
	}
	got := checkSeasonTable(t, svc, &se, played)
	rows := map[string]voting.SeasonRow{}
	for _, r := range got.Rows {
		rows[r.Contestant] = r
	}
	if len(got.Rounds) != 3 || len(got.Rows) != 16 || rows["u07"].Played != 2 || rows["u12"].Played != 3 || rows["u12"].Name != "小河街道（更名）" {
		t.Fatalf("season: %d rounds, %d rows, u07 played %d, u12 %+v", len(got.Rounds), len(got.Rows), rows["u07"].Played, rows["u12"])
	}
	if a, b := rows["u03"], rows["u05"]; a.Rank != b.Rank || a.Combined != b.Combined || a.GroupRank != b.GroupRank {
		t.Fatalf("区住建局 %+v and 区投促局 %+v should tie", a, b)
	}
	// Every rule and both ways of counting the missed round.
	for _, change := range []func(*voting.Series){
		func(se *voting.Series) { se.Missed = voting.MissedZero },
		func(se *voting.Series) { se.Rule = voting.RuleSum },
		func(se *voting.Series) {
			se.Rule, se.Weights, se.Missed = voting.RuleWeighted, []float64{1, 1, 2}, voting.MissedSkip
		},
	} {
		change(&se)
		se, err = svc.UpdateSeries(ctx(t), se)
		if err != nil {
			t.Fatal(err)
		}
		checkSeasonTable(t, svc, &se, played)
	}
	// The table up to round 2 is the table before round 3 counted.
	upTo2, err := svc.SeasonTable(ctx(t), "gongshu", 2)
	if err != nil || len(upTo2.Rounds) != 2 {
		t.Fatalf("SeasonTable up to round 2: %d rounds, %v", len(upTo2.Rounds), err)
	}
}

// cloneRound clones round from into id, checks that it is the series'
// round n named after it, and applies change.
func cloneRound(t *testing.T, svc *voting.Service, from, id string, n int, change func(*voting.Event)) voting.Event {
	t.Helper()
	ev, err := svc.CloneEvent(ctx(t), from, id, "")
	if err != nil {
		t.Fatalf("clone %s: %v", from, err)
	}
	want := fmt.Sprintf("2020年度拱墅区%s“战疫情促发展”大比武擂台赛", voting.RoundName(n))
	if ev.Series != "gongshu" || ev.Round != n || ev.Title != want {
		t.Fatalf("clone of %s: series %q round %d title %q; want round %d, %q", from, ev.Series, ev.Round, ev.Title, n, want)
	}
	change(&ev)
	ev, err = svc.UpdateEvent(ctx(t), ev)
	if err != nil {
		t.Fatalf("update %s: %v", id, err)
	}
	return ev
}

// checkSeasonTable compares the Service's season table (read from the
// store) with the reference over played.
func checkSeasonTable(t *testing.T, svc *voting.Service, se *voting.Series, played []voting.SeasonRound) voting.Season {
	t.Helper()
	got, err := svc.SeasonTable(ctx(t), se.ID, 0)
	if err != nil {
		t.Fatalf("SeasonTable: %v", err)
	}
	want, err := voting.SeasonTable(se, played)
	if err != nil {
		t.Fatalf("reference SeasonTable: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("season table (%s, missed %s) from the store differs from the reference:\n got %+v\nwant %+v", se.Rule, se.Missed, got, want)
	}
	return got
}
