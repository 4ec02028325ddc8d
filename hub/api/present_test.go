package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"leitai/voting"
	"leitai/voting/report"
)

// TestLeaderComment: the host records a comment per contestant during and
// after the event; the host's event, the results and the exports carry it;
// phones and the screen never get it; bad requests change nothing.
func TestLeaderComment(t *testing.T) {
	t.Parallel()
	e := newEmbeddedEnv(t, envOptions{})
	ev := testEvent("day", 3)
	ev.Contestants[0].Theme = "扬优势 补短板"
	ev.Contestants[0].Presenter = "张三"
	e.CreateEvent(ev)
	phone := e.Dial("day", voterQuery("v1"))
	snap := phone.WaitSnapshot()
	if c := snap.Event.Contestants[0]; c.Theme != "扬优势 补短板" || c.Presenter != "张三" {
		t.Errorf("the phone's contestant %+v: want its theme and presenter", c)
	}

	const comment = "不讲困难，只找方法。"
	var got voting.Event
	e.Must("PUT", "/api/events/day/contestants/c1/comment", map[string]string{"comment": "  " + comment + " "}, &got)
	if got.Contestants[0].Comment != comment {
		t.Fatalf("after PUT: %+v", got.Contestants[0])
	}
	frames := phone.WaitFor("the event message", func(f []msg) bool { return count(f, "event") > 0 })
	if m, _ := last(frames, "event"); m.Event.Revision != got.Revision || bytes.Contains(m.Raw, []byte("不讲困难")) {
		t.Errorf("the phone's event message: %s", m.Raw)
	}
	status, data := e.Do("GET", "/api/events/day", "", nil)
	if status != http.StatusOK || bytes.Contains(data, []byte("不讲困难")) || !bytes.Contains(data, []byte("扬优势")) {
		t.Errorf("public event: %d %s", status, data)
	}
	var host voting.Event
	e.Must("GET", "/api/events/day", nil, &host)
	if host.Contestants[0].Comment != comment {
		t.Errorf("the host's event: %+v", host.Contestants[0])
	}

	// A PUT of the event (the setup form) keeps it.
	host.Title = "新标题"
	host.Contestants[0].Comment = ""
	e.Must("PUT", "/api/events/day", host, &got)
	if got.Contestants[0].Comment != comment || got.Title != "新标题" {
		t.Errorf("after PUT of the event: %+v", got)
	}

	e.runEvent("day", 3, 1)
	// After the end, comments can still be written.
	e.Must("PUT", "/api/events/day/contestants/c2/comment", map[string]string{"comment": "为全区任务推进作出了积极的贡献。"}, &got)
	for _, tc := range []struct {
		name, path, key string
		body            any
		status          int
		code            voting.Code
	}{
		{"no comment", "/api/events/day/contestants/c1/comment", hostKey, `{}`, http.StatusBadRequest, voting.CodeInvalid},
		{"unknown field", "/api/events/day/contestants/c1/comment", hostKey, `{"comment":"a","x":1}`, http.StatusBadRequest, voting.CodeInvalid},
		{"a line break", "/api/events/day/contestants/c1/comment", hostKey, map[string]string{"comment": "一\n二"}, http.StatusBadRequest, voting.CodeInvalid},
		{"too long", "/api/events/day/contestants/c1/comment", hostKey, map[string]string{"comment": strings.Repeat("评", voting.MaxCommentLength+1)}, http.StatusBadRequest, voting.CodeInvalid},
		{"unknown contestant", "/api/events/day/contestants/c9/comment", hostKey, map[string]string{"comment": "好"}, http.StatusNotFound, voting.CodeNotFound},
		{"unknown event", "/api/events/nope/contestants/c1/comment", hostKey, map[string]string{"comment": "好"}, http.StatusNotFound, voting.CodeNotFound},
		{"no host key", "/api/events/day/contestants/c1/comment", "", map[string]string{"comment": "好"}, http.StatusForbidden, voting.CodeForbidden},
	} {
		status, data := e.Do("PUT", tc.path, tc.key, tc.body)
		wantAPIError(t, status, data, tc.status, tc.code)
	}

	// The results (host, then published) and the exports carry them.
	checkResults := func(key string) {
		t.Helper()
		status, data := e.Do("GET", "/api/events/day/results", key, nil)
		var rep report.Report
		if status != http.StatusOK || json.Unmarshal(data, &rep) != nil {
			t.Fatalf("results: %d %s", status, data)
		}
		comments := map[string]string{}
		for _, row := range rep.Rows {
			comments[row.Contestant] = row.Comment
		}
		if comments["c1"] != comment || comments["c2"] != "为全区任务推进作出了积极的贡献。" || comments["c3"] != "" {
			t.Errorf("results' comments %q", comments)
		}
	}
	checkResults(hostKey)
	e.Must("POST", "/api/events/day/publish", map[string]any{"published": true}, nil)
	checkResults("")
	csvData, _, _ := e.download("/api/events/day/export.csv?table=ranking")
	if !bytes.Contains(csvData, []byte("区领导点评")) || !bytes.Contains(csvData, []byte(comment)) || !bytes.Contains(csvData, []byte("张三")) {
		t.Errorf("the ranking CSV lacks the comment or the presenter:\n%s", csvData)
	}
	e.download("/api/events/day/export.xlsx")
}

// TestPresentationTimerAPI: the timer is driven by stage commands, reaches
// every client in the stage message and the snapshot, and never closes
// voting.
func TestPresentationTimerAPI(t *testing.T) {
	t.Parallel()
	e := newEmbeddedEnv(t, envOptions{})
	ev := testEvent("timed", 2)
	ev.PresentationSeconds = 480
	e.CreateEvent(ev)
	screen := e.Dial("timed", "role=screen")
	screen.WaitSnapshot()
	st := e.Command("timed", voting.Command{Action: voting.ActionNext})
	if st.Timer != (voting.Timer{Seconds: 480}) {
		t.Fatalf("timer on stage: %+v", st.Timer)
	}
	st = e.Command("timed", voting.Command{Action: voting.ActionTimer, Op: voting.TimerStart, Seconds: 1})
	if st.Timer.Seconds != 1 || !st.Timer.Running() {
		t.Fatalf("started timer: %+v", st.Timer)
	}
	screen.WaitStage("the running timer", func(s voting.Stage) bool { return s.Timer == st.Timer })
	// Opening voting ends the presentation: the timer pauses.
	if cur := e.Command("timed", voting.Command{Action: voting.ActionOpen}); cur.Timer.Running() || cur.Timer.Seconds != 1 {
		t.Errorf("timer after opening voting: %+v", cur.Timer)
	}
	// Started again, whatever it shows, voting stays open and takes ballots.
	e.Command("timed", voting.Command{Action: voting.ActionTimer, Op: voting.TimerStart})
	v := e.Dial("timed", voterQuery("v1"))
	v.WaitSnapshot()
	id := newID()
	if ack := v.Ballot(id, "c1", 90); !ack.OK {
		t.Fatalf("ballot with the timer running: %s", ack.Raw)
	}
	paused := e.Command("timed", voting.Command{Action: voting.ActionTimer, Op: voting.TimerPause})
	if paused.Phase != voting.PhaseVoting || paused.Timer.Running() {
		t.Errorf("after pause: %+v", paused)
	}
	// A new screen gets the timer (in its snapshot, or the stage message
	// that follows it if the pause is still on its way).
	late := e.Dial("timed", "role=screen")
	late.WaitStage("the paused timer", func(s voting.Stage) bool { return s.Timer == paused.Timer })
	for _, body := range []string{
		`{"action":"timer","op":"stop"}`,
		`{"action":"timer"}`,
		`{"action":"timer","op":"start","seconds":-5}`,
		`{"action":"timer","op":"pause"}`,
	} {
		status, data := e.Do("POST", "/api/events/timed/stage", hostKey, body)
		wantAPIError(t, status, data, http.StatusBadRequest, voting.CodeInvalid)
	}
	status, data := e.Do("POST", "/api/events/timed/stage", "", `{"action":"timer","op":"start"}`)
	wantAPIError(t, status, data, http.StatusForbidden, voting.CodeForbidden)
}
