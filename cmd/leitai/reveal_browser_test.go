package main

// The final reveal in Chromium: the example event with a tie at a podium
// place and ten units without ballots, step by step on the projector (at
// 1920×1080 and 1024×768) and on a phone; the podium of a 1, 1, 3 finish;
// the host's confirmation before an early reveal and before publishing
// during it; and the screen readable from the hall.

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"leitai/voting"
)

// btStartExample starts the server with the example event (16 units).
func btStartExample(t *testing.T) *btServer {
	t.Helper()
	m := NewMain(Config{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), HostKey: btHostKey, PublicURL: "http://192.168.1.20:8080",
		StandingsInterval: 50 * time.Millisecond, LogFormat: "text", LogLevel: "warn",
		EventFiles: []string{"../../examples/gongshu-2020.yaml"},
	}, io.Discard, io.Discard)
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return &btServer{m: m, base: "http://" + m.Addr}
}

// btScore puts a contestant on stage and gives it three audience ballots
// whose trimmed average (and final) is score.
func btScore(t *testing.T, srv *btServer, event, contestant string, score float64) {
	t.Helper()
	srv.stage(t, event, map[string]any{"action": "jump", "contestant": contestant})
	srv.stage(t, event, map[string]any{"action": "open"})
	for i, s := range []float64{score - 1, score, score + 1} {
		srv.api(t, "POST", "/events/"+event+"/ballots", map[string]any{
			"id": uuid.NewString(), "credential": srv.m.Credentials.For(fmt.Sprintf("phone-%d", i)), "contestant": contestant, "score": s}, nil)
	}
	srv.stage(t, event, map[string]any{"action": "close"})
}

// jsRevealShown lists what the screen shows as revealed, one entry per
// named contestant: "place id name label score", where label is the place
// number in the list and the medal and title on the podium (the score once
// it has counted up).
const jsRevealShown = `(() => {
	const out = [];
	document.querySelectorAll('[data-podium] .step.revealed').forEach(st => st.querySelectorAll('.podium-who').forEach(w =>
		out.push(st.dataset.place + " " + w.dataset.id + " " + w.querySelector('.name').textContent + " " +
			st.querySelector('.medal').textContent + st.querySelector('.step-title').textContent + " " + w.querySelector('.score').textContent)));
	document.querySelectorAll('[data-reveal-list] .rrow.revealed').forEach(li =>
		out.push(li.querySelector('.rank').textContent + " " + li.dataset.id + " " + li.querySelector('.name').textContent + " " +
			li.querySelector('.rank').textContent + " " + li.querySelector('.score').textContent));
	return out.sort().join("|");
})()`

// jsRevealHidden says what is still hidden on the screen: the podium's
// places without a name and the number of "?" rows in the list.
const jsRevealHidden = `(() => Array.from(document.querySelectorAll('[data-podium] .step:not(.revealed)')).map(s => s.dataset.place).sort().join(",") +
	" list " + document.querySelectorAll('[data-reveal-list] .rrow.slot').length)()`

// jsSmallText lists the visible text on the screen smaller than 28 px,
// except the operator's hints.
const jsSmallText = `(() => {
	const out = [];
	const w = document.createTreeWalker(document.querySelector(".app"), NodeFilter.SHOW_TEXT);
	for (let n = w.nextNode(); n; n = w.nextNode()) {
		const el = n.parentElement;
		if (!n.textContent.trim() || el.closest(".operator")) continue;
		const r = el.getBoundingClientRect();
		if (!r.width || !r.height || !el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
		const px = parseFloat(getComputedStyle(el).fontSize);
		if (px < 28) out.push(el.className + " " + JSON.stringify(n.textContent.trim().slice(0, 20)) + " " + px.toFixed(1) + "px");
	}
	return out.join("; ");
})()`

// jsLinkBreaks checks the vote link under the QR code: it reads as the
// link without its scheme, with the hall code, and breaks only after a
// slash or before the "?" of the code (no part spans two lines).
const jsLinkBreaks = `(() => {
	const out = [];
	document.querySelectorAll("[data-short-link]").forEach(el => {
		if (!el.getClientRects().length) return;
		const link = document.body.dataset.voteUrl.replace(/^https?:\/\//, "");
		if (!new RegExp("^" + link.replace(/[.]/g, "\\.") + "\\?j=[0-9a-z]{6}$").test(el.textContent)) out.push("reads " + el.textContent);
		el.querySelectorAll(".seg").forEach(s => {
			const r = document.createRange();
			r.selectNodeContents(s);
			const tops = new Set(Array.from(r.getClientRects()).map(q => Math.round(q.top)));
			if (tops.size > 1) out.push(JSON.stringify(s.textContent) + " breaks over " + tops.size + " lines");
		});
	});
	return out.join("; ");
})()`

// zero is a score or place of 0 standing alone (not the end of 90.00).
var zero = regexp.MustCompile(`(^|[^0-9.])0(\.00)?($|[^0-9.])`)

// TestBrowserRevealTies runs the example event with 区发改经信局 and 祥符街道
// tied at 90.00 for place 3 (so no place 4) and ten units without ballots,
// through every reveal step on two screens and a phone: each step shows
// one place more, the tie as one step under one number, the podium two
// 季军 side by side, never a unit without ballots and never a 0.
func TestBrowserRevealTies(t *testing.T) {
	t.Parallel()
	chrome := btStartChrome(t)
	srv := btStartExample(t)
	const ev = "gongshu-2020"
	dir := os.Getenv("LEITAI_SCREENSHOTS")
	shoot := func(tb *btTab, name string) {
		t.Helper()
		if dir == "" {
			return
		}
		tb.wait("animations to settle", btSettled)
		png, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
		if err == nil {
			err = os.MkdirAll(dir, 0o755)
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name), png, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	readable := func(tb *btTab, what string) {
		t.Helper()
		if small := btEval[string](tb, jsSmallText); small != "" {
			t.Errorf("%s, %s: text under 28 px at 1920×1080: %s", tb.name, what, small)
		}
	}

	host := chrome.tab(t, "control", 1440, 900, false)
	host.open(srv.base + "/e/" + ev + "/control#key=" + btHostKey)
	host.wait("the control page", `!document.querySelector('[data-view="run"]').hidden && document.querySelectorAll('[data-standings-body] tr').length === 16`)
	// Before any ballot there is nothing to reveal.
	host.wait("the reveal button disabled", `document.querySelector('[data-cmd="reveal"]').disabled`)

	var event voting.Event
	srv.api(t, "GET", "/events/"+ev, nil, &event)
	names := map[string]string{}
	for _, c := range event.Contestants {
		names[c.ID] = c.Name
	}
	for _, s := range []struct {
		id    string
		score float64
	}{{"u02", 95}, {"u06", 92.5}, {"u01", 90}, {"u07", 90}, {"u03", 88}, {"u04", 85.5}} {
		btScore(t, srv, ev, s.id, s.score)
	}
	sd := srv.standings(t, ev)
	var ranked []string
	for _, r := range sd.Rows {
		ranked = append(ranked, fmt.Sprintf("%s:%d", r.Contestant, r.Rank))
	}
	if got := strings.Join(ranked[:6], " "); got != "u02:1 u06:2 u01:3 u07:3 u03:5 u04:6" || sd.Rows[6].Rank != 0 {
		t.Fatalf("standings %v", ranked)
	}
	steps := voting.RevealSteps(&sd)
	var unscored []string
	for _, r := range sd.Rows[6:] {
		unscored = append(unscored, names[r.Contestant])
	}

	screen := chrome.tab(t, "screen", 1920, 1080, false)
	screen.open(srv.screenURL(ev))
	small := chrome.tab(t, "screen-4:3", 1024, 768, false)
	small.open(srv.screenURL(ev))
	phone := chrome.tab(t, "phone", 390, 844, true)
	phone.open(srv.voteURL(t, ev))

	// Voting open for 祥符街道 again: the live screen, readable from the
	// hall, units without ballots apart and without a place or a 0.
	srv.stage(t, ev, map[string]any{"action": "jump", "contestant": "u07"})
	srv.stage(t, ev, map[string]any{"action": "open"})
	srv.stage(t, ev, map[string]any{"action": "countdown", "seconds": 90})
	screen.wait("the live ranking", `!document.querySelector('[data-mode="live"]').hidden && document.querySelectorAll('[data-board="*"] > li').length === 16 &&
		document.querySelector('[data-board="*"] > li:first-child .score').textContent === "95.00" && !document.querySelector('[data-clock]').hidden`)
	screen.do(chromedp.KeyEvent("1"))
	screen.wait("the overall board", `!document.querySelector('[data-board="*"]').hidden`)
	if got := btEval[string](screen, `Array.from(document.querySelectorAll('[data-board="*"] > li.unranked')).map(li =>
		li.querySelector('.rank').textContent + "|" + li.querySelector('.score').textContent).join(" ")`); got != strings.TrimSpace(strings.Repeat("|未评分 ", 10)) {
		t.Errorf("the units without ballots on the live screen: %q", got)
	}
	readable(screen, "live")
	if bad := btEval[string](screen, jsLinkBreaks); bad != "" {
		t.Errorf("the vote link under the QR code: %s", bad)
	}
	if n := btEval[int](screen, `document.querySelectorAll("main").length + (document.querySelector("main .mode[data-mode=live]") ? 10 : 0)`); n != 11 {
		t.Errorf("the screen needs one main landmark around its content (%d)", n)
	}
	shoot(screen, "reveal-0-live-1920x1080.png")

	// The reveal button is not the host's next step while voting runs:
	// plain, and asking first, with the number of units without ballots.
	host.wait("voting open on the control page", `document.querySelector('[data-phase]').classList.contains("phase-voting")`)
	if cls := btEval[string](host, `document.querySelector('[data-cmd="reveal"]').className`); strings.Contains(cls, "gold") {
		t.Errorf("the reveal button is prominent while voting is open: %q", cls)
	}
	host.do(chromedp.Click(chromedp.CSS(`[data-cmd="reveal"]`)))
	host.wait("the question", `document.querySelector('[data-confirm]').open`)
	question := host.text(`[data-confirm-text]`)
	for _, want := range []string{"10 个参赛单位没有选票", "投票仍在进行中"} {
		if !strings.Contains(question, want) {
			t.Errorf("the question before an early reveal %q does not say %q", question, want)
		}
	}
	host.do(chromedp.Click(chromedp.CSS(`[data-confirm] button[value="cancel"]`)))
	host.wait("the question to close", `!document.querySelector('[data-confirm]').open`)
	var st voting.Stage
	srv.api(t, "GET", "/events/"+ev+"/stage", nil, &st)
	if st.Phase != voting.PhaseVoting {
		t.Fatalf("cancelling the question changed the stage: %+v", st)
	}
	// R asks too; this time the host confirms.
	host.do(chromedp.KeyEvent("r"))
	host.wait("the question again", `document.querySelector('[data-confirm]').open`)
	// Pressed from script: a click at the button's coordinates could land
	// while the modal is still being laid out and leave it open.
	host.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-confirm-ok]').click()`))
	host.wait("the question answered", `!document.querySelector('[data-confirm]').open`)

	for k := 1; k <= steps; k++ {
		if k > 1 {
			host.wait("the next step ready", `!document.querySelector('[data-cmd="reveal"]').disabled && !document.querySelector('[data-confirm]').open`)
			host.do(chromedp.Click(chromedp.CSS(`[data-cmd="reveal"]`)))
		}
		host.wait(fmt.Sprintf("step %d on the control page", k), fmt.Sprintf(`document.querySelector('[data-revealed]').textContent.indexOf("已揭晓 %d / %d") === 0`, k, steps))
		rows := voting.RevealedRows(&sd, k)
		var want, phoneWant []string
		hidden := 6 - len(rows)
		for _, r := range rows {
			label := fmt.Sprint(r.Rank)
			if r.Rank <= 3 {
				label += []string{"冠军", "亚军", "季军"}[r.Rank-1]
			}
			want = append(want, fmt.Sprintf("%d %s %s %s %.2f", r.Rank, r.Contestant, names[r.Contestant], label, r.Final))
			phoneWant = append(phoneWant, fmt.Sprintf("%d %s %.2f", r.Rank, names[r.Contestant], r.Final))
		}
		sort.Strings(want)
		var hiddenPlaces []string
		for p := 1; p <= min(3, hidden); p++ {
			hiddenPlaces = append(hiddenPlaces, fmt.Sprint(p))
		}
		wantHidden := strings.Join(hiddenPlaces, ",") + fmt.Sprintf(" list %d", max(0, hidden-3))
		for _, sc := range []*btTab{screen, small} {
			sc.wait(fmt.Sprintf("step %d: %s", k, strings.Join(want, "|")), `!document.querySelector('[data-mode="reveal"]').hidden && `+jsRevealShown+` === `+jsq(strings.Join(want, "|")))
			if got := btEval[string](sc, jsRevealHidden); got != wantHidden {
				t.Errorf("%s, step %d: still hidden %q, want %q", sc.name, k, got, wantHidden)
			}
			text := btEval[string](sc, `document.querySelector('[data-mode="reveal"]').innerText`)
			for _, name := range unscored {
				if strings.Contains(text, name) {
					t.Errorf("%s, step %d: %s has no ballots but is on the reveal", sc.name, k, name)
				}
			}
			if zero.MatchString(text) {
				t.Errorf("%s, step %d: a 0.00 on the reveal", sc.name, k)
			}
		}
		phone.wait(fmt.Sprintf("the phone at step %d", k), `Array.from(document.querySelectorAll('[data-ranking-list] li')).map(li =>
			li.querySelector('.rk-rank').textContent + " " + li.querySelector('.rk-name').textContent + " " + li.querySelector('.rk-score').textContent).join("|") === `+jsq(strings.Join(phoneWant, "|")))
		readable(screen, fmt.Sprintf("reveal step %d", k))
		if note := screen.text(`[data-reveal-note]`); !strings.Contains(note, "10 个参赛单位未评分") {
			t.Errorf("step %d: the screen's note on units without ballots reads %q", k, note)
		}
		shoot(screen, fmt.Sprintf("reveal-%d-1920x1080.png", k))
		shoot(small, fmt.Sprintf("reveal-%d-1024x768.png", k))
		shoot(phone, fmt.Sprintf("reveal-%d-390x844.png", k))
		if k == 3 {
			shoot(host, "reveal-3-control-1440x900.png")
		}

		if k == 2 {
			// Publishing now would show the order early: the page says so
			// and asks; cancelled, nothing is published.
			host.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-published-btn]').click()`))
			host.wait("the publish question", `document.querySelector('[data-confirm]').open && document.querySelector('[data-confirm-text]').textContent.indexOf("揭晓") >= 0`)
			host.do(chromedp.Click(chromedp.CSS(`[data-confirm] button[value="cancel"]`)))
			host.wait("the question to close", `!document.querySelector('[data-confirm]').open`)
			var got voting.Event
			srv.api(t, "GET", "/events/"+ev, nil, &got)
			if got.Published {
				t.Fatal("a cancelled publish during the reveal published the results")
			}
		}
	}
	// The podium: 冠军, 亚军 and two 季军 side by side, no place 4.
	if got := btEval[string](screen, `Array.from(document.querySelectorAll('[data-podium] .step')).map(s => s.dataset.place + ":" + s.querySelectorAll('.podium-who').length).join(" ")`); got != "2:1 1:1 3:2" {
		t.Errorf("the podium's places (left to right, place:units) %q, want 2:1 1:1 3:2", got)
	}
	if got := btEval[string](screen, `(() => { const w = document.querySelectorAll('[data-podium] .step.p3 .podium-who'); const a = w[0].getBoundingClientRect(), b = w[1].getBoundingClientRect(); return Math.abs(a.top - b.top) < 2 && b.left >= a.right ? "" : JSON.stringify([a, b]); })()`); got != "" {
		t.Errorf("the two 季军 are not side by side: %s", got)
	}
	host.wait("the reveal done", `document.querySelector('[data-cmd="reveal"]').disabled`)
	// Now publishing asks nothing.
	host.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-published-btn]').click()`))
	host.wait("published", `document.querySelector('[data-published-btn]').textContent === "取消公开"`)
	for _, tb := range []*btTab{host, screen, small, phone} {
		tb.check()
	}
}

// TestBrowserRevealSharedWin: with two units tied for the win and one
// behind (places 1, 1, 3) the podium shows two 冠军 and a 季军, no 亚军;
// publishing while the winners are hidden asks, and the host may confirm.
func TestBrowserRevealSharedWin(t *testing.T) {
	t.Parallel()
	chrome := btStartChrome(t)
	srv := btStartServer(t, "http://192.168.1.20:8080")
	srv.api(t, "POST", "/events", map[string]any{
		"id": "win", "title": "并列冠军",
		"contestants": []map[string]string{{"id": "a", "name": "区商务局"}, {"id": "b", "name": "拱宸桥街道"}, {"id": "c", "name": "区科技园区管委会"}, {"id": "d", "name": "和睦街道"}},
		"rules":       map[string]any{"min": 60, "max": 100, "step": 0.5, "trim": 1, "decimals": 2},
	}, nil)
	btScore(t, srv, "win", "a", 91)
	btScore(t, srv, "win", "b", 91)
	btScore(t, srv, "win", "c", 87.5)
	screen := chrome.tab(t, "screen", 1920, 1080, false)
	screen.open(srv.screenURL("win"))
	host := chrome.tab(t, "control", 1440, 900, false)
	host.open(srv.base + "/e/win/control#key=" + btHostKey)
	host.wait("the control page", `!document.querySelector('[data-view="run"]').hidden && document.querySelectorAll('[data-standings-body] tr').length === 4`)
	srv.stage(t, "win", map[string]any{"action": "reveal"})
	screen.wait("the 季军", `document.querySelector('[data-podium] .step.p3.revealed .podium-who[data-id="c"]')`)
	if got := btEval[string](screen, jsRevealHidden); got != "1,2 list 0" {
		t.Errorf("before the winners: hidden %q", got)
	}
	// Publishing now asks; confirmed, it publishes.
	host.wait("the reveal on the control page", `document.querySelector('[data-revealed]').textContent.indexOf("已揭晓 1 / 2") === 0`)
	host.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-published-btn]').click()`))
	host.wait("the publish question", `document.querySelector('[data-confirm]').open`)
	host.do(chromedp.Click(chromedp.CSS(`[data-confirm-ok]`)))
	host.wait("published", `document.querySelector('[data-published-btn]').textContent === "取消公开"`)

	srv.stage(t, "win", map[string]any{"action": "reveal"})
	want := "1 a 区商务局 1冠军 91.00|1 b 拱宸桥街道 1冠军 91.00|3 c 区科技园区管委会 3季军 87.50"
	screen.wait("two winners and a third", jsRevealShown+` === `+jsq(want))
	if got := btEval[string](screen, `Array.from(document.querySelectorAll('[data-podium] .step')).map(s => s.dataset.place + ":" + s.querySelectorAll('.podium-who').length).join(" ")`); got != "1:2 3:1" {
		t.Errorf("the podium's places %q, want 1:2 3:1 (no 亚军)", got)
	}
	if got := screen.text(`[data-reveal-note]`); !strings.Contains(got, "1 个参赛单位未评分") {
		t.Errorf("the note on the unit without ballots: %q", got)
	}
	if dir := os.Getenv("LEITAI_SCREENSHOTS"); dir != "" {
		screen.wait("animations to settle", btSettled)
		png, err := chromedp.Run(screen.ctx, chromedp.CaptureScreenshot())
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "reveal-shared-win-1920x1080.png"), png, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	screen.check()
	host.check()
}
