package main

// Browser tests of the presentation: the unit's theme on the screen and
// the phones, the presentation timer through its last minute into overtime
// and across a reload of the screen, the leader's comment on the results
// page and in the Excel export, and the phone's score input (a typed
// score, the counted score after the close, the slider before a choice,
// the button's label).

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"leitai/voting"
)

// presentShots returns where screenshots go and a function that takes one.
func presentShots(t *testing.T) func(tb *btTab, name string) {
	dir := os.Getenv("LEITAI_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return func(tb *btTab, name string) {
		t.Helper()
		tb.wait("animations to settle", btSettled)
		ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
		defer cancel()
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("%s: screenshot: %v", tb.name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// presentFits fails the test when the page scrolls sideways, or (whole)
// scrolls at all or puts a panel, a row or the stage card outside the
// window.
func presentFits(t *testing.T, tb *btTab, whole bool) {
	t.Helper()
	tb.wait("animations to settle", btSettled)
	problem := btEval[string](tb, `(() => {
		const d = document.documentElement, out = [];
		if (d.scrollWidth > innerWidth) out.push("scrollWidth " + d.scrollWidth);
		if (`+fmt.Sprint(whole)+`) {
			if (d.scrollHeight > innerHeight) out.push("scrollHeight " + d.scrollHeight);
			document.querySelectorAll(".board:not([hidden]) > li, .panel, .stage-card, .sc-timer").forEach(el => {
				const r = el.getBoundingClientRect();
				if (r.width && (r.bottom > innerHeight + 0.5 || r.right > innerWidth + 0.5)) out.push(el.className + " ends at " + Math.round(r.right) + "," + Math.round(r.bottom));
			});
		}
		const card = document.querySelector(".stage-card:not([hidden])");
		if (card) {
			const c = card.getBoundingClientRect();
			card.querySelectorAll(".sc-label, .sc-theme, .sc-presenter, .sc-timer").forEach(el => {
				const r = el.getBoundingClientRect();
				if (r.width && (r.left < c.left - 0.5 || r.right > c.right + 0.5 || r.top < c.top - 0.5 || r.bottom > c.bottom + 0.5)) out.push(el.className + " outside the stage card");
			});
		}
		return out.join("; ");
	})()`)
	if problem != "" {
		t.Errorf("%s overflows its %s window: %s", tb.name, btEval[string](tb, `innerWidth + "×" + innerHeight`), problem)
	}
}

// presentExample creates the example event (16 units with their themes)
// through the API and gives the first unit a presenter.
func presentExample(t *testing.T, srv *btServer) voting.Event {
	t.Helper()
	data, err := os.ReadFile("../../examples/gongshu-2020.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := ParseEventFile(data)
	if err != nil {
		t.Fatal(err)
	}
	ev.Contestants[0].Presenter = "张三"
	ev.Series, ev.Round = "", 0 // the season is not what these tests are about
	var created voting.Event
	srv.api(t, "POST", "/events", ev, &created)
	return created
}

// TestBrowserPresentation: the screen shows the unit's theme large and the
// presentation timer, which the host sets to a custom time on the control
// page, turns amber in the last minute and red, counting up, in overtime,
// also after a reload; the phone shows the theme under the unit's name.
func TestBrowserPresentation(t *testing.T) {
	t.Parallel()
	shoot := presentShots(t)
	chrome := btStartChrome(t)
	srv := btStartServer(t, "http://192.168.1.20:8080")
	ev := presentExample(t, srv)
	id := ev.ID

	host := chrome.tab(t, "control", 1366, 768, false)
	host.open(srv.base + "/e/" + id + "/control#key=" + btHostKey)
	host.wait("the control page", `!document.querySelector('[data-view="run"]').hidden && !document.querySelector('[data-cmd="next"]').disabled`)
	screen := chrome.tab(t, "screen", 1920, 1080, false)
	screen.open(srv.screenURL(id))
	screen.wait("the lobby", `!document.querySelector('[data-mode="lobby"]').hidden`)
	phone := chrome.tab(t, "phone", 390, 844, true)
	phone.open(srv.voteURL(t, id))
	phone.wait("the vote page", `!document.querySelector('[data-view="event"]').hidden`)

	// The first unit comes on stage: its theme and presenter on the screen,
	// the timer ready at the event's 5 minutes.
	host.do(chromedp.Click(chromedp.CSS(`[data-cmd="next"]`)))
	first := ev.Contestants[0]
	screen.wait("the stage card", `!document.querySelector('[data-stage-card]').hidden && document.querySelector('[data-sc-theme]').textContent === `+jsq(first.Theme))
	if got := screen.text(`[data-sc-presenter]`); got != "汇报人：张三" {
		t.Errorf("the screen's presenter line reads %q", got)
	}
	screen.wait("the timer, ready", `document.querySelector('[data-timer]').classList.contains("state-ready") && document.querySelector('[data-timer-clock]').textContent === "5:00"`)
	phone.wait("the theme on the phone", `!document.querySelector('[data-stage-theme]').hidden && document.querySelector('[data-stage-theme]').textContent === `+jsq(first.Theme))
	if meta := phone.text(`[data-stage-meta]`); !strings.Contains(meta, "汇报人：张三") {
		t.Errorf("the phone's stage line %q does not name the presenter", meta)
	}
	presentFits(t, screen, true)
	shoot(screen, "present-screen-ready-1920x1080.png")
	presentFits(t, phone, false)
	shoot(phone, "present-vote-theme-390x844.png")
	host.wait("the control page's timer", `document.querySelector('[data-timer-clock]').textContent === "5:00"`)
	shoot(host, "present-control-1366x768.png")

	// The host gives this unit 1:01 and starts: the screen counts down
	// and turns amber when a minute is left.
	host.do(
		chromedp.SetValue(chromedp.CSS(`[data-timer-input]`), "1:01"),
		chromedp.Click(chromedp.CSS(`[data-cmd="timer-set"]`)),
	)
	screen.wait("the timer set to 1:01", `document.querySelector('[data-timer-clock]').textContent === "1:01"`)
	host.wait("the start button", `!document.querySelector('[data-cmd="timer-toggle"]').disabled`)
	host.do(chromedp.Click(chromedp.CSS(`[data-cmd="timer-toggle"]`)))
	screen.wait("the last minute", `document.querySelector('[data-timer]').classList.contains("state-warn") && document.querySelector('[data-timer-label]').textContent === "最后一分钟"`)
	if color := btEval[string](screen, `getComputedStyle(document.querySelector('[data-timer-clock]')).color`); color != "rgb(255, 201, 74)" {
		t.Errorf("the last minute is drawn in %s, want amber", color)
	}
	shoot(screen, "present-screen-warn-1920x1080.png")

	// Two seconds in all: overtime, counting up in red.
	host.do(
		chromedp.SetValue(chromedp.CSS(`[data-timer-input]`), "0:02"),
		chromedp.Click(chromedp.CSS(`[data-cmd="timer-set"]`)),
	)
	overtime := `document.querySelector('[data-timer]').classList.contains("state-over") && document.querySelector('[data-timer-label]').textContent === "已超时" && /^\+\d+:\d\d$/.test(document.querySelector('[data-timer-clock]').textContent)`
	screen.wait("overtime", overtime)
	if color := btEval[string](screen, `getComputedStyle(document.querySelector('[data-timer-clock]')).color`); color != "rgb(255, 107, 125)" {
		t.Errorf("overtime is drawn in %s, want red", color)
	}
	host.wait("overtime on the control page", `document.querySelector('[data-timer-clock]').classList.contains("state-over")`)
	shoot(screen, "present-screen-over-1920x1080.png")

	// The timer is stage state: a reloaded screen shows the same, still
	// counting up.
	screen.open(srv.screenURL(id))
	screen.wait("overtime after a reload", overtime)
	shown := screen.text(`[data-timer-clock]`)
	screen.wait("the overtime counting on", `document.querySelector('[data-timer-clock]').textContent !== `+jsq(shown))
	if st := srv.stageOf(t, id); st.Phase != voting.PhasePresenting || !st.Timer.Running() {
		t.Errorf("the stage in overtime: %+v", st)
	}
	screen.viewport(1024, 768, false)
	screen.wait("the layout", `innerWidth === 1024`)
	presentFits(t, screen, true)
	shoot(screen, "present-screen-over-1024x768.png")
	screen.viewport(1920, 1080, false)

	// Opening voting ends the presentation: the timer pauses and leaves
	// the screen; the theme stays while the unit is on stage.
	host.do(chromedp.Click(chromedp.CSS(`[data-cmd="toggle-voting"]`)))
	screen.wait("voting with the theme, without the timer", `document.querySelector('[data-status]').classList.contains("is-open") && !document.querySelector('[data-stage-card]').hidden && document.querySelector('[data-timer]').hidden`)
	presentFits(t, screen, true)
	shoot(screen, "present-screen-voting-1920x1080.png")

	// A unit without a theme: the card names the unit while the timer shows.
	srv.api(t, "PUT", "/events/"+id, func() voting.Event {
		var cur voting.Event
		srv.api(t, "GET", "/events/"+id, nil, &cur)
		cur.Contestants[1].Theme = ""
		return cur
	}(), nil)
	host.do(chromedp.Click(chromedp.CSS(`[data-cmd="next"]`)))
	host.wait("the confirmation or the next unit", `document.querySelector('[data-confirm]').open || document.querySelector('[data-stage-name]').textContent === `+jsq(ev.Contestants[1].Name))
	if btEval[bool](host, `document.querySelector('[data-confirm]').open`) {
		host.do(chromedp.Click(chromedp.CSS(`[data-confirm-ok]`)))
	}
	screen.wait("the second unit's card", `document.querySelector('[data-sc-theme]').textContent === `+jsq(ev.Contestants[1].Name)+` && document.querySelector('[data-sc-label]').textContent === "正在台上" && !document.querySelector('[data-timer]').hidden`)
	phone.wait("no theme on the phone", `document.querySelector('[data-stage-theme]').hidden`)

	for _, tb := range []*btTab{host, screen, phone} {
		tb.check()
	}
}

// stageOf reads an event's stage.
func (s *btServer) stageOf(t *testing.T, event string) voting.Stage {
	t.Helper()
	var st voting.Stage
	s.api(t, "GET", "/events/"+event+"/stage", nil, &st)
	return st
}

// TestBrowserPhoneScore: a phone types its score on the keypad, checked as
// it is typed; the slider is empty until a score is chosen; the button
// says "change" only once a ballot counted; after the close the phone
// shows the counted score, not one chosen and never sent.
func TestBrowserPhoneScore(t *testing.T) {
	t.Parallel()
	shoot := presentShots(t)
	chrome := btStartChrome(t)
	srv := btStartServer(t, "")
	ev := presentExample(t, srv)
	id := ev.ID
	u := ev.Contestants[0].ID
	srv.stage(t, id, map[string]any{"action": "next"})
	srv.stage(t, id, map[string]any{"action": "open"})

	phone := chrome.tab(t, "phone", 390, 844, true)
	phone.open(srv.voteURL(t, id))
	card := `[data-ballot="` + u + `"]`
	phone.wait("the ballot", `(() => { const v = document.querySelector('`+card+` .fine-value'); return v && !v.disabled; })()`)

	// Nothing chosen: the number asks for a score and the slider is empty.
	if got := btEval[string](phone, `(() => { const r = document.querySelector('`+card+` .fine-range'); return r.value + " " + r.classList.contains("unset") + " " + document.querySelector('`+card+` .fine-value').placeholder; })()`); got != "60 true 请选择或输入分数" {
		t.Errorf("the slider before a choice: %q, want it at the lowest, unset", got)
	}
	shoot(phone, "present-vote-unset-390x844.png")

	// Typing: checked against the scale as it is typed.
	value := card + ` .fine-value`
	submit := `[data-submit="` + u + `"]`
	typed := func(text, wantNote string, wantOK bool) {
		t.Helper()
		phone.do(chromedp.Tap(chromedp.CSS(value)))
		phone.wait("the number focused", `document.activeElement === document.querySelector('`+value+`')`)
		phone.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('`+value+`').select()`), chromedp.SendKeys(chromedp.CSS(value), text))
		phone.wait(fmt.Sprintf("%q checked", text), fmt.Sprintf(`document.querySelector('%s .fine-note').textContent === %s && document.querySelector('%s').disabled === %v`,
			card, jsq(wantNote), submit, !wantOK))
	}
	typed("101", "最高 100 分", false)
	typed("92.3", "分数须按 0.5 分一档", false)
	typed("abc", "请输入数字", false)
	typed("9", "输入 60–100 分，每档 0.5 分", false) // more digits may follow
	typed("92", "", true)
	if got := phone.text(submit); got != "提交 92 分" {
		t.Errorf("the button reads %q before anything counted", got)
	}
	if got := btEval[string](phone, `document.querySelector('`+card+` .fine-range').value`); got != "92" {
		t.Errorf("the slider follows the typed score to %q", got)
	}
	shoot(phone, "present-vote-typing-390x844.png")
	phone.do(chromedp.Tap(chromedp.CSS(submit)))
	phone.wait("92 counted", `document.querySelector('[data-receipt="`+u+`"]').classList.contains("ok") && document.querySelector('[data-receipt="`+u+`"]').textContent.indexOf("已计分：92 分") >= 0`)
	if row := btRow(t, srv.standings(t, id), u); row.Ballots != 1 || row.Final != 92 {
		t.Errorf("the server counted %+v", row)
	}
	if got := btEval[string](phone, `document.querySelector('`+value+`').value`); got != "92.0" {
		t.Errorf("the number after the ballot counted reads %q", got)
	}

	// A score chosen and not sent when voting closes is dropped: the phone
	// shows the counted one.
	phone.do(chromedp.Tap(chromedp.CSS(card + ` [data-pick="80"]`)))
	phone.wait("80 chosen", `document.querySelector('`+value+`').value === "80.0" && document.querySelector('`+submit+`').textContent === "改为 80 分"`)
	srv.stage(t, id, map[string]any{"action": "close"})
	phone.wait("the counted score only", `document.querySelector('`+value+`').value === "92.0" && document.querySelector('`+value+`').disabled`)
	if got := phone.text(`[data-receipt="` + u + `"]`); !strings.Contains(got, "已计分：92 分") {
		t.Errorf("the receipt after the close reads %q", got)
	}
	if n := btEval[int](phone, `document.querySelectorAll('`+card+` [data-pick][aria-pressed="true"]').length`); n != 0 {
		t.Errorf("%d quick picks still pressed after the close", n)
	}
	shoot(phone, "present-vote-closed-390x844.png")

	// A first ballot still on its way is no change: the button says
	// "submit" for another score until one counted.
	next := ev.Contestants[1].ID
	srv.stage(t, id, map[string]any{"action": "next"})
	srv.stage(t, id, map[string]any{"action": "open"})
	card = `[data-ballot="` + next + `"]`
	submit = `[data-submit="` + next + `"]`
	phone.wait("the next ballot", `(() => { const b = document.querySelector('`+card+` [data-pick="90"]'); return b && !b.disabled; })()`)
	phone.do(chromedp.Evaluate[chromedp.Void](`window.__leitai.conn.stop()`))
	phone.do(chromedp.Tap(chromedp.CSS(card+` [data-pick="90"]`)), chromedp.Tap(chromedp.CSS(submit)))
	phone.wait("90 waiting", `window.__leitai.pending() === 1`)
	phone.do(chromedp.Tap(chromedp.CSS(card + ` [data-pick="95"]`)))
	phone.wait("95 chosen", `document.querySelector('`+card+` .fine-value').value === "95.0"`)
	if got := phone.text(submit); got != "提交 95 分" {
		t.Errorf("with nothing counted yet the button reads %q", got)
	}
	phone.do(chromedp.Evaluate[chromedp.Void](`window.__leitai.conn.start()`))
	phone.wait("90 counted", `window.__leitai.pending() === 0 && document.querySelector('[data-receipt="`+next+`"]').textContent.indexOf("已计分：90 分") >= 0`)
	phone.wait("the button after 90 counted", `document.querySelector('`+submit+`').textContent === "改为 95 分"`)
	phone.check()
}

// TestBrowserLeaderComment: the host records comments on the control page,
// during the event and after its end; the results page prints each under
// its unit and the Excel export has them on the unit's row.
func TestBrowserLeaderComment(t *testing.T) {
	t.Parallel()
	shoot := presentShots(t)
	chrome := btStartChrome(t)
	srv := btStartServer(t, "")
	ev := presentExample(t, srv)
	id := ev.ID
	for i, c := range ev.Contestants[:3] {
		srv.stage(t, id, map[string]any{"action": "jump", "contestant": c.ID})
		srv.stage(t, id, map[string]any{"action": "open"})
		for v := range 3 {
			srv.api(t, "POST", "/events/"+id+"/ballots", map[string]any{
				"id": fmt.Sprintf("00000000-0000-4000-8000-%012d", i*10+v), "credential": srv.m.Credentials.For(fmt.Sprintf("v%d", v)),
				"contestant": c.ID, "score": 80 + float64(i*3+v)}, nil)
		}
		srv.stage(t, id, map[string]any{"action": "close"})
	}
	host := chrome.tab(t, "control", 1366, 768, false)
	host.open(srv.base + "/e/" + id + "/control#key=" + btHostKey)
	host.wait("the standings", `document.querySelectorAll('[data-standings-body] tr').length === 16`)

	comment := func(c voting.Contestant, text string) {
		t.Helper()
		host.do(chromedp.Click(chromedp.CSS(`[data-row-comment="` + c.ID + `"]`)))
		host.wait("the comment dialog", `document.querySelector('[data-comment-dialog]').open && document.querySelector('[data-comment-name]').textContent === `+jsq(c.Name))
		host.do(chromedp.SendKeys(chromedp.CSS(`[data-comment-text]`), text))
		host.do(chromedp.Click(chromedp.CSS(`[data-comment-save]`)))
		host.wait("the comment saved", `!document.querySelector('[data-comment-dialog]').open && document.querySelector('[data-row-comment="`+c.ID+`"]').classList.contains("has-comment")`)
	}
	first, second := ev.Contestants[0], ev.Contestants[1]
	const c1 = "发改经信局牵头工业企业、营利性服务业、稳投资、要素匹配、企业服务5个专项组，不讲困难，只找方法。"
	const c2 = "商务局3月起就谋划启动全年促消费活动，5月社零同比增长5%。"
	comment(first, c1)
	host.do(chromedp.Click(chromedp.CSS(`[data-row-comment="` + first.ID + `"]`)))
	host.wait("the comment dialog again", `document.querySelector('[data-comment-dialog]').open && document.querySelector('[data-comment-text]').value === `+jsq(c1))
	shoot(host, "present-control-comment-1366x768.png")
	host.do(chromedp.Click(chromedp.CSS(`[data-comment-dialog] button[value="cancel"]`)))
	host.wait("the dialog closed", `!document.querySelector('[data-comment-dialog]').open`)

	// After the end the event is read-only, but not its comments.
	host.do(chromedp.Click(chromedp.CSS(`[data-cmd="end"]`)))
	host.wait("the confirmation", `document.querySelector('[data-confirm]').open`)
	host.do(chromedp.Click(chromedp.CSS(`[data-confirm-ok]`)))
	host.wait("the end", `document.querySelector('[data-phase]').classList.contains("phase-ended")`)
	comment(second, c2)

	results := chrome.tab(t, "results", 1280, 900, false)
	results.open(srv.base + "/e/" + id + "/results#key=" + btHostKey)
	results.wait("the comments under their units", `(() => {
		const a = document.querySelector('[data-comment="`+first.ID+`"]'), b = document.querySelector('[data-comment="`+second.ID+`"]');
		return a && b && a.textContent.indexOf(`+jsq(c1)+`) >= 0 && b.textContent.indexOf(`+jsq(c2)+`) >= 0 &&
			a.previousElementSibling.dataset.contestant === "`+first.ID+`" && b.previousElementSibling.dataset.contestant === "`+second.ID+`";
	})()`)
	if got := results.text(`[data-table=overall] tr[data-contestant="` + first.ID + `"] .res-theme`); !strings.Contains(got, first.Theme) {
		t.Errorf("the results page's theme under %s: %q", first.Name, got)
	}
	if n := btEval[int](results, `document.querySelectorAll('[data-comment]').length`); n != 2 {
		t.Errorf("%d comment rows, want 2", n)
	}
	shoot(results, "present-results-1280x900.png")

	// The workbook: the comment on its unit's row.
	req, err := http.NewRequest("GET", srv.base+"/api/events/"+id+"/export.xlsx", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+btHostKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("export: %d %v", resp.StatusCode, err)
	}
	f, err := excelize.OpenReader(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("排名")
	if err != nil {
		t.Fatal(err)
	}
	header := rows[2]
	name, note, theme := slices.Index(header, "参赛单位"), slices.Index(header, "区领导点评"), slices.Index(header, "汇报主题")
	if name < 0 || note < 0 || theme < 0 {
		t.Fatalf("the ranking's header %q", header)
	}
	want := map[string]string{first.Name: c1, second.Name: c2}
	for _, row := range rows[3:] {
		got := ""
		if note < len(row) {
			got = row[note]
		}
		if got != want[row[name]] {
			t.Errorf("the workbook's comment for %s: %q, want %q", row[name], got, want[row[name]])
		}
		if c := ev.Contestants[indexOfName(ev, row[name])]; theme >= len(row) || row[theme] != c.Theme {
			t.Errorf("the workbook's theme for %s: %q", row[name], row)
		}
	}
	host.check()
	results.check()
}

func indexOfName(ev voting.Event, name string) int {
	for i, c := range ev.Contestants {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// TestBrowserPhoneBanner: on a phone the reconnect banner sits above the
// header and covers nothing of it.
func TestBrowserPhoneBanner(t *testing.T) {
	t.Parallel()
	shoot := presentShots(t)
	chrome := btStartChrome(t)
	srv := btStartServer(t, "")
	ev := presentExample(t, srv)
	srv.stage(t, ev.ID, map[string]any{"action": "next"})
	proxy := btStartProxy(t, srv.m.Addr)
	phone := chrome.tab(t, "phone", 390, 844, true)
	phone.allow = regexp.MustCompile(`WebSocket connection to .* failed|net::ERR_`)
	phone.open(proxy.URL() + "/e/" + ev.ID + srv.joinQuery(ev.ID))
	phone.wait("the vote page", `!document.querySelector('[data-view="event"]').hidden && document.querySelector('[data-stage-name]').textContent === `+jsq(ev.Contestants[0].Name))
	proxy.cut()
	phone.wait("the offline banner", `!document.querySelector('[data-banner]').hidden`)
	overlap := btEval[string](phone, `(() => {
		const b = document.querySelector('[data-banner]').getBoundingClientRect(), out = [];
		if (b.top < 0 || b.bottom > innerHeight) out.push("the banner is outside the window");
		document.querySelectorAll('[data-title], [data-lang-toggle], .brand, [data-stage-name]').forEach(el => {
			const r = el.getBoundingClientRect();
			if (r.width && r.left < b.right && b.left < r.right && r.top < b.bottom && b.top < r.bottom) out.push(el.className + " under the banner");
		});
		return out.join("; ");
	})()`)
	if overlap != "" {
		t.Errorf("the banner covers the page: %s", overlap)
	}
	shoot(phone, "present-vote-offline-390x844.png")
	proxy.restore()
	phone.wait("the banner to go", `document.querySelector('[data-banner]').hidden`)
	phone.check()
}

// TestBrowserSetupThemes: the control page's setup takes themes and
// presenters as extra CSV columns (Chinese or English headers, or by
// position) and the presentation time, and writes them back the same way.
func TestBrowserSetupThemes(t *testing.T) {
	t.Parallel()
	chrome := btStartChrome(t)
	srv := btStartServer(t, "")
	const id = "setup-themes"
	host := chrome.tab(t, "control", 1366, 768, false)
	host.open(srv.base + "/e/" + id + "/control#key=" + btHostKey)
	host.wait("the setup form", `!document.querySelector('[data-view="setup"]').hidden && !document.querySelector('[data-setup-notice]').hidden`)

	// The page's CSV reader.
	ctx, cancel := context.WithTimeout(host.ctx, 20*time.Second)
	parsed, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const url = performance.getEntriesByType("resource").map(e => e.name).filter(n => /\/assets\/csv\.[0-9a-f]+\.js$/.test(n))[0];
		return import(url).then(m => JSON.stringify([
			m.parseContestants('序号,名称,组别,汇报主题,汇报人\n2,区商务局,专项组,"促消费稳外贸, 推动增长",李四\n1,区住建局,专项组,狠抓四个坚持,'),
			m.parseContestants('presenter,theme,name\n王五,不遗余力促增收,米市巷街道'),
			m.parseContestants('甲,一组,主题甲,张三\n乙'),
			m.parseContestants(m.toLines([{name: "丙", group: "", theme: "主题, 丙"}, {name: "丁", group: "二组", presenter: "赵六"}])),
			m.toLines([{name: "戊", group: "三组"}]),
		]));
	})()`, chromedp.EvalAwaitPromise))
	cancel()
	if err != nil {
		t.Fatalf("csv.js: %v", err)
	}
	const want = `[[{"name":"区住建局","group":"专项组","theme":"狠抓四个坚持"},{"name":"区商务局","group":"专项组","theme":"促消费稳外贸, 推动增长","presenter":"李四"}],` +
		`[{"name":"米市巷街道","group":"","theme":"不遗余力促增收","presenter":"王五"}],` +
		`[{"name":"甲","group":"一组","theme":"主题甲","presenter":"张三"},{"name":"乙","group":""}],` +
		`[{"name":"丙","group":"","theme":"主题, 丙"},{"name":"丁","group":"二组","presenter":"赵六"}],` +
		`"戊,三组"]`
	if parsed != want {
		t.Errorf("parseContestants:\n got %s\nwant %s", parsed, want)
	}

	host.do(
		chromedp.SetValue(chromedp.CSS(`[data-f-title]`), "主题测试"),
		chromedp.SetValue(chromedp.CSS(`[data-f-contestants]`), "名称,组别,汇报主题,汇报人\n区发改经信局,专项组牵头单位,扬优势 补短板,张三\n上塘街道,街道和园区,,\n"),
		chromedp.SetValue(chromedp.CSS(`[data-f-presentation]`), "abc"),
		chromedp.Click(chromedp.CSS(`[data-save]`)),
	)
	host.wait("the refusal of a bad time", `document.querySelector('[data-toasts] .toast.error') && document.querySelector('[data-toasts]').textContent.indexOf("分:秒") >= 0`)
	host.do(
		chromedp.SetValue(chromedp.CSS(`[data-f-presentation]`), "7:30"),
		chromedp.Click(chromedp.CSS(`[data-save]`)),
	)
	host.wait("the event to be created", `!document.querySelector('[data-tabs]').hidden && document.querySelector('[data-setup-notice]').hidden`)
	var ev voting.Event
	srv.api(t, "GET", "/events/"+id, nil, &ev)
	if len(ev.Contestants) != 2 || ev.PresentationSeconds != 450 {
		t.Fatalf("created %+v", ev)
	}
	if c := ev.Contestants[0]; c.Name != "区发改经信局" || c.Group != "专项组牵头单位" || c.Theme != "扬优势 补短板" || c.Presenter != "张三" {
		t.Errorf("first contestant %+v", c)
	}
	if c := ev.Contestants[1]; c.Theme != "" || c.Presenter != "" {
		t.Errorf("second contestant %+v", c)
	}
	// Written back with the header, and shown in the preview.
	host.wait("the form written back", `document.querySelector('[data-f-contestants]').value.split("\n")[0] === "名称,组别,汇报主题,汇报人" &&
		document.querySelector('[data-f-presentation]').value === "7:30" && document.querySelector('[data-preview] .pv-theme').textContent === "扬优势 补短板 · 张三"`)
	host.check()
}
