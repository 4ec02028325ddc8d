package main

// The season in Chromium: three rounds of the example (round 1 and 2 from
// examples/, round 3 a clone of round 2), with 祥符街道 missing round 2,
// 小河街道 under a new id in round 3 and 区住建局 and 区投促局 tied in the
// season; after round 3's reveal the host shows 年度累计排名 from the
// control page and the screen plays it at 1920×1080 and 1024×768.

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"leitai/voting"
)

// seasonScore is a unit's final in a round (three ballots around it):
// 区住建局 (u03) and 区投促局 (u05) swap 88 and 90 in rounds 1 and 2 and
// both score 89 in round 3, so they tie on the season average.
func seasonScore(round int, id string) float64 {
	switch {
	case id == "u03":
		return []float64{88, 90, 89}[round-1]
	case id == "u05":
		return []float64{90, 88, 89}[round-1]
	}
	n, _ := strconv.Atoi(strings.TrimLeft(id, "u"))
	return 70 + float64((n*7+round*5)%25)
}

func TestBrowserSeason(t *testing.T) {
	t.Parallel()
	chrome := btStartChrome(t)
	m := NewMain(Config{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), HostKey: btHostKey, PublicURL: "http://192.168.1.20:8080",
		StandingsInterval: 50 * time.Millisecond, LogFormat: "text", LogLevel: "warn",
		EventFiles: []string{"../../examples/gongshu-2020.yaml", "../../examples/gongshu-2020-r2.yaml"},
	}, io.Discard, io.Discard)
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	srv := &btServer{m: m, base: "http://" + m.Addr}
	const series = "gongshu-2020-season"

	var r3 voting.Event
	srv.api(t, "POST", "/events/gongshu-2020-r2/clone", map[string]string{"id": "gongshu-2020-r3"}, &r3)
	if r3.Round != 3 || !strings.Contains(r3.Title, "第三轮") {
		t.Fatalf("round 3: round %d, title %q", r3.Round, r3.Title)
	}
	// 小河街道 takes part in round 3 under a new id; the series maps it.
	for i, c := range r3.Contestants {
		if c.ID == "u12" {
			r3.Contestants[i].ID, r3.Contestants[i].Name = "xiaohe", "小河街道（新）"
		}
	}
	srv.api(t, "PUT", "/events/gongshu-2020-r3", r3, &r3)
	var se voting.Series
	srv.api(t, "GET", "/series/"+series, nil, &se)
	se.Renamed = map[string]string{"xiaohe": "u12"}
	srv.api(t, "PUT", "/series/"+series, se, &se)

	for round, ev := range []string{"gongshu-2020", "gongshu-2020-r2", "gongshu-2020-r3"} {
		var event voting.Event
		srv.api(t, "GET", "/events/"+ev, nil, &event)
		for _, c := range event.Contestants {
			if round+1 == 2 && c.ID == "u07" {
				continue // 祥符街道 misses round 2
			}
			id := c.ID
			if id == "xiaohe" {
				id = "u12"
			}
			seasonBallots(t, srv, ev, c.ID, seasonScore(round+1, id))
		}
		if round+1 == 3 {
			break // round 3 is revealed with the screens watching
		}
		sd := srv.standings(t, ev)
		for range voting.RevealSteps(&sd) {
			srv.stage(t, ev, map[string]any{"action": "reveal"})
		}
	}

	const ev = "gongshu-2020-r3"
	host := chrome.tab(t, "control", 1440, 900, false)
	host.open(srv.base + "/e/" + ev + "/control#key=" + btHostKey)
	host.wait("the control page", `!document.querySelector('[data-view="run"]').hidden && document.querySelectorAll('[data-standings-body] tr').length === 16`)
	host.wait("the season button, not yet usable", `!document.querySelector('[data-cmd="season"]').hidden && document.querySelector('[data-cmd="season"]').disabled`)
	screens := []*btTab{chrome.tab(t, "screen", 1920, 1080, false), chrome.tab(t, "screen-4:3", 1024, 768, false)}
	for _, s := range screens {
		s.open(srv.screenURL(ev))
	}
	sd := srv.standings(t, ev)
	for range voting.RevealSteps(&sd) {
		srv.stage(t, ev, map[string]any{"action": "reveal"})
	}
	for _, s := range screens {
		s.wait("the whole reveal", `!document.querySelector('[data-mode="reveal"]').hidden && document.body.classList.contains("champion")`)
	}
	host.wait("the season button", `!document.querySelector('[data-cmd="season"]').disabled && document.querySelector('[data-cmd="season"]').textContent === "显示年度累计排名"`)
	host.do(chromedp.Click(chromedp.CSS(`[data-cmd="season"]`)))
	host.wait("the season shown", `document.querySelector('[data-cmd="season"]').textContent === "收起年度累计排名"`)

	var season voting.Season
	srv.api(t, "GET", "/series/"+series+"/season", nil, &season)
	if len(season.Rounds) != 3 || len(season.Rows) != 16 {
		t.Fatalf("season: %d rounds, %d rows", len(season.Rounds), len(season.Rows))
	}
	rows := map[string]voting.SeasonRow{}
	var want []string
	for _, r := range season.Rows {
		rows[r.Contestant] = r
		want = append(want, fmt.Sprintf("%s %d %.2f %s", r.Contestant, r.Rank, r.Combined, screenMove(r)))
	}
	if a, b := rows["u03"], rows["u05"]; a.Rank != b.Rank || a.Combined != 89 || b.Combined != 89 {
		t.Fatalf("区住建局 %+v and 区投促局 %+v should tie at 89", a, b)
	}
	if rows["u07"].Played != 2 || rows["u12"].Played != 3 || rows["u12"].Name != "小河街道（新）" {
		t.Fatalf("祥符街道 %+v, 小河街道 %+v", rows["u07"], rows["u12"])
	}

	dir := os.Getenv("LEITAI_SCREENSHOTS")
	for _, s := range screens {
		s.wait("the season table", `!document.querySelector('[data-mode="season"]').hidden && document.querySelectorAll('[data-season-list] > li').length === 16`)
		s.wait("the rows in their new places", `Array.from(document.querySelectorAll('[data-season-list] > li')).map(li =>
			li.dataset.id + " " + li.querySelector('.rank').textContent + " " + li.querySelector('.score').textContent + " " + li.querySelector('.move').textContent).join("|") === `+jsq(strings.Join(want, "|")))
		s.wait("animations to settle", btSettled)
		if got := s.text("[data-season-title]"); got != "年度累计排名" {
			t.Errorf("%s: title %q", s.name, got)
		}
		if got := s.text("[data-season-sub]"); !strings.Contains(got, "2020年度拱墅区大比武") || !strings.Contains(got, "截至第三轮") {
			t.Errorf("%s: subtitle %q", s.name, got)
		}
		if s.name == "screen" {
			if small := btEval[string](s, jsSmallText); small != "" {
				t.Errorf("season table: text under 28 px at 1920×1080: %s", small)
			}
		}
		if over := btEval[string](s, `Array.from(document.querySelectorAll('[data-season-list] > li')).filter(li => {
			const r = li.getBoundingClientRect(); return r.bottom > innerHeight + 1 || r.right > innerWidth + 1 || r.height < 20; }).map(li => li.dataset.id).join(",")`); over != "" {
			t.Errorf("%s: rows outside the screen or squashed: %s", s.name, over)
		}
		if dir != "" {
			png, err := chromedp.Run(s.ctx, chromedp.CaptureScreenshot())
			if err == nil {
				err = os.MkdirAll(dir, 0o755)
			}
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, "season-"+strings.ReplaceAll(s.name, ":", "x")+".png"), png, 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		s.check()
	}
	host.check()

	// The printable sheets: round 3's results with the season, and the
	// series' own page, holding the same numbers as the JSON.
	sheet := chrome.tab(t, "results", 1280, 1000, false)
	for _, page := range []string{"/e/" + ev + "/results#key=" + btHostKey, "/s/" + series + "/results"} {
		sheet.open(srv.base + page)
		sheet.wait("the season table", `document.querySelectorAll('.res-season tbody tr').length === 16`)
		got := btEval[string](sheet, `Array.from(document.querySelectorAll('.res-season tbody tr')).map(tr =>
			tr.dataset.contestant + " " + tr.querySelector('.rank').textContent + " " + tr.querySelector('.final').textContent).join("|")`)
		var wantSheet []string
		for _, r := range season.Rows {
			wantSheet = append(wantSheet, fmt.Sprintf("%s %d %.2f", r.Contestant, r.Rank, r.Combined))
		}
		if got != strings.Join(wantSheet, "|") {
			t.Errorf("%s: season table %q", page, got)
		}
		if dir != "" {
			png, err := chromedp.Run(sheet.ctx, chromedp.FullScreenshot(100))
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, "season-results-"+strings.Split(page, "/")[1]+".png"), png, 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		sheet.check()
	}
}

// seasonBallots is btScore with a phone of its own for every ballot (one
// phone's ballots are rate-limited).
func seasonBallots(t *testing.T, srv *btServer, event, contestant string, score float64) {
	t.Helper()
	srv.stage(t, event, map[string]any{"action": "jump", "contestant": contestant})
	srv.stage(t, event, map[string]any{"action": "open"})
	for i, s := range []float64{score - 1, score, score + 1} {
		srv.api(t, "POST", "/events/"+event+"/ballots", map[string]any{
			"id": uuid.NewString(), "credential": srv.m.Credentials.For(fmt.Sprintf("%s-%s-%d", event, contestant, i)), "contestant": contestant, "score": s}, nil)
	}
	srv.stage(t, event, map[string]any{"action": "close"})
}

// screenMove is the movement as the screen writes it.
func screenMove(r voting.SeasonRow) string {
	switch {
	case r.Rank == 0:
		return ""
	case r.PrevRank == 0:
		return "新"
	case r.Move > 0:
		return "▲" + strconv.Itoa(r.Move)
	case r.Move < 0:
		return "▼" + strconv.Itoa(-r.Move)
	}
	return "–"
}
