package main

// Issue 12 §6: every number of every export (CSV ranking and ballots, the
// workbook's sheets, the results page) equals the JSON results, which
// follow the rounding rules of docs/scoring.md; on events with criteria,
// trim, a tie, an empty panel and a contestant without ballots.

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"leitai/voting"
	"leitai/voting/report"
)

// exportsEvents makes two events and runs them to the end:
//
//   - "crit": criteria 举措 (1) and 成绩 (2), trim 1, 2 decimals, panels
//     audience 60 / judges 40 (key) / guests 10 (never votes: an empty
//     panel); c1 and c2 tie; c5 has audience ballots only; c6 none.
//   - "trim2": no criteria, step 0.25, trim 2 (several dropped scores in
//     one cell), 1 decimal.
//
// Averages like 90.83335, which a float64 holds as 90.833349…, test
// rounding half up.
func exportsEvents(t *testing.T, srv *btServer) []string {
	t.Helper()
	suffix := uuid.NewString()[:6]
	crit := voting.Event{
		ID: "crit-" + suffix, Title: "=导出 评分项", VotingScope: voting.ScopeAll,
		Rules: voting.Rules{Min: 60, Max: 100, Step: 0.5, Trim: 1, Decimals: 2, Criteria: []voting.Criterion{
			{ID: "measures", Name: "举措", Weight: 1}, {ID: "results", Name: "+成绩", Weight: 2}}},
		Panels: []voting.Panel{
			{ID: "audience", Name: "=大众评审", Weight: 60}, {ID: "judges", Name: "专家评委", Weight: 40, Key: "judge-key"},
			{ID: "guests", Name: "@嘉宾", Weight: 10}},
		Contestants: []voting.Contestant{
			{ID: "c1", Name: "区发改经信局", Group: "专项组牵头单位"}, {ID: "c2", Name: "-区商务局", Group: "专项组牵头单位"},
			{ID: "c3", Name: "米市巷街道", Group: "街道和园区"}, {ID: "c4", Name: "湖墅街道", Group: "街道和园区"},
			{ID: "c5", Name: "小河街道", Group: "街道和园区"}, {ID: "c6", Name: "没有选票", Group: "街道和园区"}},
	}
	trim2 := voting.Event{
		ID: "trim2-" + suffix, Title: "导出 去掉两个", VotingScope: voting.ScopeAll,
		Rules:       voting.Rules{Min: 0, Max: 10, Step: 0.25, Trim: 2, Decimals: 1},
		Contestants: []voting.Contestant{{ID: "a", Name: "甲"}, {ID: "b", Name: "乙"}, {ID: "c", Name: "丙"}},
	}
	cast := func(ev voting.Event, voter, contestant, panel string, score float64, scores map[string]float64) {
		t.Helper()
		body := map[string]any{"id": uuid.NewString(), "credential": srv.m.Credentials.For(voter), "contestant": contestant, "panel": panel}
		if scores != nil {
			body["scores"] = scores
		} else {
			body["score"] = score
		}
		if panel == "judges" {
			body["panelKey"] = "judge-key"
		}
		resultsAPI(t, srv.base, "POST", "/api/events/"+ev.ID+"/ballots", "", body, nil)
	}
	for _, ev := range []voting.Event{crit, trim2} {
		srv.api(t, "POST", "/events", ev, nil)
		srv.stage(t, ev.ID, map[string]any{"action": "open"})
	}
	// crit: (measures, results) pairs; a ballot's score is (m + 2r) / 3.
	pairs := [][2]float64{{90, 91}, {91, 91}, {60, 99.5}, {100, 62}, {88.5, 90}, {95, 70}, {77, 83.5}}
	for _, c := range []string{"c1", "c2"} { // the same ballots: a tie
		for v, p := range pairs[:5] {
			cast(crit, fmt.Sprintf("phone-%d", v), c, "audience", 0, map[string]float64{"measures": p[0], "results": p[1]})
		}
		for j, p := range pairs[4:] {
			cast(crit, fmt.Sprintf("judge-%d", j), c, "judges", 0, map[string]float64{"measures": p[1], "results": p[0]})
		}
	}
	for v, p := range pairs {
		cast(crit, fmt.Sprintf("phone-%d", v), "c3", "audience", 0, map[string]float64{"measures": p[1], "results": p[0]})
		if v < 2 {
			cast(crit, fmt.Sprintf("judge-%d", v), "c3", "judges", 0, map[string]float64{"measures": p[0], "results": 80})
		}
	}
	for v, p := range pairs[2:6] {
		cast(crit, fmt.Sprintf("phone-%d", v), "c4", "audience", 0, map[string]float64{"measures": p[0], "results": 99})
		cast(crit, fmt.Sprintf("judge-%d", v), "c4", "judges", 0, map[string]float64{"measures": 99, "results": p[1]})
	}
	for v := range 3 {
		cast(crit, fmt.Sprintf("phone-%d", v), "c5", "audience", 0, map[string]float64{"measures": 70 + float64(v), "results": 81.5})
	}
	for i, c := range []string{"a", "b", "c"} {
		for v := range 6 + i {
			cast(trim2, fmt.Sprintf("phone-%d", v), c, "audience", float64((v*37+i*11)%41)*0.25, nil)
		}
	}
	for _, ev := range []voting.Event{crit, trim2} {
		srv.stage(t, ev.ID, map[string]any{"action": "close"})
		srv.stage(t, ev.ID, map[string]any{"action": "end"})
	}
	return []string{crit.ID, trim2.ID}
}

// exportsResults reads the JSON results (with the detail) and the live
// standings, checks the JSON against the rules of docs/scoring.md and
// returns the results.
func exportsResults(t *testing.T, srv *btServer, id string) *report.Report {
	t.Helper()
	var rep report.Report
	srv.api(t, "GET", "/events/"+id+"/results?detail=1&tz=Asia/Shanghai", nil, &rep)
	sd := srv.standings(t, id)
	if want := min(4, max(2, rep.Decimals+2)); rep.AverageDecimals != want {
		t.Errorf("%s: averageDecimals %d, want %d", id, rep.AverageDecimals, want)
	}
	ballots := map[[2]string][]float64{}
	for _, d := range rep.Detail {
		k := [2]string{d.Contestant, d.Panel}
		ballots[k] = append(ballots[k], d.Score)
	}
	halfUp := 0 // averages where half up and the float's nearest differ
	for i, row := range rep.Rows {
		s := sd.Rows[i]
		if row.Contestant != s.Contestant || row.Rank != s.Rank || row.GroupRank != s.GroupRank || row.Final != s.Final || row.Ballots != s.Ballots {
			t.Errorf("%s row %d: %+v, standings %+v", id, i, row, s)
		}
		for j, pr := range row.Panels {
			raw := s.Panels[j].Average
			if want := voting.RoundScore(raw, rep.AverageDecimals); pr.Average != want || pr.Count != s.Panels[j].Count {
				t.Errorf("%s %s/%s: average %v (%d ballots), want %v half up from %v", id, row.Contestant, pr.Panel, pr.Average, pr.Count, want, raw)
			}
			if strconv.FormatFloat(raw, 'f', rep.AverageDecimals, 64) != strconv.FormatFloat(pr.Average, 'f', rep.AverageDecimals, 64) {
				halfUp++
			}
			for _, x := range append(slices.Clone(pr.Highest), pr.Lowest...) {
				if !slices.Contains(ballots[[2]string{row.Contestant, pr.Panel}], x) {
					t.Errorf("%s %s/%s: dropped %v is no ballot's score", id, row.Contestant, pr.Panel, x)
				}
			}
		}
	}
	if strings.HasPrefix(id, "crit-") {
		if halfUp == 0 {
			t.Errorf("%s: no average where rounding half up matters; the test lost its point", id)
		}
		i := slices.IndexFunc(rep.Rows, func(r report.Row) bool { return r.Contestant == "c1" || r.Contestant == "c2" })
		if a, b := rep.Rows[i], rep.Rows[i+1]; a.Final != b.Final || a.Rank != b.Rank || a.Rank == 0 ||
			(i+2 < len(rep.Rows) && rep.Rows[i+2].Ballots > 0 && rep.Rows[i+2].Rank != a.Rank+2) {
			t.Errorf("%s: c1 and c2 do not tie: %+v %+v", id, a, b)
		}
	}
	return &rep
}

// exportsGet downloads a host file.
func exportsGet(t *testing.T, srv *btServer, path string) []byte {
	t.Helper()
	req, err := http.NewRequest("GET", srv.base+"/api/events/"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+btHostKey)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return body
}

func exportsCSV(t *testing.T, srv *btServer, id, table string) [][]string {
	t.Helper()
	body := exportsGet(t, srv, id+"/export.csv?table="+table+"&tz=Asia/Shanghai")
	body, ok := bytes.CutPrefix(body, []byte("\xEF\xBB\xBF"))
	if !ok {
		t.Fatalf("%s %s CSV: no byte-order mark", id, table)
	}
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("%s %s CSV: %v", id, table, err)
	}
	return recs
}

// fixed writes x with d decimals.
func fixed(x float64, d int) string { return strconv.FormatFloat(x, 'f', d, 64) }

// defused is what a CSV cell holding text s says.
func defused(s string) string {
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}

// exportsRanking is the ranking table as the JSON results give it: the
// header (panel names as they are) and one line per row, each number
// written by the rule of its column.
func exportsRanking(rep *report.Report) (header []string, lines [][]string) {
	grouped := len(rep.Groups) > 0
	ballotDec := rep.Scale
	if len(rep.Criteria) > 0 {
		ballotDec = 4
	}
	header = []string{"名次"}
	if grouped {
		header = append(header, "组内名次")
	}
	header = append(header, "参赛单位")
	if grouped {
		header = append(header, "分组")
	}
	header = append(header, "出场顺序", "最终得分", "有效票数")
	for _, p := range rep.Panels {
		header = append(header, p.Name+"平均分", p.Name+"票数")
		if rep.Trim > 0 {
			header = append(header, p.Name+"去掉的最高分", p.Name+"去掉的最低分")
		}
	}
	blankZero := func(n int) string {
		if n == 0 {
			return ""
		}
		return strconv.Itoa(n)
	}
	dropped := func(xs []float64) string {
		if len(xs) == 1 {
			return fixed(xs[0], ballotDec)
		}
		parts := make([]string, len(xs))
		for i, x := range xs {
			parts[i] = strconv.FormatFloat(x, 'f', -1, 64)
		}
		return strings.Join(parts, "、")
	}
	for _, row := range rep.Rows {
		line := []string{blankZero(row.Rank)}
		if grouped {
			line = append(line, blankZero(row.GroupRank))
		}
		line = append(line, row.Name)
		if grouped {
			line = append(line, row.Group)
		}
		final := ""
		if row.Ballots > 0 {
			final = fixed(row.Final, rep.Decimals)
		}
		line = append(line, strconv.Itoa(row.Order), final, strconv.Itoa(row.Ballots))
		for _, pr := range row.Panels {
			avg := ""
			if pr.Count > 0 {
				avg = fixed(pr.Average, rep.AverageDecimals)
			}
			line = append(line, avg, strconv.Itoa(pr.Count))
			if rep.Trim > 0 {
				line = append(line, dropped(pr.Highest), dropped(pr.Lowest))
			}
		}
		lines = append(lines, line)
	}
	return header, lines
}

// exportsBallots is the ballots table as the JSON detail gives it.
func exportsBallots(rep *report.Report, loc *time.Location) (header []string, lines [][]string) {
	header = []string{"投票人（匿名编号）", "参赛单位", "评审组"}
	for _, c := range rep.Criteria {
		header = append(header, c.Name)
	}
	header = append(header, "得分", "投票时间")
	ballotDec := rep.Scale
	if len(rep.Criteria) > 0 {
		ballotDec = 4
	}
	for _, d := range rep.Detail {
		line := []string{d.Voter, d.Name, d.PanelName}
		for _, s := range d.Scores {
			line = append(line, fixed(s, rep.Scale))
		}
		line = append(line, fixed(d.Score, ballotDec), time.UnixMilli(d.At).In(loc).Format("2006-01-02 15:04:05"))
		lines = append(lines, line)
	}
	return header, lines
}

// exportsCompare compares a table read back (CSV records or workbook rows,
// header first) with the lines made from the JSON; text cells are compared
// through mapText (CSV defuses them), and every cell that holds a number
// must parse back to exactly the JSON's number.
func exportsCompare(t *testing.T, what string, got [][]string, header []string, lines [][]string, mapText func(string) string) {
	t.Helper()
	if len(got) != len(lines)+1 {
		t.Fatalf("%s: %d lines, want %d", what, len(got), len(lines)+1)
	}
	cell := func(row []string, i int) string {
		if i < len(row) {
			return row[i]
		}
		return ""
	}
	for i, h := range header {
		if g := cell(got[0], i); g != mapText(h) {
			t.Errorf("%s: header %d is %q, want %q", what, i, g, mapText(h))
		}
	}
	for r, line := range lines {
		for i, want := range line {
			g := cell(got[r+1], i)
			if _, err := strconv.ParseFloat(want, 64); err != nil && !strings.Contains(want, "、") {
				want = mapText(want) // text
			}
			if g != want {
				t.Errorf("%s line %d column %s: %q, want %q", what, r+1, header[i], g, want)
			}
		}
		if n := len(got[r+1]); n > len(line) {
			t.Errorf("%s line %d: %d cells, want %d", what, r+1, n, len(line))
		}
	}
}

// TestExportsEqualJSON: the CSV files and the workbook hold the JSON
// results' numbers, each written by the rule of docs/scoring.md, and every
// text cell of a CSV file (header included) is defused.
func TestExportsEqualJSON(t *testing.T) {
	t.Parallel()
	srv := btStartServer(t, "http://vote.example.test")
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range exportsEvents(t, srv) {
		rep := exportsResults(t, srv, id)
		rh, rl := exportsRanking(rep)
		bh, bl := exportsBallots(rep, shanghai)
		exportsCompare(t, id+" ranking CSV", exportsCSV(t, srv, id, "ranking"), rh, rl, defused)
		exportsCompare(t, id+" ballots CSV", exportsCSV(t, srv, id, "ballots"), bh, bl, defused)
		rules := exportsCSV(t, srv, id, "rules")
		if text := fmt.Sprint(rules); !strings.Contains(text, fmt.Sprintf("平均分四舍五入保留 %d 位小数", rep.AverageDecimals)) {
			t.Errorf("%s: the rules do not state the averages' rounding:\n%s", id, text)
		}

		f, err := excelize.OpenReader(bytes.NewReader(exportsGet(t, srv, id+"/export.xlsx?tz=Asia/Shanghai")))
		if err != nil {
			t.Fatal(err)
		}
		same := func(s string) string { return s }
		for _, sheet := range []struct {
			name   string
			skip   int // the title lines above the header
			header []string
			lines  [][]string
		}{
			{"排名", 2, rh, rl},
			{"明细", 0, bh, bl},
		} {
			shown, err := f.GetRows(sheet.name) // as Excel shows them: number formats applied
			if err != nil {
				t.Fatal(err)
			}
			exportsCompare(t, id+" workbook "+sheet.name, shown[sheet.skip:], sheet.header, sheet.lines, same)
			raw, err := f.GetRows(sheet.name, excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			// The values themselves, not only their display, are the JSON's.
			for r, line := range sheet.lines {
				for i, want := range line {
					w, err := strconv.ParseFloat(want, 64)
					if err != nil || i >= len(raw[sheet.skip+1+r]) || sheet.header[i] == "投票时间" {
						continue
					}
					if g, err := strconv.ParseFloat(raw[sheet.skip+1+r][i], 64); err != nil || g != w {
						t.Errorf("%s workbook %s line %d column %s holds %q, want %v", id, sheet.name, r+1, sheet.header[i], raw[sheet.skip+1+r][i], w)
					}
				}
			}
		}
		f.Close()
	}
}

// TestBrowserResultsPageEqualsJSON: the printable results page shows the
// JSON results' numbers, rounded as docs/scoring.md says.
func TestBrowserResultsPageEqualsJSON(t *testing.T) {
	t.Parallel()
	srv := btStartServer(t, "http://vote.example.test")
	ids := exportsEvents(t, srv)
	chrome := btStartChrome(t)
	tab := chrome.tab(t, "results", 1280, 900, false)
	for _, id := range ids {
		rep := exportsResults(t, srv, id)
		tab.open(srv.base + "/e/" + id + "/results#key=" + btHostKey)
		tab.wait("the ranking", fmt.Sprintf(`document.querySelectorAll("[data-table=overall] tbody tr").length === %d`, len(rep.Rows)))
		type shown struct {
			Rank, Name, Final string
			Panels            []string
		}
		rows := btEval[[]shown](tab, `Array.from(document.querySelectorAll("[data-table=overall] tbody tr")).map(tr => ({
			Rank: tr.querySelector("td.rank").textContent, Name: tr.querySelector("td.name").textContent,
			Final: tr.querySelector("td.final").textContent,
			Panels: Array.from(tr.querySelectorAll("td.avg, td.none:not(.final)")).map(td => td.textContent)}))`)
		groupRows := btEval[map[string][]string](tab, `Object.fromEntries(Array.from(document.querySelectorAll("[data-table=group] tbody tr")).map(tr =>
			[tr.getAttribute("data-contestant"), Array.from(tr.querySelectorAll("td")).map(td => td.textContent)]))`)
		dash := func(n int, s string) string {
			if n == 0 {
				return "—"
			}
			return s
		}
		for i, row := range rep.Rows {
			want := shown{Rank: dash(row.Rank, strconv.Itoa(row.Rank)), Name: row.Name, Final: dash(row.Ballots, fixed(row.Final, rep.Decimals))}
			for _, pr := range row.Panels {
				want.Panels = append(want.Panels, dash(pr.Count, fixed(pr.Average, rep.AverageDecimals)+"（"+strconv.Itoa(pr.Count)+"）"))
			}
			got := rows[i]
			if got.Rank != want.Rank || got.Name != want.Name || got.Final != want.Final || !slices.Equal(got.Panels, want.Panels) {
				t.Errorf("%s overall row %d shows %+v, want %+v", id, i+1, got, want)
			}
			if row.Group != "" {
				wg := []string{dash(row.GroupRank, strconv.Itoa(row.GroupRank)), row.Name, want.Final, want.Rank}
				if g := groupRows[row.Contestant]; !slices.Equal(g, wg) {
					t.Errorf("%s group row of %s shows %q, want %q", id, row.Contestant, g, wg)
				}
			}
		}
		b, _ := json.Marshal(rows[:min(2, len(rows))])
		t.Logf("%s: the page shows %s", id, b)
	}
	// The pages' one number formatter rounds half up, as the server does,
	// also for unrounded averages (the control page's live standings).
	ctx, cancel := context.WithTimeout(tab.ctx, 20*time.Second)
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
		const url = performance.getEntriesByType("resource").map(e => e.name).filter(n => /\/assets\/format\.[0-9a-f]+\.js$/.test(n))[0];
		return import(url).then(m => [m.fmtScore(91.14065, 4), m.fmtScore(96.58335, 4), m.fmtScore(65.725, 2), m.fmtScore(88.7049, 2), m.fmtScore(80.125, 2), m.fmtScore(90, 1), m.fmtScore(NaN, 2)]);
	})()`, chromedp.EvalAwaitPromise))
	if want := []string{"91.1407", "96.5834", "65.73", "88.70", "80.13", "90.0", "—"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("fmtScore = %q, %v; want %q", got, err, want)
	}
	tab.check()
}

// TestBrowserControlCSVIsTheServers: the control page's 导出 CSV button
// saves the server's ranking CSV (one CSV implementation: defused cells,
// the rounding rules), fetched with the host key in a header, not the URL.
func TestBrowserControlCSVIsTheServers(t *testing.T) {
	t.Parallel()
	srv := btStartServer(t, "http://vote.example.test")
	id := exportsEvents(t, srv)[0]
	want := exportsGet(t, srv, id+"/export.csv?table=ranking")
	chrome := btStartChrome(t)
	host := chrome.tab(t, "control", 1366, 768, false)
	host.open(srv.base + "/e/" + id + "/control#key=" + btHostKey)
	host.wait("the standings", `document.querySelectorAll('[data-standings-body] tr').length === 6`)
	btEval[bool](host, `(() => {
		window.__saved = []; window.__fetched = [];
		const objectURL = URL.createObjectURL;
		URL.createObjectURL = (b) => {
			b.arrayBuffer().then((buf) => window.__saved.push(Array.from(new Uint8Array(buf))));
			return objectURL.call(URL, b);
		};
		const fetch0 = window.fetch;
		window.fetch = (url, opts) => {
			window.__fetched.push({url: String(url), auth: !!(opts && opts.headers && opts.headers.Authorization)});
			return fetch0(url, opts);
		};
		document.querySelector('[data-action="export"]').click();
		return true;
	})()`)
	host.wait("the CSV to be saved", `window.__saved.length === 1`)
	var saved []byte
	for _, b := range btEval[[]int](host, `window.__saved[0]`) {
		saved = append(saved, byte(b))
	}
	if !bytes.Equal(saved, want) {
		t.Errorf("the control page saved\n%s\nthe server's ranking CSV is\n%s", saved, want)
	}
	type fetched struct {
		URL  string
		Auth bool
	}
	// Other requests may go meanwhile (the audit head): one is the CSV,
	// and none carries the key in its URL.
	calls := btEval[[]fetched](host, `window.__fetched`)
	var csvs []fetched
	for _, c := range calls {
		if strings.Contains(c.URL, "/export.csv") {
			csvs = append(csvs, c)
		}
		if strings.Contains(c.URL, btHostKey) || !c.Auth {
			t.Errorf("the page fetched %+v; want the key in a header", c)
		}
	}
	if len(csvs) != 1 || !strings.Contains(csvs[0].URL, "/api/events/"+id+"/export.csv?table=ranking") {
		t.Errorf("the page fetched %+v; want the server's ranking CSV once", calls)
	}
	host.check()
}
