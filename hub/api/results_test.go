package api_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"leitai/hub/api"
	"leitai/voting"
	"leitai/voting/redistest"
	"leitai/voting/report"
)

// runEvent takes an event through every contestant with ballots from
// audience and judges, then ends it. It returns how many ballots it cast.
func (e *env) runEvent(event string, n, salt int) int {
	e.T.Helper()
	cast := 0
	for i := range n {
		e.Command(event, voting.Command{Action: voting.ActionNext})
		e.Command(event, voting.Command{Action: voting.ActionOpen})
		c := fmt.Sprintf("c%d", i+1)
		for v := range 3 + (i+salt)%4 {
			e.CastHTTP(event, fmt.Sprintf("voter-%s-%d", event, v), c, "audience", scoreFor(i*7+v, salt))
			cast++
		}
		for j := range 2 + i%2 {
			e.CastHTTP(event, fmt.Sprintf("judge-%d", j), c, "judges", scoreFor(i*3+j, salt+1))
			cast++
		}
		e.Command(event, voting.Command{Action: voting.ActionClose})
	}
	e.Command(event, voting.Command{Action: voting.ActionEnd})
	return cast
}

// download GETs a host file and returns the body and the UTF-8 file name
// of its Content-Disposition.
func (e *env) download(path string) ([]byte, string, http.Header) {
	e.T.Helper()
	req, err := http.NewRequestWithContext(testContext(e.T), "GET", e.Srv.URL+path, nil)
	if err != nil {
		e.T.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+hostKey)
	resp, err := e.HTTP.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.T.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		e.T.Fatalf("GET %s = %d %s", path, resp.StatusCode, body)
	}
	_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
	if err != nil {
		e.T.Fatalf("Content-Disposition %q: %v", resp.Header.Get("Content-Disposition"), err)
	}
	// mime.ParseMediaType decodes filename*=UTF-8''… into "filename".
	return body, params["filename"], resp.Header
}

func TestExportMatchesStandings(t *testing.T) {
	t.Parallel()
	e := newEmbeddedEnv(t, envOptions{})
	ev := testEvent("export", 5)
	ev.Title = "拱墅区“战疫情促发展”擂台赛"
	e.CreateEvent(ev)
	ballots := e.runEvent("export", 5, 3)
	sd := e.Standings("export")
	if sd.Ballots != ballots {
		t.Fatalf("standings count %d ballots, cast %d", sd.Ballots, ballots)
	}
	var st voting.Stage
	e.Must("GET", "/api/events/export/stage", nil, &st)
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	date := time.UnixMilli(st.ChangedAt).In(shanghai).Format("2006-01-02")

	// Excel: opened again, its numbers are the standings'.
	body, name, hd := e.download("/api/events/export/export.xlsx?tz=Asia/Shanghai")
	if name != "拱墅区“战疫情促发展”擂台赛-"+date+".xlsx" {
		t.Errorf("workbook named %q", name)
	}
	if cd := hd.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; filename*=utf-8''") {
		t.Errorf("Content-Disposition %q: want an attachment with an RFC 2231 file name", cd)
	}
	if ct := hd.Get("Content-Type"); ct != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Errorf("Content-Type %q", ct)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !slices.Equal(got, []string{"排名", "明细", "规则"}) {
		t.Fatalf("sheets %q", got)
	}
	rows, err := f.GetRows("排名", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if title := rows[0][0]; title != ev.Title {
		t.Errorf("title %q", title)
	}
	header := rows[2]
	col := func(name string) int {
		i := slices.Index(header, name)
		if i < 0 {
			t.Fatalf("no column %q in %q", name, header)
		}
		return i
	}
	number := func(row []string, name string) float64 {
		v, err := strconv.ParseFloat(row[col(name)], 64)
		if err != nil {
			t.Fatalf("%s: %q is not a number", name, row[col(name)])
		}
		return v
	}
	if len(rows)-3 != len(sd.Rows) {
		t.Fatalf("%d ranking rows, want %d", len(rows)-3, len(sd.Rows))
	}
	for i, s := range sd.Rows {
		row := rows[3+i]
		c, _, _ := ev.Contestant(s.Contestant)
		if row[col("参赛单位")] != c.Name || row[col("分组")] != c.Group {
			t.Errorf("row %d: %q %q, want %q %q", i, row[col("参赛单位")], row[col("分组")], c.Name, c.Group)
		}
		if int(number(row, "名次")) != s.Rank || int(number(row, "组内名次")) != s.GroupRank ||
			number(row, "最终得分") != s.Final || int(number(row, "有效票数")) != s.Ballots {
			t.Errorf("row %d: %q, want %+v", i, row, s)
		}
		for j, ps := range s.Panels {
			p := ev.Panels[j]
			// The workbook holds the average rounded half up to 4 decimals.
			if int(number(row, p.Name+"票数")) != ps.Count || number(row, p.Name+"平均分") != voting.RoundScore(ps.Average, 4) {
				t.Errorf("row %d %s: %q, want %+v", i, p.ID, row, ps)
			}
		}
	}
	detail, err := f.GetRows("明细")
	if err != nil {
		t.Fatal(err)
	}
	if len(detail) != 1+ballots {
		t.Errorf("明细 has %d rows, want %d", len(detail)-1, ballots)
	}
	for _, r := range detail[1:] {
		if strings.HasPrefix(r[0], "voter-") || strings.HasPrefix(r[0], "judge-") {
			t.Fatalf("明细 shows a voter id: %q", r)
		}
	}

	// CSV: BOM, encoding/csv round trip, Chinese intact.
	body, name, hd = e.download("/api/events/export/export.csv?table=ranking&tz=Asia/Shanghai")
	if name != "拱墅区“战疫情促发展”擂台赛-排名-"+date+".csv" || hd.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Errorf("CSV named %q, type %q", name, hd.Get("Content-Type"))
	}
	if !bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")) {
		t.Fatal("the CSV has no byte-order mark")
	}
	recs, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if recs[0][0] != "名次" || len(recs)-1 != len(sd.Rows) {
		t.Fatalf("CSV header %q, %d rows", recs[0], len(recs)-1)
	}
	for i, s := range sd.Rows {
		c, _, _ := ev.Contestant(s.Contestant)
		rec := recs[i+1]
		final, err := strconv.ParseFloat(rec[slices.Index(recs[0], "最终得分")], 64)
		if err != nil || final != s.Final || rec[slices.Index(recs[0], "参赛单位")] != c.Name || rec[0] != strconv.Itoa(s.Rank) {
			t.Errorf("CSV row %d %q, want %+v", i, rec, s)
		}
	}
	body, _, _ = e.download("/api/events/export/export.csv?table=ballots")
	recs, err = csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\xEF\xBB\xBF")))).ReadAll()
	if err != nil || len(recs) != 1+ballots {
		t.Fatalf("ballots CSV: %d records, %v", len(recs), err)
	}
	if bytes.Contains(body, []byte("voter-")) || bytes.Contains(body, []byte("judge-")) {
		t.Error("the ballots CSV shows voter ids")
	}
	body, _, _ = e.download("/api/events/export/export.csv?table=rules&tz=Asia/Shanghai")
	if !strings.Contains(string(body), "去掉 1 个最高分和 1 个最低分") || !strings.Contains(string(body), "UTC+08:00") {
		t.Errorf("rules CSV:\n%s", body)
	}

	// Refusals: unknown table or zone, no host key.
	status, data := e.Do("GET", "/api/events/export/export.csv?table=votes", hostKey, nil)
	wantAPIError(t, status, data, http.StatusBadRequest, voting.CodeInvalid)
	status, data = e.Do("GET", "/api/events/export/export.xlsx?tz=Mars/Olympus", hostKey, nil)
	wantAPIError(t, status, data, http.StatusBadRequest, voting.CodeInvalid)
	for _, p := range []string{"export.xlsx", "export.csv", "results"} {
		status, data = e.Do("GET", "/api/events/export/"+p, "", nil)
		wantAPIError(t, status, data, http.StatusForbidden, voting.CodeForbidden)
		status, data = e.Do("GET", "/api/events/nope/"+p, hostKey, nil)
		wantAPIError(t, status, data, http.StatusNotFound, voting.CodeNotFound)
	}

	// JSON: the same numbers; detail only for the host and when asked.
	var rep report.Report
	e.Must("GET", "/api/events/export/results?detail=1", nil, &rep)
	if !rep.Final || rep.ClosedAt != st.ChangedAt || rep.Ballots != ballots || len(rep.Detail) != ballots {
		t.Errorf("report: final %v closedAt %d (stage %d) ballots %d detail %d", rep.Final, rep.ClosedAt, st.ChangedAt, rep.Ballots, len(rep.Detail))
	}
	for i, s := range sd.Rows {
		r := rep.Rows[i]
		if r.Contestant != s.Contestant || r.Rank != s.Rank || r.Final != s.Final || r.Ballots != s.Ballots {
			t.Errorf("report row %d %+v, want %+v", i, r, s)
		}
	}
}

func TestPublishResults(t *testing.T) {
	t.Parallel()
	e := newEmbeddedEnv(t, envOptions{})
	e.CreateEvent(testEvent("pub", 3))
	e.runEvent("pub", 3, 1)
	status, data := e.Do("GET", "/api/events/pub/results", "", nil)
	wantAPIError(t, status, data, http.StatusForbidden, voting.CodeForbidden)

	// Publishing works after the end (read-only is for the results, not
	// for whether they are shown).
	var ev voting.Event
	e.Must("POST", "/api/events/pub/publish", map[string]any{"published": true}, &ev)
	if !ev.Published {
		t.Fatalf("published event %+v", ev)
	}
	status, data = e.Do("GET", "/api/events/pub/results?detail=1", "", nil)
	if status != http.StatusOK {
		t.Fatalf("public results: %d %s", status, data)
	}
	var rep report.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 3 || rep.Detail != nil || !rep.Published {
		t.Errorf("public report: %d rows, detail %v, published %v", len(rep.Rows), rep.Detail != nil, rep.Published)
	}
	if bytes.Contains(data, []byte("judge-key")) || bytes.Contains(data, []byte("voter-")) {
		t.Error("the public report shows a key or a voter")
	}
	// No per-ballot detail: with 3 judges (c2), the scores trimming
	// dropped and the average left would be every judge's score. The
	// host still sees them; everyone sees the audit chain's head.
	if bytes.Contains(data, []byte(`"highest"`)) || bytes.Contains(data, []byte(`"lowest"`)) {
		t.Errorf("the public report shows dropped scores: %.300s", data)
	}
	if rep.AuditHead == nil || rep.AuditHead.Count == 0 || len(rep.AuditHead.Hash) != 40 {
		t.Errorf("the public report lacks the audit chain head: %+v", rep.AuditHead)
	}
	if _, host := e.Do("GET", "/api/events/pub/results?detail=1", hostKey, nil); !bytes.Contains(host, []byte(`"highest"`)) {
		t.Error("the host's report lost the dropped scores")
	}
	// The public event says so too; an update keeps it.
	var pubEv voting.Event
	status, data = e.Do("GET", "/api/events/pub", "", nil)
	if err := json.Unmarshal(data, &pubEv); err != nil || status != 200 || !pubEv.Published {
		t.Errorf("public event %d %s", status, data)
	}
	e.Must("POST", "/api/events/pub/publish", map[string]any{"published": false}, &ev)
	status, data = e.Do("GET", "/api/events/pub/results", "", nil)
	wantAPIError(t, status, data, http.StatusForbidden, voting.CodeForbidden)

	status, data = e.Do("POST", "/api/events/pub/publish", hostKey, `{}`)
	wantAPIError(t, status, data, http.StatusBadRequest, voting.CodeInvalid)
	status, data = e.Do("POST", "/api/events/pub/publish", "", `{"published": true}`)
	wantAPIError(t, status, data, http.StatusForbidden, voting.CodeForbidden)
}

// TestPublishedSurvivesUpdate: a PUT of the event (which does not know
// about publishing) keeps the results published.
func TestPublishedSurvivesUpdate(t *testing.T) {
	t.Parallel()
	e := newEmbeddedEnv(t, envOptions{})
	e.CreateEvent(testEvent("keep", 2))
	var ev voting.Event
	e.Must("POST", "/api/events/keep/publish", map[string]any{"published": true}, &ev)
	ev.Published = false
	ev.Title = "改了标题"
	var updated voting.Event
	e.Must("PUT", "/api/events/keep", ev, &updated)
	if !updated.Published || updated.Title != "改了标题" {
		t.Errorf("after PUT: published %v title %q", updated.Published, updated.Title)
	}
}

func TestEndedEventIsReadOnly(t *testing.T) {
	t.Parallel()
	e := newEmbeddedEnv(t, envOptions{})
	created := e.CreateEvent(testEvent("done", 2))
	e.Command("done", voting.Command{Action: voting.ActionNext})
	e.Command("done", voting.Command{Action: voting.ActionOpen})
	e.CastHTTP("done", "v1", "c1", "audience", 88)
	e.Command("done", voting.Command{Action: voting.ActionEnd})
	before := e.Standings("done")

	wantEnded := func(what string, status int, data []byte) {
		t.Helper()
		wantAPIError(t, status, data, http.StatusConflict, voting.CodeClosed)
		if !strings.Contains(string(data), "the event has ended") {
			t.Errorf("%s: message %s does not say the event has ended", what, data)
		}
	}
	score := 90.0
	status, data := e.Do("POST", "/api/events/done/ballots", "", api.BallotRequest{ID: newID(), Credential: cred("v2"), Contestant: "c1", Score: &score})
	wantEnded("ballot", status, data)
	for _, cmd := range []voting.Command{
		{Action: voting.ActionOpen}, {Action: voting.ActionNext}, {Action: voting.ActionLobby},
		{Action: voting.ActionReveal}, {Action: voting.ActionEnd},
	} {
		status, data = e.Do("POST", "/api/events/done/stage", hostKey, cmd)
		wantEnded(string(cmd.Action), status, data)
	}
	upd := created
	upd.Title = "新标题"
	status, data = e.Do("PUT", "/api/events/done", hostKey, upd)
	wantEnded("update", status, data)
	status, data = e.Do("POST", "/api/events/done/contestants/c1/reset", hostKey, map[string]string{"confirm": "c1"})
	wantEnded("reset", status, data)

	// Over the socket too.
	v := e.Dial("done", voterQuery("v3"))
	v.WaitSnapshot()
	id := newID()
	v.Ballot(id, "c1", 70)
	ack := v.WaitAck(id)
	wantRefused(t, ack, voting.CodeClosed)
	if ack.Error == nil || !strings.Contains(ack.Error.Message, "ended") {
		t.Errorf("socket ballot refusal %s does not say the event ended", ack.Raw)
	}

	// Nothing changed; the results can still be read and exported.
	after := e.Standings("done")
	if !jsonEqual(t, before, after) {
		t.Errorf("standings changed: %+v → %+v", before, after)
	}
	var got voting.Event
	e.Must("GET", "/api/events/done", nil, &got)
	if got.Title != created.Title || got.Revision != created.Revision {
		t.Errorf("event changed: %+v", got)
	}
	e.download("/api/events/done/export.xlsx")
}

func TestCloneEvent(t *testing.T) {
	t.Parallel()
	e := newEmbeddedEnv(t, envOptions{})
	src := testEvent("day1", 4)
	src.Rules.Criteria = []voting.Criterion{{ID: "measures", Name: "举措", Weight: 50}, {ID: "results", Name: "成绩", Weight: 50}}
	src.VotingScope = voting.ScopeAll
	created := e.CreateEvent(src)
	e.Command("day1", voting.Command{Action: voting.ActionOpen})
	req := map[string]any{"id": newID(), "credential": cred("v1"), "contestant": "c2", "scores": map[string]float64{"measures": 80, "results": 90}}
	if status, data := e.Do("POST", "/api/events/day1/ballots", "", req); status != 200 {
		t.Fatalf("ballot: %d %s", status, data)
	}
	e.Command("day1", voting.Command{Action: voting.ActionEnd})
	e.Must("POST", "/api/events/day1/publish", map[string]any{"published": true}, nil)

	var clone voting.Event
	status, data := e.Do("POST", "/api/events/day1/clone", hostKey, map[string]string{"id": "day2", "title": "第二轮"})
	if status != http.StatusCreated {
		t.Fatalf("clone: %d %s", status, data)
	}
	if err := json.Unmarshal(data, &clone); err != nil {
		t.Fatal(err)
	}
	if clone.ID != "day2" || clone.Title != "第二轮" || clone.Published || clone.Revision != 1 {
		t.Errorf("clone %+v", clone)
	}
	same := func(a, b voting.Event) bool {
		a.ID, a.Title, a.Revision, a.Published = "", "", 0, false
		b.ID, b.Title, b.Revision, b.Published = "", "", 0, false
		return jsonEqual(t, a, b)
	}
	var host voting.Event
	e.Must("GET", "/api/events/day2", nil, &host)
	if !same(host, created) || host.Panels[1].Key != "judge-key" {
		t.Errorf("the clone differs from its source:\n%+v\n%+v", host, created)
	}
	if sd := e.Standings("day2"); sd.Ballots != 0 {
		t.Errorf("the clone has %d ballots", sd.Ballots)
	}
	var st voting.Stage
	e.Must("GET", "/api/events/day2/stage", nil, &st)
	if st.Phase != voting.PhaseLobby || st.Version != 1 {
		t.Errorf("the clone's stage %+v", st)
	}
	// The clone runs on its own; the source keeps its ballot.
	e.Command("day2", voting.Command{Action: voting.ActionOpen})
	if sd := e.Standings("day1"); sd.Ballots != 1 {
		t.Errorf("the source has %d ballots", sd.Ballots)
	}
	// No title: the old one.
	e.Must("POST", "/api/events/day1/clone", map[string]string{"id": "day3"}, &clone)
	if clone.Title != created.Title {
		t.Errorf("clone title %q", clone.Title)
	}

	for _, tc := range []struct {
		path, body string
		status     int
		code       voting.Code
	}{
		{"/api/events/day1/clone", `{"id":"day2"}`, http.StatusConflict, voting.CodeConflict},
		{"/api/events/day1/clone", `{"id":"Day 4"}`, http.StatusBadRequest, voting.CodeInvalid},
		{"/api/events/day1/clone", `{}`, http.StatusBadRequest, voting.CodeInvalid},
		{"/api/events/day1/clone", `{"id":"day4","extra":1}`, http.StatusBadRequest, voting.CodeInvalid},
		{"/api/events/nope/clone", `{"id":"day4"}`, http.StatusNotFound, voting.CodeNotFound},
	} {
		status, data := e.Do("POST", tc.path, hostKey, tc.body)
		wantAPIError(t, status, data, tc.status, tc.code)
	}
	status, data = e.Do("POST", "/api/events/day1/clone", "", `{"id":"day4"}`)
	wantAPIError(t, status, data, http.StatusForbidden, voting.CodeForbidden)
}

// TestEventsApart: several events on one server: listed together, their
// ballots, standings and exports apart; deleting one (with confirmation)
// leaves the other.
func TestEventsApart(t *testing.T) {
	t.Parallel()
	e := newEmbeddedEnv(t, envOptions{})
	a := testEvent("alpha", 3)
	b := testEvent("beta", 4)
	for i := range b.Contestants {
		b.Contestants[i].Name = fmt.Sprintf("乙队%d", i+1)
	}
	e.CreateEvent(a)
	e.CreateEvent(b)
	na := e.runEvent("alpha", 3, 1)
	nb := e.runEvent("beta", 4, 2)

	var list struct {
		Events []voting.Event `json:"events"`
	}
	e.Must("GET", "/api/events", nil, &list)
	if len(list.Events) != 2 || list.Events[0].ID != "alpha" || list.Events[1].ID != "beta" {
		t.Fatalf("list %+v", list.Events)
	}
	status, data := e.Do("GET", "/api/events", "", nil)
	wantAPIError(t, status, data, http.StatusForbidden, voting.CodeForbidden)

	if sa, sb := e.Standings("alpha"), e.Standings("beta"); sa.Ballots != na || sb.Ballots != nb || len(sa.Rows) != 3 || len(sb.Rows) != 4 {
		t.Errorf("standings: alpha %d/%d rows %d, beta %d/%d rows %d", sa.Ballots, na, len(sa.Rows), sb.Ballots, nb, len(sb.Rows))
	}
	// A ballot for beta's contestant c4 is refused by alpha, which has none.
	score := 80.0
	status, data = e.Do("POST", "/api/events/alpha/ballots", "", api.BallotRequest{ID: newID(), Credential: cred("x"), Contestant: "c4", Score: &score})
	if status == http.StatusOK {
		t.Errorf("alpha took a ballot for c4: %s", data)
	}
	body, _, _ := e.download("/api/events/alpha/export.csv?table=ballots")
	if strings.Contains(string(body), "乙队") {
		t.Error("alpha's ballots show beta's contestants")
	}
	if n := strings.Count(string(body), "\r\n"); n != 1+na {
		t.Errorf("alpha's ballots CSV has %d lines, want %d", n, 1+na)
	}
	// Voter codes differ between events for the same voter (judge-0 voted in both).
	var ra, rb report.Report
	e.Must("GET", "/api/events/alpha/results?detail=1", nil, &ra)
	e.Must("GET", "/api/events/beta/results?detail=1", nil, &rb)
	codes := map[string]bool{}
	for _, d := range ra.Detail {
		codes[d.Voter] = true
	}
	for _, d := range rb.Detail {
		if codes[d.Voter] {
			t.Fatalf("voter code %s appears in both events", d.Voter)
		}
	}

	// Delete needs the confirmation.
	for _, q := range []string{"", "?confirm=", "?confirm=beta"} {
		status, data = e.Do("DELETE", "/api/events/alpha"+q, hostKey, nil)
		wantAPIError(t, status, data, http.StatusBadRequest, voting.CodeInvalid)
	}
	status, data = e.Do("DELETE", "/api/events/alpha?confirm=alpha", "", nil)
	wantAPIError(t, status, data, http.StatusForbidden, voting.CodeForbidden)
	var del map[string]string
	e.Must("DELETE", "/api/events/alpha?confirm=alpha", nil, &del)
	if del["deleted"] != "alpha" {
		t.Errorf("delete answered %v", del)
	}
	status, data = e.Do("GET", "/api/events/alpha/results", hostKey, nil)
	wantAPIError(t, status, data, http.StatusNotFound, voting.CodeNotFound)
	e.Must("GET", "/api/events", nil, &list)
	if len(list.Events) != 1 || list.Events[0].ID != "beta" {
		t.Errorf("after delete: %+v", list.Events)
	}
	if sb := e.Standings("beta"); sb.Ballots != nb {
		t.Errorf("beta lost ballots: %d, want %d", sb.Ballots, nb)
	}
}

// TestResultsOnRedis: publishing, cloning, the read-only end and the
// export work the same on the Redis store, across two instances.
func TestResultsOnRedis(t *testing.T) {
	t.Parallel()
	srv := redistest.MustStart(t, redistest.Options{})
	a := newRedisEnv(t, srv, envOptions{})
	b := newRedisEnv(t, srv, envOptions{})
	a.CreateEvent(testEvent("redis-res", 3))
	n := a.runEvent("redis-res", 3, 2)

	var ev voting.Event
	b.Must("POST", "/api/events/redis-res/publish", map[string]any{"published": true}, &ev)
	status, data := a.Do("GET", "/api/events/redis-res/results", "", nil)
	if status != http.StatusOK {
		t.Fatalf("published results on the other instance: %d %s", status, data)
	}
	score := 70.0
	status, data = b.Do("POST", "/api/events/redis-res/ballots", "", api.BallotRequest{ID: newID(), Credential: cred("late"), Contestant: "c1", Score: &score})
	wantAPIError(t, status, data, http.StatusConflict, voting.CodeClosed)
	status, data = b.Do("PUT", "/api/events/redis-res", hostKey, ev)
	wantAPIError(t, status, data, http.StatusConflict, voting.CodeClosed)

	body, _, _ := b.download("/api/events/redis-res/export.xlsx")
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	detail, err := f.GetRows("明细")
	if err != nil || len(detail) != 1+n {
		t.Errorf("明细: %d rows, want %d (%v)", len(detail)-1, n, err)
	}

	var clone voting.Event
	a.Must("POST", "/api/events/redis-res/clone", map[string]string{"id": "redis-res-2"}, &clone)
	if sd := b.Standings("redis-res-2"); sd.Ballots != 0 || len(sd.Rows) != 3 {
		t.Errorf("clone standings %+v", sd)
	}
}
