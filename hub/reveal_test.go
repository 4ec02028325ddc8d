package hub_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"leitai/hub/api"
	"leitai/voting"
)

// revealEvent is seven contestants, voting on all at once, with one
// audience ballot each for c1–c5 (finals 95, 92, 90, 90, 85: a tie at place
// 3, no place 4) and none for c6 and c7. The ranking is hidden, so that
// nothing of it reaches the audience before the reveal.
func revealEvent(t *testing.T, e *env, id string) voting.Standings {
	t.Helper()
	ev := testEvent(id, 7)
	ev.VotingScope = voting.ScopeAll
	e.CreateEvent(ev)
	hidden := false
	e.Command(id, voting.Command{Action: voting.ActionRanking, Visible: &hidden})
	e.Command(id, voting.Command{Action: voting.ActionOpen})
	for i, score := range []float64{95, 92, 90, 90, 85} {
		c := fmt.Sprintf("c%d", i+1)
		e.CastHTTP(id, "v-"+c, c, "audience", score)
	}
	e.Command(id, voting.Command{Action: voting.ActionClose})
	sd := e.Standings(id)
	if got := rowsText(sd.Rows); got != "c1:1 c2:2 c3:3 c4:3 c5:5 c6:0 c7:0" {
		t.Fatalf("standings %s", got)
	}
	return sd
}

func rowsText(rows []voting.Standing) string {
	parts := make([]string, len(rows))
	for i, r := range rows {
		parts[i] = fmt.Sprintf("%s:%d", r.Contestant, r.Rank)
	}
	return strings.Join(parts, " ")
}

func rankingText(rows []voting.RankingRow) string {
	parts := make([]string, len(rows))
	for i, r := range rows {
		parts[i] = fmt.Sprintf("%s:%d", r.Contestant, r.Rank)
	}
	return strings.Join(parts, " ")
}

// noEarlyPlaces walks a client's frames in order, as the page applies
// them, and fails on any frame during the reveal that shows a contestant
// the stage it follows has not revealed (or one without ballots).
func noEarlyPlaces(t *testing.T, name string, frames []msg, sd *voting.Standings) {
	t.Helper()
	var st voting.Stage
	for _, m := range frames {
		if m.Stage != nil {
			st = *m.Stage
		}
		if st.Phase != voting.PhaseReveal || (m.Type != "snapshot" && m.Type != "standings") {
			continue
		}
		allowed := make(map[string]int)
		for _, r := range voting.RevealedRows(sd, st.Revealed) {
			allowed[r.Contestant] = r.Rank
		}
		var shown []string
		if m.Standings != nil {
			for _, r := range m.Standings.Rows {
				shown = append(shown, fmt.Sprintf("%s:%d", r.Contestant, r.Rank))
			}
		}
		for _, r := range m.Ranking {
			shown = append(shown, fmt.Sprintf("%s:%d", r.Contestant, r.Rank))
		}
		for _, s := range shown {
			id, _, _ := strings.Cut(s, ":")
			if rank, ok := allowed[id]; !ok || s != fmt.Sprintf("%s:%d", id, rank) {
				t.Errorf("%s: at reveal step %d a frame shows %s: %s", name, st.Revealed, s, m.Raw)
			}
		}
	}
}

// TestRevealByPlaces: each reveal step shows the screen and the phones
// exactly one more place, from the last up, a tie as one step with the
// shared place number, never a contestant without ballots and never a
// place before its step; the reveal refuses once every place is shown.
func TestRevealByPlaces(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{})
	sd := revealEvent(t, e, "ties")
	sc := e.Dial("ties", "role=screen")
	v := e.Dial("ties", voterQuery("watcher"))
	sc.WaitSnapshot()
	v.WaitSnapshot()

	want := []string{"c5:5", "c3:3 c4:3 c5:5", "c2:2 c3:3 c4:3 c5:5", "c1:1 c2:2 c3:3 c4:3 c5:5"}
	for i, w := range want {
		st := e.Command("ties", voting.Command{Action: voting.ActionReveal})
		if st.Revealed != i+1 {
			t.Fatalf("step %d: stage %+v", i+1, st)
		}
		sc.WaitFor(fmt.Sprintf("the screen at step %d: %s", i+1, w), func(f []msg) bool {
			vw := viewOf(f)
			return vw.Stage.Version == st.Version && vw.Standings != nil && rowsText(vw.Standings.Rows) == w
		})
		v.WaitFor(fmt.Sprintf("the phone at step %d: %s", i+1, w), func(f []msg) bool {
			vw := viewOf(f)
			return vw.Stage.Version == st.Version && rankingText(vw.Ranking) == w
		})
		// A screen or phone that joins now gets the same in its snapshot.
		late := e.Dial("ties", "role=screen")
		if s := late.WaitSnapshot(); s.Standings == nil || rowsText(s.Standings.Rows) != w {
			t.Errorf("step %d: a new screen's snapshot %s; want %s", i+1, s.Raw, w)
		}
		late.Close()
	}
	status, data := e.Do("POST", "/api/events/ties/stage", hostKey, voting.Command{Action: voting.ActionReveal})
	wantAPIError(t, status, data, http.StatusBadRequest, voting.CodeInvalid)

	// Taking a step back hides the place again.
	st := e.Command("ties", voting.Command{Action: voting.ActionUnreveal})
	sc.WaitFor("the screen a step back", func(f []msg) bool {
		vw := viewOf(f)
		return vw.Stage.Version == st.Version && vw.Standings != nil && rowsText(vw.Standings.Rows) == want[2]
	})
	v.WaitFor("the phone a step back", func(f []msg) bool {
		vw := viewOf(f)
		return vw.Stage.Version == st.Version && rankingText(vw.Ranking) == want[2]
	})
	noEarlyPlaces(t, "screen", sc.All(), &sd)
	noEarlyPlaces(t, "phone", v.All(), &sd)

	// After the end the phones get the ranked contestants only.
	e.Command("ties", voting.Command{Action: voting.ActionEnd})
	v.WaitFor("the final ranking without the unranked", func(f []msg) bool {
		vw := viewOf(f)
		return vw.Stage.Phase == voting.PhaseEnded && rankingText(vw.Ranking) == want[3]
	})
}

// TestRevealWithoutBallots: an event where nobody voted has nothing to
// reveal; the reveal is refused and the stage stays.
func TestRevealWithoutBallots(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{})
	e.CreateEvent(testEvent("empty", 3))
	status, data := e.Do("POST", "/api/events/empty/stage", hostKey, voting.Command{Action: voting.ActionReveal})
	wantAPIError(t, status, data, http.StatusBadRequest, voting.CodeInvalid)
	if !strings.Contains(string(data), "no contestant has ballots") {
		t.Errorf("the refusal says %s", data)
	}
	var st voting.Stage
	e.Must("GET", "/api/events/empty/stage", nil, &st)
	if st.Phase != voting.PhaseLobby {
		t.Errorf("stage after the refused reveal: %+v", st)
	}
}

// TestPublishDuringReveal: publishing the results while places are still
// hidden is refused with the code confirm (nothing changes) unless the
// host confirms; once every place is shown it needs no confirmation.
func TestPublishDuringReveal(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{})
	revealEvent(t, e, "pub")
	yes := true
	publish := func(confirm bool) (int, []byte) {
		return e.Do("POST", "/api/events/pub/publish", hostKey, api.PublishRequest{Published: &yes, Confirm: confirm})
	}
	e.Command("pub", voting.Command{Action: voting.ActionReveal})
	status, data := publish(false)
	wantAPIError(t, status, data, http.StatusConflict, voting.CodeConfirm)
	if !strings.Contains(string(data), "1 of 4 places") {
		t.Errorf("the refusal says %s", data)
	}
	var ev voting.Event
	e.Must("GET", "/api/events/pub", nil, &ev)
	if ev.Published {
		t.Fatal("a refused publish published the results")
	}
	if status, data = publish(true); status != http.StatusOK {
		t.Fatalf("publish with confirm: %d %s", status, data)
	}
	no := false
	e.Must("POST", "/api/events/pub/publish", api.PublishRequest{Published: &no}, nil)

	for range 3 {
		e.Command("pub", voting.Command{Action: voting.ActionReveal})
	}
	if status, data = publish(false); status != http.StatusOK {
		t.Fatalf("publish after the whole reveal: %d %s", status, data)
	}
}
