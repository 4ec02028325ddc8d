package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"leitai/hub/access"
	"leitai/voting"
)

// TestAPIAuth: every host endpoint refuses a missing or wrong key with 403
// and the error shape; both header forms of the key work.
func TestAPIAuth(t *testing.T) {
	t.Parallel()
	// Room for every wrong key below: TestHostKeyGuessing tests the limit.
	e := newEmbeddedEnv(t, envOptions{Access: access.Config{HostKeyFailures: 1000}})
	e.CreateEvent(testEvent("auth", 2))
	hostOnly := []struct{ method, path, body string }{
		{"GET", "/api/events", ""},
		{"POST", "/api/events", `{"id":"x","title":"x"}`},
		{"PUT", "/api/events/auth", `{"id":"auth","title":"x","revision":1}`},
		{"DELETE", "/api/events/auth?confirm=auth", ""},
		{"POST", "/api/events/auth/stage", `{"action":"next"}`},
		{"GET", "/api/events/auth/standings", ""},
		{"POST", "/api/events/auth/contestants/c1/reset", `{"confirm":"c1"}`},
	}
	for _, ep := range hostOnly {
		for _, key := range []string{"", "wrong", hostKey + "x", strings.ToUpper(hostKey)} {
			var body any
			if ep.body != "" {
				body = ep.body
			}
			status, data := e.Do(ep.method, ep.path, key, body)
			wantAPIError(t, status, data, http.StatusForbidden, voting.CodeForbidden)
		}
	}
	// Nothing changed.
	var st voting.Stage
	e.Must("GET", "/api/events/auth/stage", nil, &st)
	if st.Version != 1 {
		t.Fatalf("stage changed without the key: %+v", st)
	}

	// X-Host-Key works as well as Authorization: Bearer.
	req, _ := http.NewRequestWithContext(testContext(t), "GET", e.Srv.URL+"/api/events", nil)
	req.Header.Set("X-Host-Key", hostKey)
	resp, err := e.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("X-Host-Key: status %d", resp.StatusCode)
	}
	// A key in the URL does not work (URLs land in proxies' logs); nor
	// does a "Basic" header.
	if status, _ := e.Do("GET", "/api/events?key="+hostKey, "", nil); status != http.StatusForbidden {
		t.Errorf("?key=: status %d, want 403", status)
	}
	req, _ = http.NewRequestWithContext(testContext(t), "GET", e.Srv.URL+"/api/events", nil)
	req.Header.Set("Authorization", "Basic "+hostKey)
	resp, err = e.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("Authorization: Basic: status %d, want 403", resp.StatusCode)
	}
}

// TestAPIEvents: create, list, read (public and whole), update, delete.
func TestAPIEvents(t *testing.T) {
	t.Parallel()
	e := newEmbeddedEnv(t, envOptions{})
	created := e.CreateEvent(testEvent("ev1", 3))
	if created.Revision != 1 || created.Panels[1].Key != "judge-key" {
		t.Fatalf("created %+v", created)
	}
	status, data := e.Do("POST", "/api/events", hostKey, testEvent("ev1", 3))
	wantAPIError(t, status, data, http.StatusConflict, voting.CodeConflict)

	// Malformed JSON, unknown fields, trailing data, invalid events: 400 invalid.
	for _, body := range []string{
		`{"id": "x",`,
		`{"id": "x", "title": "x", "colour": "red"}`,
		`{"id": "x", "title": "x"} {}`,
		`{"id": "Not Valid", "title": "x"}`,
		`{"id": "x", "title": "x", "rules": {"min": 10, "max": 1, "step": 1}}`,
		`[]`,
		``,
	} {
		status, data := e.Do("POST", "/api/events", hostKey, body)
		wantAPIError(t, status, data, http.StatusBadRequest, voting.CodeInvalid)
	}
	// A body over 1 MiB.
	status, data = e.Do("POST", "/api/events", hostKey, `{"id":"x","title":"`+strings.Repeat("x", 1<<20)+`"}`)
	wantAPIError(t, status, data, http.StatusBadRequest, voting.CodeInvalid)

	e.CreateEvent(testEvent("ev0", 1))
	var list struct{ Events []voting.Event }
	e.Must("GET", "/api/events", nil, &list)
	if len(list.Events) != 2 || list.Events[0].ID != "ev0" || list.Events[1].ID != "ev1" {
		t.Errorf("events %+v", list.Events)
	}

	// Anyone reads the public copy; the host the whole event.
	status, data = e.Do("GET", "/api/events/ev1", "", nil)
	var pub voting.Event
	if status != http.StatusOK || json.Unmarshal(data, &pub) != nil || pub.Panels[1].Key != voting.KeyRequired {
		t.Errorf("public event: %d %s", status, data)
	}
	var whole voting.Event
	e.Must("GET", "/api/events/ev1", nil, &whole)
	if whole.Panels[1].Key != "judge-key" {
		t.Errorf("host event %+v", whole)
	}
	status, data = e.Do("GET", "/api/events/nope", "", nil)
	wantAPIError(t, status, data, http.StatusNotFound, voting.CodeNotFound)
	status, data = e.Do("GET", "/api/events/NOT..valid", "", nil)
	wantAPIError(t, status, data, http.StatusNotFound, voting.CodeNotFound)

	// Update: with the revision read; a stale revision is a conflict; the
	// id in the body must match the URL (or be left out).
	sc := e.Dial("ev1", "role=screen")
	sc.WaitSnapshot()
	whole.Title = "新标题"
	var updated voting.Event
	e.Must("PUT", "/api/events/ev1", whole, &updated)
	if updated.Revision != 2 || updated.Title != "新标题" {
		t.Errorf("updated %+v", updated)
	}
	frames := sc.WaitFor("the event message", func(f []msg) bool { return count(f, "event") == 1 })
	if m, _ := last(frames, "event"); m.Event.Title != "新标题" || m.Event.Panels[1].Key != voting.KeyRequired {
		t.Errorf("event message %s", m.Raw)
	}
	status, data = e.Do("PUT", "/api/events/ev1", hostKey, whole) // revision 1 again
	wantAPIError(t, status, data, http.StatusConflict, voting.CodeConflict)
	other := updated
	other.ID = "ev0"
	status, data = e.Do("PUT", "/api/events/ev1", hostKey, other)
	wantAPIError(t, status, data, http.StatusBadRequest, voting.CodeInvalid)
	noID := updated
	noID.ID = ""
	noID.Title = "无编号"
	e.Must("PUT", "/api/events/ev1", noID, &updated)
	if updated.Revision != 3 || updated.ID != "ev1" {
		t.Errorf("update without id: %+v", updated)
	}

	// Delete needs confirm=<id>.
	for _, q := range []string{"", "?confirm=", "?confirm=ev0", "?confirm=EV1"} {
		status, data = e.Do("DELETE", "/api/events/ev1"+q, hostKey, nil)
		wantAPIError(t, status, data, http.StatusBadRequest, voting.CodeInvalid)
	}
	var del map[string]string
	e.Must("DELETE", "/api/events/ev1?confirm=ev1", nil, &del)
	if del["deleted"] != "ev1" {
		t.Errorf("delete answered %v", del)
	}
	sc.WaitFor("the deleted message", func(f []msg) bool { return count(f, "deleted") == 1 })
	status, data = e.Do("GET", "/api/events/ev1", hostKey, nil)
	wantAPIError(t, status, data, http.StatusNotFound, voting.CodeNotFound)
	status, data = e.Do("DELETE", "/api/events/ev1?confirm=ev1", hostKey, nil)
	wantAPIError(t, status, data, http.StatusNotFound, voting.CodeNotFound)
}

// TestAPIStage: anyone reads the stage; the host commands it; bad commands
// are refused with the right status.
func TestAPIStage(t *testing.T) {
	t.Parallel()
	e := newEmbeddedEnv(t, envOptions{})
	e.CreateEvent(testEvent("st", 2))
	v := e.Dial("st", voterQuery("v1"))
	v.WaitSnapshot()

	st := e.Command("st", voting.Command{Action: voting.ActionNext})
	if st.Phase != voting.PhasePresenting || st.Current != "c1" || st.Version != 2 {
		t.Fatalf("next: %+v", st)
	}
	v.WaitStage("presenting", func(s voting.Stage) bool { return s == st })
	status, data := e.Do("GET", "/api/events/st/stage", "", nil)
	var got voting.Stage
	if status != http.StatusOK || json.Unmarshal(data, &got) != nil || got != st {
		t.Errorf("GET stage: %d %s", status, data)
	}

	for _, tc := range []struct {
		body   any
		status int
		code   voting.Code
	}{
		{`{"action": "dance"}`, http.StatusBadRequest, voting.CodeInvalid},
		{`{"action": "next", "speed": 2}`, http.StatusBadRequest, voting.CodeInvalid},
		{`{"action": "next"`, http.StatusBadRequest, voting.CodeInvalid},
		{`{"action": "jump", "contestant": "c9"}`, http.StatusNotFound, voting.CodeNotFound},
		{`{"action": "close"}`, http.StatusBadRequest, voting.CodeInvalid},
		{`{"action": "previous"}`, http.StatusBadRequest, voting.CodeInvalid},
		{`{"action": "countdown", "seconds": -1}`, http.StatusBadRequest, voting.CodeInvalid},
		{`{"action": "ranking"}`, http.StatusBadRequest, voting.CodeInvalid},
		{`{"action": "next", "ifVersion": 1}`, http.StatusConflict, voting.CodeConflict},
	} {
		status, data := e.Do("POST", "/api/events/st/stage", hostKey, tc.body)
		wantAPIError(t, status, data, tc.status, tc.code)
	}
	status, data = e.Do("POST", "/api/events/nope/stage", hostKey, `{"action":"next"}`)
	wantAPIError(t, status, data, http.StatusNotFound, voting.CodeNotFound)
	status, data = e.Do("GET", "/api/events/nope/stage", "", nil)
	wantAPIError(t, status, data, http.StatusNotFound, voting.CodeNotFound)

	// ifVersion: applied once.
	st = e.Command("st", voting.Command{Action: voting.ActionNext, IfVersion: st.Version})
	if st.Current != "c2" {
		t.Errorf("next with ifVersion: %+v", st)
	}
	e.Command("st", voting.Command{Action: voting.ActionEnd})
	status, data = e.Do("POST", "/api/events/st/stage", hostKey, `{"action":"lobby"}`)
	wantAPIError(t, status, data, http.StatusConflict, voting.CodeClosed)
	// Refused commands sent nothing: the voter saw exactly next, next, end.
	frames := v.WaitFor("the end", func(f []msg) bool { return viewOf(f).Stage.Phase == voting.PhaseEnded })
	if n := count(frames, "stage"); n != 3 {
		t.Errorf("voter got %d stage messages, want 3", n)
	}
}

// TestAPIBallots: the HTTP fallback for ballots, with the socket's rules.
func TestAPIBallots(t *testing.T) {
	t.Parallel()
	e := newEmbeddedEnv(t, envOptions{})
	votingOn(e, "hb")
	sc := e.Dial("hb", "role=screen")
	sc.WaitSnapshot()
	id := newID()
	var rec voting.Receipt
	e.Must("POST", "/api/events/hb/ballots", map[string]any{"id": id, "credential": cred("web-1"), "contestant": "c1", "score": 77.5}, &rec)
	if rec.BallotID != id || rec.Score != 77.5 || rec.Panel != "audience" || rec.Replaced {
		t.Errorf("receipt %+v", rec)
	}
	// The screen hears of it.
	sc.WaitFor("one ballot", func(f []msg) bool { return viewOf(f).Turnout.Voted == 1 })

	for _, tc := range []struct {
		body   string
		status int
		code   voting.Code
	}{
		{`{"id": "` + newID() + `", "credential": "` + cred("web-2") + `", "contestant": "c1"}`, http.StatusBadRequest, voting.CodeInvalid},
		{`{"id": "` + newID() + `", "credential": "` + cred("web-2") + `", "contestant": "c1", "score": 101}`, http.StatusBadRequest, voting.CodeInvalid},
		{`{"id": "` + newID() + `", "credential": "` + cred("web-2") + `", "contestant": "c1", "score": 80, "extra": 1}`, http.StatusBadRequest, voting.CodeInvalid},
		{`{"id": "` + newID() + `", "credential": "v1.web-2.forged", "contestant": "c1", "score": 80}`, http.StatusForbidden, voting.CodeForbidden},
		{`{"id": "` + newID() + `", "contestant": "c1", "score": 80}`, http.StatusForbidden, voting.CodeForbidden},
		{`{"id": "` + newID() + `", "credential": "` + cred("web-2") + `", "contestant": "c2", "score": 80}`, http.StatusConflict, voting.CodeClosed},
		{`{"id": "` + newID() + `", "credential": "` + cred("web-2") + `", "contestant": "c7", "score": 80}`, http.StatusNotFound, voting.CodeNotFound},
		{`{"id": "` + newID() + `", "credential": "` + cred("web-2") + `", "contestant": "c1", "panel": "judges", "score": 80}`, http.StatusForbidden, voting.CodeForbidden},
		{`{"id": "` + newID() + `", "credential": "` + cred("web-2") + `", "contestant": "c1", "panel": "judges", "panelKey": "no", "score": 80}`, http.StatusForbidden, voting.CodeForbidden},
		{`{"id": "` + id + `", "credential": "` + cred("web-1") + `", "contestant": "c1", "score": 78}`, http.StatusConflict, voting.CodeConflict},
		{`{"id": "` + newID() + `", "credential": "` + cred("web-2") + `", "contestant": "c1", "score": 80, "pad": "` + strings.Repeat("x", 5000) + `"}`, http.StatusBadRequest, voting.CodeInvalid},
	} {
		status, data := e.Do("POST", "/api/events/hb/ballots", "", tc.body)
		wantAPIError(t, status, data, tc.status, tc.code)
	}
	status, data := e.Do("POST", "/api/events/nope/ballots", "", `{"id":"`+newID()+`","credential":"`+cred("v")+`","contestant":"c1","score":80}`)
	wantAPIError(t, status, data, http.StatusNotFound, voting.CodeNotFound)

	// A judge with the key.
	e.Must("POST", "/api/events/hb/ballots", map[string]any{"id": newID(), "credential": cred("judge-1"), "contestant": "c1", "panel": "judges", "panelKey": "judge-key", "score": 90}, &rec)
	if rec.Panel != "judges" {
		t.Errorf("judge receipt %+v", rec)
	}

	// A voter's ballots.
	var mine struct{ Ballots []voting.CountedBallot }
	status, data = e.Do("GET", "/api/events/hb/ballots?credential="+url.QueryEscape(cred("web-1")), "", nil)
	if status != http.StatusOK || json.Unmarshal(data, &mine) != nil || len(mine.Ballots) != 1 || mine.Ballots[0].ID != id {
		t.Errorf("voter ballots: %d %s", status, data)
	}
	status, data = e.Do("GET", "/api/events/hb/ballots", "", nil)
	wantAPIError(t, status, data, http.StatusForbidden, voting.CodeForbidden)

	if sd := e.Standings("hb"); sd.Ballots != 2 {
		t.Errorf("standings count %d ballots, want 2", sd.Ballots)
	}
}

// TestAPIReset: reset needs confirm=<contestant>, removes the ballots and
// broadcasts "reset".
func TestAPIReset(t *testing.T) {
	t.Parallel()
	e := newEmbeddedEnv(t, envOptions{})
	votingOn(e, "rs")
	v := e.Dial("rs", voterQuery("v1"))
	v.WaitSnapshot()
	v.Ballot(newID(), "c1", 80)
	for _, body := range []string{`{}`, `{"confirm": "c2"}`, `{"confirm": "c1", "really": true}`, `nope`} {
		status, data := e.Do("POST", "/api/events/rs/contestants/c1/reset", hostKey, body)
		wantAPIError(t, status, data, http.StatusBadRequest, voting.CodeInvalid)
	}
	status, data := e.Do("POST", "/api/events/rs/contestants/c9/reset", hostKey, `{"confirm":"c9"}`)
	wantAPIError(t, status, data, http.StatusNotFound, voting.CodeNotFound)
	if sd := e.Standings("rs"); sd.Ballots != 1 {
		t.Fatalf("refused resets removed ballots: %+v", sd)
	}
	var out struct {
		Contestant string
		Removed    int
	}
	e.Must("POST", "/api/events/rs/contestants/c1/reset", map[string]string{"confirm": "c1"}, &out)
	if out.Contestant != "c1" || out.Removed != 1 {
		t.Errorf("reset answered %+v", out)
	}
	frames := v.WaitFor("the reset message", func(f []msg) bool { return count(f, "reset") == 1 })
	if m, _ := last(frames, "reset"); m.Contestant != "c1" {
		t.Errorf("reset message %s", m.Raw)
	}
	v.WaitFor("standings without ballots", func(f []msg) bool {
		vw := viewOf(f)
		return vw.Turnout.Voted == 0 && len(vw.Ranking) == 0 && count(f, "reset") == 1
	})
	if sd := e.Standings("rs"); sd.Ballots != 0 {
		t.Errorf("standings after the reset: %+v", sd)
	}
}

// TestAPIUnknownEndpoint: anything else under /api/ is a JSON 404.
func TestAPIUnknownEndpoint(t *testing.T) {
	t.Parallel()
	e := newEmbeddedEnv(t, envOptions{})
	for _, p := range []string{"/api/", "/api/nope", "/api/events/x/y/z"} {
		status, data := e.Do("GET", p, hostKey, nil)
		wantAPIError(t, status, data, http.StatusNotFound, voting.CodeNotFound)
	}
}

// TestHTTPStatus: the mapping of error codes to statuses.
func TestHTTPStatus(t *testing.T) {
	t.Parallel()
	for code, want := range map[voting.Code]int{
		voting.CodeInvalid:     400,
		voting.CodeNotFound:    404,
		voting.CodeConflict:    409,
		voting.CodeClosed:      409,
		voting.CodeForbidden:   403,
		voting.CodeUnavailable: 503,
		voting.CodeInternal:    500,
		"something-else":       500,
	} {
		if got := access.HTTPStatus(code); got != want {
			t.Errorf("HTTPStatus(%s) = %d, want %d", code, got, want)
		}
	}
}
