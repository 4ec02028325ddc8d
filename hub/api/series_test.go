package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"leitai/voting"
	"leitai/voting/report"
)

// playRound takes an event through every contestant with ballots (no
// ballots for skip) and reveals every place, without ending it.
func (e *env) playRound(event string, n, salt int, skip string) {
	e.T.Helper()
	for i := range n {
		e.Command(event, voting.Command{Action: voting.ActionNext})
		c := fmt.Sprintf("c%d", i+1)
		if c == skip {
			continue
		}
		e.Command(event, voting.Command{Action: voting.ActionOpen})
		for v := range 3 + (i+salt)%3 {
			e.CastHTTP(event, fmt.Sprintf("voter-%s-%d", event, v), c, "audience", scoreFor(i*7+v, salt))
		}
		e.CastHTTP(event, "judge-1", c, "judges", scoreFor(i*3, salt+1))
		e.Command(event, voting.Command{Action: voting.ActionClose})
	}
	sd := e.Standings(event)
	for range voting.RevealSteps(&sd) {
		e.Command(event, voting.Command{Action: voting.ActionReveal})
	}
}

func TestSeriesAPI(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{})
	se := voting.Series{ID: "gongshu", Name: "2020年度拱墅区大比武"}
	var created voting.Series
	e.Must("POST", "/api/series", se, &created)
	if created.Revision != 1 || created.Rule != voting.RuleAverage || created.Missed != voting.MissedSkip {
		t.Fatalf("created %+v", created)
	}
	status, data := e.Do("POST", "/api/series", hostKey, se)
	wantAPIError(t, status, data, http.StatusConflict, voting.CodeConflict)
	status, data = e.Do("POST", "/api/series", "", se)
	wantAPIError(t, status, data, http.StatusForbidden, voting.CodeForbidden)
	status, data = e.Do("POST", "/api/series", hostKey, `{"id":"x","name":"X","rule":"best"}`)
	wantAPIError(t, status, data, http.StatusBadRequest, voting.CodeInvalid)
	status, data = e.Do("PUT", "/api/series/gongshu", hostKey, voting.Series{ID: "other", Name: "X"})
	wantAPIError(t, status, data, http.StatusBadRequest, voting.CodeInvalid)

	ev := testEvent("r1", 5)
	ev.Title = "拱墅区第一轮擂台赛"
	ev.Series = "gongshu"
	ev = e.CreateEvent(ev)
	if ev.Round != 1 {
		t.Fatalf("round %d, want 1", ev.Round)
	}
	e.playRound("r1", 5, 1, "")
	// Nobody sees the season table before the host shows it.
	status, data = e.Do("GET", "/api/events/r1/season", "", nil)
	wantAPIError(t, status, data, http.StatusForbidden, voting.CodeForbidden)
	st := e.Command("r1", voting.Command{Action: voting.ActionSeason, Visible: ptr(true)})
	if !st.Season {
		t.Fatalf("stage %+v", st)
	}
	var s1 voting.Season
	status, data = e.Do("GET", "/api/events/r1/season", "", nil)
	if status != http.StatusOK || json.Unmarshal(data, &s1) != nil || len(s1.Rounds) != 1 || len(s1.Rows) != 5 {
		t.Fatalf("the screen's season table: %d %s", status, data)
	}

	var r2 voting.Event
	e.Must("POST", "/api/events/r1/clone", map[string]string{"id": "r2"}, &r2)
	if r2.Round != 2 || r2.Series != "gongshu" || r2.Title != "拱墅区第二轮擂台赛" {
		t.Fatalf("clone: round %d series %q title %q", r2.Round, r2.Series, r2.Title)
	}
	status, data = e.Do("POST", "/api/events/r2/stage", hostKey, voting.Command{Action: voting.ActionSeason, Visible: ptr(true)})
	wantAPIError(t, status, data, http.StatusBadRequest, voting.CodeInvalid)
	e.playRound("r2", 5, 2, "c3") // c3 gets no ballots: it misses round 2

	// The season table equals the reference over the stores' standings.
	sd1, sd2 := e.Standings("r1"), e.Standings("r2")
	ev1, _ := e.Svc.Event(testContext(t), "r1")
	ev2, _ := e.Svc.Event(testContext(t), "r2")
	want, err := voting.SeasonTable(&created, []voting.SeasonRound{{Event: &ev1, Standings: &sd1}, {Event: &ev2, Standings: &sd2}})
	if err != nil {
		t.Fatal(err)
	}
	var got voting.Season
	e.Must("GET", "/api/series/gongshu/season", nil, &got)
	if !jsonEqual(t, got, want) {
		t.Fatalf("season table\n got %+v\nwant %+v", got, want)
	}
	var info struct {
		voting.Series
		Rounds []voting.RoundEvent `json:"rounds"`
	}
	e.Must("GET", "/api/series/gongshu", nil, &info)
	if info.Name != se.Name || len(info.Rounds) != 2 || !info.Rounds[1].Counts || info.Rounds[1].Name != "第二轮" {
		t.Fatalf("series %+v", info)
	}
	var upTo1 voting.Season
	e.Must("GET", "/api/series/gongshu/season?round=1", nil, &upTo1)
	if len(upTo1.Rounds) != 1 {
		t.Fatalf("?round=1: %d rounds", len(upTo1.Rounds))
	}

	// Without the key: only once every round in the table is published.
	status, data = e.Do("GET", "/api/series/gongshu/season", "", nil)
	wantAPIError(t, status, data, http.StatusForbidden, voting.CodeForbidden)
	for _, id := range []string{"r1", "r2"} {
		e.Must("POST", "/api/events/"+id+"/publish", map[string]bool{"published": true}, nil)
	}
	status, data = e.Do("GET", "/api/series/gongshu/season", "", nil)
	if status != http.StatusOK {
		t.Fatalf("published season: %d %s", status, data)
	}

	// Round 2's results carry the season; its workbook's 累计 sheet and
	// its CSV hold the same numbers as the JSON.
	var rep report.Report
	e.Must("GET", "/api/events/r2/results", nil, &rep)
	if rep.Season == nil || !jsonEqual(t, *rep.Season, want) {
		t.Fatalf("results season %+v", rep.Season)
	}
	status, xlsx := e.Do("GET", "/api/events/r2/export.xlsx", hostKey, nil)
	if status != http.StatusOK {
		t.Fatalf("export.xlsx: %d", status)
	}
	checkSeasonSheet(t, xlsx, &want)
	status, xlsx = e.Do("GET", "/api/series/gongshu/export.xlsx", hostKey, nil)
	if status != http.StatusOK {
		t.Fatalf("series export.xlsx: %d", status)
	}
	checkSeasonSheet(t, xlsx, &want)
	status, csvData := e.Do("GET", "/api/events/r2/export.csv?table=season", hostKey, nil)
	if status != http.StatusOK || !strings.Contains(string(csvData), "累计平均分") {
		t.Fatalf("season CSV: %d %s", status, csvData)
	}
	status, csv2 := e.Do("GET", "/api/series/gongshu/export.csv", hostKey, nil)
	if status != http.StatusOK || !bytes.Equal(csvData, csv2) {
		t.Fatalf("the series' CSV differs from round 2's season CSV: %d\n%s\n%s", status, csvData, csv2)
	}
	// Round 1's results carry the season up to round 1.
	e.Must("GET", "/api/events/r1/results", nil, &rep)
	if rep.Season == nil || len(rep.Season.Rounds) != 1 {
		t.Fatalf("round 1's season %+v", rep.Season)
	}
}

// checkSeasonSheet reads the sheet 累计 of a workbook and compares every
// cell with the season table (the JSON).
func checkSeasonSheet(t *testing.T, xlsx []byte, s *voting.Season) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(xlsx))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("累计", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatalf("sheet 累计: %v", err)
	}
	if len(rows) != len(s.Rows)+1 {
		t.Fatalf("累计 has %d rows, want %d", len(rows), len(s.Rows)+1)
	}
	head := rows[0]
	col := func(title string) int {
		for i, h := range head {
			if h == title {
				return i
			}
		}
		t.Fatalf("累计 has no column %q: %q", title, head)
		return -1
	}
	cell := func(row []string, i int) string {
		if i < len(row) {
			return row[i]
		}
		return ""
	}
	num := func(x float64, ok bool) string {
		if !ok {
			return ""
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	for i, r := range s.Rows {
		row := rows[i+1]
		want := map[string]string{
			"参赛单位": r.Name, "名次": num(float64(r.Rank), r.Rank > 0), "组内名次": num(float64(r.GroupRank), r.GroupRank > 0),
			report.CombinedTitle(s.Rule): num(r.Combined, r.Rank > 0), "参赛轮数": strconv.Itoa(r.Played), "名次变化": report.MoveText(s, &r),
		}
		for j, rd := range s.Rounds {
			want[rd.Name] = num(r.Finals[j].Final, r.Finals[j].Played)
		}
		got := map[string]string{}
		for k := range want {
			got[k] = cell(row, col(k))
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("累计 row %d = %v, want %v", i+1, got, want)
		}
	}
}
