package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"leitai/hub/api"
	"leitai/hub/hubtest"
	"leitai/voting"
)

// TestSeatsAndSpotlight runs a judges' bench of five seats: seats issued
// once each, claimed by phones, one seat's phone dies and is released to
// another, four seats score; no frame to any socket carries a seat's score
// and the spotlight is refused while voting is open; after close the stage
// names the spotlight and the screen reads each seat's score.
func TestSeatsAndSpotlight(t *testing.T) {
	t.Parallel()
	e := newEmbeddedEnv(t, envOptions{})
	ev := testEvent("show", 3)
	ev.Panels[1].Key, ev.Panels[1].Seats = "", voting.SeatNames(5)
	e.CreateEvent(ev)
	e.Command("show", voting.Command{Action: voting.ActionNext})

	var issued struct{ Tickets []api.TicketView }
	e.Must("POST", "/api/events/show/seats", api.SeatsRequest{Panel: "judges"}, &issued)
	if len(issued.Tickets) != 5 {
		t.Fatalf("issued %d seat tickets, want 5", len(issued.Tickets))
	}
	e.Must("POST", "/api/events/show/seats", api.SeatsRequest{Panel: "judges"}, &issued)
	if len(issued.Tickets) != 0 {
		t.Fatalf("issuing again made %d more, want none", len(issued.Tickets))
	}
	status, data := e.Do("POST", "/api/events/show/seats", hostKey, api.SeatsRequest{Panel: "audience"})
	wantAPIError(t, status, data, 400, voting.CodeInvalid)
	var seats struct{ Seats []voting.SeatStatus }
	e.Must("GET", "/api/events/show/seats", nil, &seats)
	if len(seats.Seats) != 5 || seats.Seats[4].Name != "评委五" || seats.Seats[0].Code == "" || seats.Seats[0].Claimed {
		t.Fatalf("seats %+v", seats.Seats)
	}
	code := func(i int) string { return seats.Seats[i].Code }

	screen := e.Dial("show", "role=screen")
	defer screen.Close()
	audience := e.Dial("show", voterQuery("aud"))
	defer audience.Close()
	audience.WaitSnapshot()

	// Five phones claim the seats; the fifth judge will not score.
	judges := make([]*hubtest.Client, 5)
	for i := range judges {
		voter := "judge" + string(rune('1'+i))
		if status, data := e.claim(voter, code(i)); status != 200 {
			t.Fatalf("claim seat %d: %d %s", i+1, status, data)
		}
		judges[i] = e.Dial("show", voterQuery(voter)+"&panel=judges")
		defer judges[i].Close()
		judges[i].WaitSnapshot()
	}
	e.Command("show", voting.Command{Action: voting.ActionOpen})
	scores := []float64{88, 92.5, 90, 85}
	for i, sc := range scores[:3] {
		wantAccepted(t, judges[i].Ballot(newID(), "c1", sc), "c1", sc, false)
	}
	// Seat 4's phone dies after scoring 61; the host releases the seat,
	// another phone claims it and scores 85, which replaces the 61.
	wantAccepted(t, judges[3].Ballot(newID(), "c1", 61), "c1", 61, false)
	e.Must("POST", "/api/events/show/tickets/"+code(3)+"/release", nil, nil)
	wantRefused(t, judges[3].Ballot(newID(), "c1", 62), voting.CodeForbidden)
	if status, data := e.claim("spare", code(3)); status != 200 {
		t.Fatalf("the spare phone claims seat 4: %d %s", status, data)
	}
	spare := e.Dial("show", voterQuery("spare")+"&panel=judges")
	defer spare.Close()
	if snap := spare.WaitSnapshot(); snap.Ballots == nil || len(*snap.Ballots) != 1 || (*snap.Ballots)[0].Points() != 61 {
		t.Fatalf("the spare phone does not see the seat's score: %s", snap.Raw)
	}
	wantAccepted(t, spare.Ballot(newID(), "c1", 85), "c1", 85, true)
	wantAccepted(t, audience.Ballot(newID(), "c1", 80), "c1", 80, false)
	e.Must("GET", "/api/events/show/seats", nil, &seats)
	for i, s := range seats.Seats {
		if scored := len(s.Scored) == 1 && s.Scored[0] == "c1"; scored != (i < 4) || !s.Claimed {
			t.Errorf("seat %d: %+v", i+1, s)
		}
	}

	// While voting is open: refused, to the screen and to the host.
	screenKey := testCreds.ScreenKey("show")
	spot := func(key string) (int, []byte) {
		req, _ := http.NewRequestWithContext(testContext(t), "GET", e.Srv.URL+"/api/events/show/spotlight", nil)
		req.Header.Set(api.ScreenKeyHeader, key)
		resp, err := e.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, data
	}
	status, data = spot(screenKey)
	wantAPIError(t, status, data, 409, voting.CodeClosed)
	status, data = e.Do("GET", "/api/events/show/spotlight?contestant=c1", hostKey, nil)
	wantAPIError(t, status, data, 409, voting.CodeClosed)

	e.Command("show", voting.Command{Action: voting.ActionClose})
	st := screen.WaitStage("closed with the spotlight", func(s voting.Stage) bool { return s.Phase == voting.PhaseClosed })
	if st.Spotlight != "c1" {
		t.Fatalf("closing voting: spotlight %q, want c1", st.Spotlight)
	}
	// No frame, to any socket, carried a seat's score (the seats' names
	// are in the event; 92.5 is seat 2's alone, and only the spotlight
	// has "scored").
	for _, c := range append([]*hubtest.Client{screen, audience, spare}, judges...) {
		for _, f := range c.All() {
			if f.Type == "ack" {
				continue // a phone's own receipt
			}
			if strings.Contains(string(f.Raw), `"scored"`) || strings.Contains(string(f.Raw), "92.5") {
				t.Fatalf("a %s frame carries seat scores: %s", f.Type, f.Raw)
			}
		}
	}
	status, data = spot("wrong")
	wantAPIError(t, status, data, 403, voting.CodeForbidden)
	status, data = spot(screenKey)
	if status != 200 {
		t.Fatalf("spotlight after close: %d %s", status, data)
	}
	var sp voting.Spotlight
	if err := json.Unmarshal(data, &sp); err != nil {
		t.Fatal(err)
	}
	j := sp.Panels[1].Seats
	if sp.Contestant != "c1" || len(j) != 5 || j[1].Score != 92.5 || j[1].Dropped != "high" || j[3].Score != 85 || j[3].Dropped != "low" || j[4].Scored {
		t.Fatalf("spotlight %s", data)
	}
	// Judges (88 + 90) / 2 = 89, audience 80: (60×80 + 40×89) / 100 = 83.6.
	if sp.Panels[1].Result != 89 || sp.Panels[0].Result != 80 || sp.Panels[0].Seats != nil || sp.Final != 83.6 {
		t.Fatalf("spotlight results %s", data)
	}
}

// TestSeatSheets: the host's results carry one 评委评分表 per seat (a seat
// that did not score says so); the published results, which anyone with
// the link reads, carry no seat's score.
func TestSeatSheets(t *testing.T) {
	t.Parallel()
	e := newEmbeddedEnv(t, envOptions{})
	ev := testEvent("show", 2)
	ev.Panels[1].Key, ev.Panels[1].Seats = "", []string{"张评委", "李评委"}
	e.CreateEvent(ev)
	e.Command("show", voting.Command{Action: voting.ActionNext})
	var issued struct{ Tickets []api.TicketView }
	e.Must("POST", "/api/events/show/seats", api.SeatsRequest{Panel: "judges"}, &issued)
	seat1 := issued.Tickets[0].Code
	if issued.Tickets[0].Seat != 1 {
		seat1 = issued.Tickets[1].Code
	}
	if status, data := e.claim("zhang", seat1); status != 200 {
		t.Fatalf("claim: %d %s", status, data)
	}
	e.Command("show", voting.Command{Action: voting.ActionOpen})
	judge := e.Dial("show", voterQuery("zhang")+"&panel=judges")
	defer judge.Close()
	judge.WaitSnapshot()
	wantAccepted(t, judge.Ballot(newID(), "c1", 93.5), "c1", 93.5, false)
	e.Command("show", voting.Command{Action: voting.ActionClose})

	var rep struct {
		SeatSheets []struct {
			Name string
			Rows []struct {
				Contestant string
				Scored     bool
				Score      float64
			}
		}
	}
	e.Must("GET", "/api/events/show/results", nil, &rep)
	if len(rep.SeatSheets) != 2 || rep.SeatSheets[0].Name != "张评委" || len(rep.SeatSheets[0].Rows) != 2 {
		t.Fatalf("seat sheets %+v", rep.SeatSheets)
	}
	if r := rep.SeatSheets[0].Rows; !r[0].Scored || r[0].Score != 93.5 || r[1].Scored || rep.SeatSheets[1].Rows[0].Scored {
		t.Fatalf("张评委's sheet %+v, 李评委's %+v", r, rep.SeatSheets[1].Rows)
	}
	e.Must("POST", "/api/events/show/publish", map[string]any{"published": true}, nil)
	status, data := e.Do("GET", "/api/events/show/results", "", nil)
	if status != 200 || strings.Contains(string(data), "seatSheets") || strings.Contains(string(data), `"scored"`) {
		t.Fatalf("the published results: %d %s", status, data)
	}
}
