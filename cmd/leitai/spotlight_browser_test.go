package main

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"leitai/hub/api"
	"leitai/voting"
)

// TestBrowserSpotlight runs 亮分 with a judges' bench of five seats, one of
// which does not score: the control page shows which seats have scored;
// nothing of the seats shows on the big screen while voting is open; when
// the host closes voting the screen shows each seat's score under its
// name, strikes out the highest and the lowest, then the judges' result,
// the audience's average and count, and the final score; the host ends it.
// Screenshots at 1920×1080 and 1024×768 go to $LEITAI_SCREENSHOTS.
func TestBrowserSpotlight(t *testing.T) {
	chrome := btStartChrome(t)
	srv := btStartServer(t, "")
	srv.api(t, "POST", "/events", map[string]any{
		"id": "liang", "title": "拱墅区擂台赛（亮分）",
		"contestants": []map[string]string{{"id": "c1", "name": "区发改经信局"}, {"id": "c2", "name": "上塘街道"}},
		"panels": []map[string]any{
			{"id": "audience", "name": "大众评审", "weight": 60},
			{"id": "judges", "name": "专家评委", "weight": 40, "seats": []string{"评委一", "评委二", "评委三", "评委四", "评委五"}},
		},
		"rules": map[string]any{"min": 60, "max": 100, "step": 0.5, "trim": 1, "decimals": 2},
	}, nil)
	var issued struct{ Tickets []api.TicketView }
	srv.api(t, "POST", "/events/liang/seats", api.SeatsRequest{Panel: "judges"}, &issued)
	if len(issued.Tickets) != 5 {
		t.Fatalf("%d seat tickets, want 5", len(issued.Tickets))
	}
	codes := map[int]string{}
	for _, tk := range issued.Tickets {
		codes[tk.Seat] = tk.Code
	}
	srv.stage(t, "liang", map[string]any{"action": "next"})
	srv.stage(t, "liang", map[string]any{"action": "open"})

	control := chrome.tab(t, "control", 1366, 900, false)
	control.open(srv.base + "/e/liang/control#key=" + btHostKey)
	control.wait("the seats card", `!document.querySelector('[data-seats-card]').hidden && document.querySelectorAll('[data-seats-list] li').length === 5`)
	screen := chrome.tab(t, "screen", 1920, 1080, false)
	screen.open(srv.screenURL("liang"))
	screen.wait("the live screen", `document.body.dataset.screenMode === "live"`)

	// Seats 1–4 are claimed by their judges' phones and score; seat 5's
	// judge never does. The audience scores too.
	cast := func(voter, panel string, score float64) {
		cred := srv.m.Credentials.For(voter)
		srv.api(t, "POST", "/events/liang/ballots", map[string]any{
			"id": uuid.NewString(), "credential": cred, "contestant": "c1", "panel": panel, "score": score}, nil)
	}
	for seat, score := range map[int]float64{1: 88, 2: 92.5, 3: 90, 4: 85} {
		voter := "judge-" + string(rune('0'+seat))
		srv.api(t, "POST", "/events/liang/tickets/"+codes[seat]+"/claim?credential="+url.QueryEscape(srv.m.Credentials.For(voter)), nil, nil)
		cast(voter, "judges", score)
	}
	cast("aud-1", "audience", 80)
	cast("aud-2", "audience", 84)
	control.wait("four seats scored, one not", `document.querySelectorAll('.seat-row.seat-scored').length === 4 &&
		document.querySelectorAll('.seat-row.seat-free').length === 1`)
	if btEval[bool](screen, `!document.querySelector('[data-spotlight]').hidden || document.body.textContent.includes('92.5')`) {
		t.Fatal("the screen shows seat scores while voting is open")
	}

	// The host closes voting: 亮分.
	control.do(chromedp.Click(chromedp.CSS(`[data-cmd="toggle-voting"]`)))
	screen.wait("the spotlight with five seats", `!document.querySelector('[data-spotlight]').hidden && document.querySelectorAll('[data-spotlight] .seat').length === 5`)
	screen.wait("animations to settle", btSettled)
	got := btEval[map[string]string](screen, `(() => {
		const q = (s) => document.querySelector('[data-spotlight] ' + s);
		const seat = (n) => q('[data-seat="' + n + '"]');
		return {
			s2: seat(2).querySelector('.seat-score').textContent, d2: seat(2).dataset.dropped || "",
			d4: seat(4).dataset.dropped || "", s5: seat(5).querySelector('.seat-score').textContent,
			n5: seat(5).querySelector('.seat-note').textContent, d1: seat(1).dataset.dropped || "",
			judges: q('[data-result="judges"] .sr-value').textContent, audience: q('[data-result="audience"] .sr-rule').textContent,
			avg: q('[data-result="audience"] .sr-value').textContent, final: q('[data-final] .sf-value').textContent,
		};
	})()`)
	want := map[string]string{"s2": "92.5", "d2": "high", "d4": "low", "s5": "—", "n5": "未评分", "d1": "",
		"judges": "89.0000", "audience": "去掉最高分和最低分后平均 · 2 票", "avg": "82.0000", "final": "84.80"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("spotlight %s = %q, want %q", k, got[k], v)
		}
	}
	dir := os.Getenv("LEITAI_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	shoot := func(tb *btTab, name string) {
		t.Helper()
		tb.wait("animations to settle", btSettled)
		ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
		defer cancel()
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("%s: screenshot: %v", tb.name, err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fits := `(() => { const out = []; document.querySelectorAll('[data-spotlight] .seat, [data-spotlight] .spot-result, [data-final]').forEach(el => {
		const r = el.getBoundingClientRect(); if (r.bottom > innerHeight + .5 || r.right > innerWidth + .5) out.push(el.className); }); return out.join(", "); })()`
	shoot(screen, "spotlight-1920x1080.png")
	if p := btEval[string](screen, fits); p != "" {
		t.Errorf("at 1920×1080 these leave the window: %s", p)
	}
	screen.viewport(1024, 768, false)
	shoot(screen, "spotlight-1024x768.png")
	if p := btEval[string](screen, fits); p != "" {
		t.Errorf("at 1024×768 these leave the window: %s", p)
	}
	shoot(control, "spotlight-control.png")
	screen.check()
	control.check()

	// The host ends the 亮分 (or skips it): the screen goes back.
	control.wait("the 亮分 button", `document.querySelector('[data-cmd="spotlight"]').textContent === "结束亮分"`)
	control.do(chromedp.Click(chromedp.CSS(`[data-cmd="spotlight"]`)))
	screen.wait("the spotlight gone", `document.querySelector('[data-spotlight]').hidden`)
	if st := srv.stage(t, "liang", map[string]any{"action": "spotlight"}); st.Spotlight != "c1" {
		t.Fatalf("亮分 again: spotlight %q", st.Spotlight)
	}
	_ = voting.ActionSpotlight
}
