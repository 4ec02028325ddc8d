package main

// The host's laptop in Chromium: every control of the control page
// reachable and clickable at the laptop and projector-PC sizes, → asking
// before it closes open voting, the dropdown following the stage, errors
// in the page's language, the public-URL warnings, and the results page on
// a phone.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/uuid"

	"leitai/voting"
)

// ctlStartServer is btStartServer with the example event (16 units, two
// groups, audience and judges) loaded from its file.
func ctlStartServer(t *testing.T, publicURL string) *btServer {
	t.Helper()
	m := NewMain(Config{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), HostKey: btHostKey, PublicURL: publicURL,
		StandingsInterval: 50 * time.Millisecond, LogFormat: "text", LogLevel: "warn",
		EventFiles: []string{"../../examples/gongshu-2020.yaml"},
	}, io.Discard, io.Discard)
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return &btServer{m: m, base: "http://" + m.Addr}
}

// ctlBallots runs the first n units of the example: each on stage, voting
// open, five phones and three judges, voting closed. The n-th stays on
// stage.
func ctlBallots(t *testing.T, srv *btServer, event string, n int) {
	t.Helper()
	var ev voting.Event
	srv.api(t, "GET", "/events/"+event, nil, &ev)
	for i, c := range ev.Contestants[:n] {
		srv.stage(t, event, map[string]any{"action": "jump", "contestant": c.ID})
		srv.stage(t, event, map[string]any{"action": "open"})
		for v := range 8 {
			panel, key := "audience", ""
			if v >= 5 {
				panel, key = "judges", ev.Panels[1].Key
			}
			score := 70 + 0.5*float64((i*17+v*11)%61)
			srv.api(t, "POST", "/events/"+event+"/ballots", map[string]any{
				"id": uuid.NewString(), "credential": srv.m.Credentials.For(fmt.Sprintf("%s-%d", panel, v)),
				"contestant": c.ID, "panel": panel, "panelKey": key, "score": score}, nil)
		}
		srv.stage(t, event, map[string]any{"action": "close"})
	}
}

// ctlWaitRun waits for the control page's run view with its standings.
func ctlWaitRun(tb *btTab) {
	tb.t.Helper()
	tb.wait("the run view", `!document.querySelector('[data-view="run"]').hidden && document.querySelectorAll('[data-standings-body] tr').length > 0`)
}

// ctlShot saves a screenshot into $LEITAI_SCREENSHOTS, if set.
func ctlShot(t *testing.T, tb *btTab, name string, full bool) {
	t.Helper()
	dir := os.Getenv("LEITAI_SCREENSHOTS")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tb.wait("animations to settle", btSettled)
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	var png []byte
	var err error
	if full {
		png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	} else {
		png, err = chromedp.Run(ctx, chromedp.CaptureScreenshot())
	}
	if err != nil {
		t.Fatalf("%s: screenshot: %v", tb.name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// ctlUnreachable lists the controls of the page as it is (buttons, links,
// selects, inputs, text areas; those not rendered are skipped) that, once
// scrolled into the middle of the window, are not the element at their
// own centre: something covers or clips them.
const ctlUnreachable = `(() => {
	const name = (el) => {
		if (!el) return "nothing";
		let s = el.tagName.toLowerCase();
		for (const a of el.attributes) if (a.name.startsWith("data-") || a.name === "class" || a.name === "name") s += "[" + a.name + (a.value ? "=" + a.value : "") + "]";
		const text = (el.textContent || el.value || "").trim().replace(/\s+/g, " ").slice(0, 24);
		return s + (text ? " “" + text + "”" : "");
	};
	const out = [];
	const els = [...document.querySelectorAll("button, a[href], select, input:not([type=hidden]), textarea")]
		.filter((el) => el.getClientRects().length > 0 && !el.closest("dialog:not([open]), [hidden]"));
	for (const el of els) {
		el.scrollIntoView({ block: "center", inline: "center" });
		const r = el.getBoundingClientRect();
		const x = r.left + r.width / 2, y = r.top + r.height / 2;
		if (r.width < 8 || r.height < 8) { out.push(name(el) + " is " + Math.round(r.width) + "×" + Math.round(r.height) + " px"); continue; }
		if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) { out.push(name(el) + " stays outside the window, at " + Math.round(x) + "," + Math.round(y)); continue; }
		const hit = document.elementFromPoint(x, y);
		const label = hit && hit.closest("label");
		if (!hit || !(hit === el || el.contains(hit) || (label && label.contains(el)))) out.push(name(el) + " is covered by " + name(hit));
	}
	window.scrollTo(0, 0);
	return JSON.stringify({ checked: els.length, problems: out });
})()`

// ctlCheckReachable runs ctlUnreachable and fails the test on each
// problem; it returns how many controls it checked.
func ctlCheckReachable(t *testing.T, tb *btTab, where string) int {
	t.Helper()
	var res struct {
		Checked  int
		Problems []string
	}
	if err := json.Unmarshal([]byte(btEval[string](tb, ctlUnreachable)), &res); err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Problems {
		t.Errorf("%s: %s", where, p)
	}
	return res.Checked
}

// TestBrowserControlReachable: at every laptop and projector-PC size, on
// both tabs, in Chinese and English, every control of the control page can
// be scrolled to and clicked: nothing (the sticky stage panel, the header,
// the save bar) lies over it. Screenshots per size in $LEITAI_SCREENSHOTS.
func TestBrowserControlReachable(t *testing.T) {
	t.Parallel()
	chrome := btStartChrome(t)
	srv := ctlStartServer(t, "http://192.168.1.20:8080")
	const ev = "gongshu-2020"
	// Mid-event: ballots for four units, the fourth on stage with voting
	// open and a countdown running, so that every control is enabled.
	ctlBallots(t, srv, ev, 4)
	srv.stage(t, ev, map[string]any{"action": "open"})
	srv.stage(t, ev, map[string]any{"action": "countdown", "seconds": 900})
	host := chrome.tab(t, "control", 1366, 768, false)
	host.open(srv.base + "/e/" + ev + "/control#key=" + btHostKey)
	ctlWaitRun(host)
	host.wait("voting open", `document.querySelector('[data-phase]').classList.contains("phase-voting") && !document.querySelector('[data-clock]').hidden`)
	sizes := [][2]int64{{1024, 768}, {1280, 720}, {1280, 800}, {1366, 768}, {1920, 1080}}
	for _, lang := range []string{"zh", "en"} {
		if lang == "en" {
			host.do(chromedp.Click(chromedp.CSS(`[data-lang-toggle]`)))
			host.wait("English", `document.documentElement.lang === "en"`)
			sizes = [][2]int64{{1024, 768}, {1366, 768}}
		}
		for _, size := range sizes {
			host.viewport(size[0], size[1], false)
			host.wait("the layout", fmt.Sprintf(`innerWidth === %d && innerHeight === %d`, size[0], size[1]))
			where := fmt.Sprintf("%s %d×%d", lang, size[0], size[1])
			host.do(chromedp.Click(chromedp.CSS(`[data-tab="run"]`)))
			ctlWaitRun(host)
			n := ctlCheckReachable(t, host, where+" 现场控制")
			if n < 40 {
				t.Errorf("%s: only %d controls on the run tab", where, n)
			}
			ctlShot(t, host, fmt.Sprintf("control-run-%s-%dx%d.png", lang, size[0], size[1]), false)
			host.do(chromedp.Evaluate[chromedp.Void](`document.querySelector(".results-card").scrollIntoView({ block: "center" })`))
			ctlShot(t, host, fmt.Sprintf("control-run-results-%s-%dx%d.png", lang, size[0], size[1]), false)
			host.do(chromedp.Click(chromedp.CSS(`[data-tab="setup"]`)))
			host.wait("the setup form", `!document.querySelector('[data-view="setup"]').hidden && document.querySelectorAll('[data-panels] .item-row').length === 2`)
			if n := ctlCheckReachable(t, host, where+" 活动设置"); n < 20 {
				t.Errorf("%s: only %d controls on the setup tab", where, n)
			}
			ctlShot(t, host, fmt.Sprintf("control-setup-%s-%dx%d.png", lang, size[0], size[1]), false)
		}
	}
	host.check()
}

// ctlCellsWrapped lists the table cells of the page whose text wraps into
// lines of fewer than four characters (a group name one character per
// line): unreadable.
const ctlCellsWrapped = `(() => {
	const out = [];
	document.querySelectorAll("td, th").forEach((cell) => {
		const text = cell.innerText.trim();
		const chars = [...text.replace(/\s/g, "")].length;
		if (chars < 2) return;
		const tops = new Set();
		const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
		for (let n = walk.nextNode(); n; n = walk.nextNode()) {
			const r = document.createRange();
			r.selectNodeContents(n);
			[...r.getClientRects()].filter((x) => x.width > 0).forEach((x) => tops.add(Math.round(x.top)));
		}
		const lines = tops.size;
		if (lines > 1 && chars / lines < 4) out.push(JSON.stringify(text) + " in " + lines + " lines");
	});
	return out;
})()`

// TestBrowserResultsOnPhone: the published results page on a 390 px phone
// keeps every cell readable (no group name one character per line), and
// prints at A4 width; screenshots of both.
func TestBrowserResultsOnPhone(t *testing.T) {
	t.Parallel()
	chrome := btStartChrome(t)
	srv := ctlStartServer(t, "http://192.168.1.20:8080")
	const ev = "gongshu-2020"
	ctlBallots(t, srv, ev, 16)
	srv.stage(t, ev, map[string]any{"action": "end"})
	srv.api(t, "POST", "/events/"+ev+"/publish", map[string]bool{"published": true}, nil)
	for _, lang := range []string{"zh", "en"} {
		phone := chrome.tab(t, "results "+lang, 390, 844, true)
		phone.open(srv.base + "/e/" + ev + "/results")
		phone.wait("the published results", `document.querySelectorAll("[data-table=overall] tbody tr").length === 16`)
		if lang == "en" {
			phone.do(chromedp.Click(chromedp.CSS(`[data-lang-toggle]`)))
			phone.wait("English", `document.documentElement.lang === "en" && document.querySelector("[data-sheet]").innerText.includes("Final score")`)
		}
		phone.wait("fonts", `document.fonts.status === "loaded"`)
		for _, p := range btEval[[]string](phone, ctlCellsWrapped) {
			t.Errorf("results at 390 px (%s): %s", lang, p)
		}
		if w := btEval[int](phone, `document.documentElement.scrollWidth`); w > 390 {
			t.Errorf("results at 390 px (%s) scroll sideways: %d px wide", lang, w)
		}
		ctlShot(t, phone, "results-"+lang+"-390x844.png", false)
		ctlShot(t, phone, "results-"+lang+"-390x844-full.png", true)
		// Printed: the sheet between A4's 15 mm margins (180 mm, 680 px).
		phone.viewport(680, 1000, false)
		phone.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
			return err
		}))
		phone.wait("the print width", `innerWidth === 680 && matchMedia("print").matches`)
		for _, p := range btEval[[]string](phone, ctlCellsWrapped) {
			t.Errorf("results printed (%s): %s", lang, p)
		}
		if w := btEval[int](phone, `document.documentElement.scrollWidth`); w > 681 {
			t.Errorf("results printed (%s) are %d px wide; A4 between its margins holds 680", lang, w)
		}
		ctlShot(t, phone, "results-"+lang+"-print-a4.png", true)
		phone.check()
	}
}

// ctlStage waits until the server's stage has the contestant on stage in
// the phase, and returns it.
func ctlStage(t *testing.T, srv *btServer, event, current string, phase voting.Phase) voting.Stage {
	t.Helper()
	var st voting.Stage
	deadline := time.Now().Add(20 * time.Second)
	for {
		srv.api(t, "GET", "/events/"+event+"/stage", nil, &st)
		if st.Current == current && st.Phase == phase {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stage is %s/%s; want %s/%s", st.Current, st.Phase, current, phase)
		}
		time.Sleep(40 * time.Millisecond)
	}
}

// TestBrowserControlNextAsks: → (or the button, or 上台 in a row) while
// voting is open asks before it closes voting and moves on, and a second
// → confirms; with voting closed it moves at once. The dropdown follows
// the stage: after 跳转 to unit 6 and →, it names unit 7.
func TestBrowserControlNextAsks(t *testing.T) {
	t.Parallel()
	chrome := btStartChrome(t)
	srv := ctlStartServer(t, "http://192.168.1.20:8080")
	const ev = "gongshu-2020"
	srv.stage(t, ev, map[string]any{"action": "next"})
	srv.stage(t, ev, map[string]any{"action": "open"})
	host := chrome.tab(t, "control", 1366, 768, false)
	host.open(srv.base + "/e/" + ev + "/control#key=" + btHostKey)
	ctlWaitRun(host)
	host.wait("voting open", `document.querySelector('[data-phase]').classList.contains("phase-voting")`)
	asking := `document.querySelector('[data-confirm]').open`

	// → asks; the stage stays; a second → confirms.
	host.do(chromedp.KeyEvent(kb.ArrowRight))
	host.wait("the question", asking+` && document.querySelector('[data-confirm-text]').textContent.includes("区发改经信局") && document.querySelector('[data-confirm-text]').textContent.includes("再按一次 →")`)
	ctlStage(t, srv, ev, "u01", voting.PhaseVoting)
	host.do(chromedp.KeyEvent(kb.ArrowRight))
	host.wait("the answer", `!`+asking)
	ctlStage(t, srv, ev, "u02", voting.PhasePresenting)
	host.wait("unit 2 on the control page", `document.querySelector('[data-stage-name]').textContent === "区商务局"`)

	// Voting closed: → moves at once.
	host.do(chromedp.KeyEvent(kb.ArrowRight))
	ctlStage(t, srv, ev, "u03", voting.PhasePresenting)
	if btEval[bool](host, asking) {
		t.Error("→ asked with voting closed")
	}

	// The button asks too; 取消 keeps voting open on the same unit.
	srv.stage(t, ev, map[string]any{"action": "open"})
	host.wait("voting open", `document.querySelector('[data-phase]').classList.contains("phase-voting")`)
	host.do(chromedp.Click(chromedp.CSS(`[data-cmd="next"]`)))
	host.wait("the question", asking)
	host.do(chromedp.Click(chromedp.CSS(`[data-confirm] button[value="cancel"]`)))
	host.wait("the question gone", `!`+asking)
	ctlStage(t, srv, ev, "u03", voting.PhaseVoting)
	// ← asks as well, and a second ← confirms.
	host.do(chromedp.KeyEvent(kb.ArrowLeft))
	host.wait("the question", asking+` && document.querySelector('[data-confirm-text]').textContent.includes("再按一次 ←")`)
	host.do(chromedp.KeyEvent(kb.ArrowLeft))
	ctlStage(t, srv, ev, "u02", voting.PhasePresenting)
	// 上台 in a row, while voting is open, asks and names where it goes.
	srv.stage(t, ev, map[string]any{"action": "open"})
	host.wait("voting open", `document.querySelector('[data-phase]').classList.contains("phase-voting")`)
	host.do(chromedp.Click(chromedp.CSS(`[data-row-jump="u09"]`)))
	host.wait("the question", asking+` && document.querySelector('[data-confirm-text]').textContent.includes("半山街道")`)
	host.do(chromedp.Click(chromedp.CSS(`[data-confirm-ok]`)))
	ctlStage(t, srv, ev, "u09", voting.PhasePresenting)

	// The dropdown follows the stage: it names unit 9 now; 跳转 to unit 6,
	// then →: it names unit 7.
	selected := `(() => { const s = document.querySelector("[data-jump]"); return s.value + " " + s.options[s.selectedIndex].textContent; })()`
	host.wait("the dropdown on unit 9", selected+` === "u09 9. 半山街道（街道和园区）"`)
	host.do(chromedp.SetValue(chromedp.CSS(`[data-jump]`), "u06"), chromedp.Click(chromedp.CSS(`[data-cmd="jump"]`)))
	ctlStage(t, srv, ev, "u06", voting.PhasePresenting)
	host.wait("unit 6 on the control page", `document.querySelector('[data-stage-name]').textContent === "上塘街道"`)
	host.do(chromedp.KeyEvent(kb.ArrowRight))
	ctlStage(t, srv, ev, "u07", voting.PhasePresenting)
	host.wait("the dropdown on unit 7", selected+` === "u07 7. 祥符街道（街道和园区）"`)
	// A pick in progress stays while the stage does not move.
	host.do(chromedp.SetValue(chromedp.CSS(`[data-jump]`), "u12"))
	srv.stage(t, ev, map[string]any{"action": "open"})
	host.wait("voting open", `document.querySelector('[data-phase]').classList.contains("phase-voting")`)
	if got := btEval[string](host, `document.querySelector("[data-jump]").value`); got != "u12" {
		t.Errorf("the host's pick in the dropdown became %s when voting opened", got)
	}
	host.check()
}

// TestBrowserControlDisabledByPhase: controls that cannot act in the
// current phase are disabled: before any contestant, ← and 开始投票; after
// the end, every stage control, 清空评分, 上台, saving the settings and
// issuing tickets (with a note in the settings).
func TestBrowserControlDisabledByPhase(t *testing.T) {
	t.Parallel()
	chrome := btStartChrome(t)
	srv := ctlStartServer(t, "http://192.168.1.20:8080")
	const ev = "gongshu-2020"
	host := chrome.tab(t, "control", 1366, 768, false)
	host.open(srv.base + "/e/" + ev + "/control#key=" + btHostKey)
	ctlWaitRun(host)
	disabled := func(sel string) string {
		return fmt.Sprintf(`[...document.querySelectorAll(%s)].filter((b) => !b.disabled).map((b) => b.outerHTML.slice(0, 90)).join(" | ")`, jsq(sel))
	}
	host.wait("the lobby", `document.querySelector('[data-phase]').classList.contains("phase-lobby")`)
	if open := btEval[string](host, disabled(`[data-cmd="previous"], [data-cmd="toggle-voting"], [data-cmd="unreveal"], [data-cmd="lobby"], [data-cmd="countdown"][data-seconds="0"]`)); open != "" {
		t.Errorf("in the lobby these can be pressed: %s", open)
	}
	if btEval[bool](host, `document.querySelector('[data-cmd="next"]').disabled`) {
		t.Error("in the lobby → is disabled")
	}

	ctlBallots(t, srv, ev, 2)
	srv.stage(t, ev, map[string]any{"action": "end"})
	host.wait("the end", `document.querySelector('[data-phase]').classList.contains("phase-ended")`)
	host.wait("the standings", `document.querySelector('[data-row-reset="u01"]') && document.querySelector('tr[data-id="u01"] .final').textContent !== "—"`)
	if open := btEval[string](host, disabled(`[data-cmd], [data-jump], [data-row-reset], [data-row-jump], [data-issue-form] button`)); open != "" {
		t.Errorf("after the end these can be pressed: %s", open)
	}
	for _, sel := range []string{`[data-action="publish"]`, `[data-action="export-xlsx"]`, `[data-action="clone"]`, `[data-revoke-form] button`} {
		if btEval[bool](host, `document.querySelector(`+jsq(sel)+`).disabled`) {
			t.Errorf("after the end %s is disabled; it still works", sel)
		}
	}
	host.do(chromedp.Click(chromedp.CSS(`[data-tab="setup"]`)))
	host.wait("the settings, read-only", `!document.querySelector('[data-view="setup"]').hidden && document.querySelector('[data-save]').disabled &&
		!document.querySelector('[data-setup-notice]').hidden && document.querySelector('[data-setup-notice]').textContent.includes("活动已结束")`)
	ctlShot(t, host, "control-setup-ended-1366x768.png", false)
	host.check()
}

// ctlOverflow says what sticks out of the window of a page that must fit
// it whole (the screen): "" when nothing does.
const ctlOverflow = `(() => {
	const d = document.documentElement, out = [];
	if (d.scrollWidth > innerWidth) out.push("scrollWidth " + d.scrollWidth);
	if (d.scrollHeight > innerHeight) out.push("scrollHeight " + d.scrollHeight);
	document.querySelectorAll(".panel, .qr-frame, .reach-warning, .lobby-text").forEach((el) => {
		const r = el.getBoundingClientRect();
		if (r.width && (r.bottom > innerHeight + 0.5 || r.right > innerWidth + 0.5)) out.push(el.className + " ends at " + Math.round(r.right) + "," + Math.round(r.bottom));
	});
	return out.join("; ");
})()`

// TestBrowserPublicURLWarning: a server whose public URL is this machine's
// own address shows, on the control page's vote link card and by the
// screen's QR code, that phones cannot open it and how to fix it; one with
// a LAN address shows no warning. The card holds the link, its QR code and
// a copy button.
func TestBrowserPublicURLWarning(t *testing.T) {
	t.Parallel()
	chrome := btStartChrome(t)
	const ev = "gongshu-2020"
	for _, c := range []struct {
		name, public string
		warn         bool
	}{
		{"loopback", "http://127.0.0.1:8080", true},
		{"lan", "http://192.168.1.20:8080", false},
	} {
		srv := ctlStartServer(t, c.public)
		link := c.public + "/e/" + ev
		host := chrome.tab(t, "control "+c.name, 1366, 768, false)
		host.open(srv.base + "/e/" + ev + "/control#key=" + btHostKey)
		ctlWaitRun(host)
		// The link and its QR code carry the hall code, which the page reads.
		host.wait("the vote link card", `(() => { const a = document.querySelector("[data-vote-link-text]"), qr = document.querySelector(".link-qr");
			return a.textContent.startsWith(`+jsq(link+"?j=")+`) && a.href === a.textContent &&
				qr.src.includes("/qr.svg?j=") && qr.complete && qr.naturalWidth > 0; })()`)
		warning := btEval[string](host, `(() => { const w = document.querySelector("[data-reach-warning]"); return w.hidden ? "" : w.textContent; })()`)
		if c.warn != (warning != "") {
			t.Errorf("%s: the control page warns %q", c.name, warning)
		}
		if c.warn && !(strings.Contains(warning, "手机打不开这个链接") && strings.Contains(warning, "127.0.0.1") && strings.Contains(warning, "--public-url")) {
			t.Errorf("%s: the control page's warning says %q; want why and the fix", c.name, warning)
		}
		ctlShot(t, host, "control-link-"+c.name+"-1366x768.png", false)
		host.do(chromedp.Click(chromedp.CSS(`[data-action="copy-link"]`)))
		host.wait("the copy", `document.querySelector('[data-toasts] .toast')`)
		if got := strings.TrimSuffix(host.text(`[data-toasts] .toast`), "×"); got != "已复制投票链接" {
			t.Errorf("%s: copying the link says %q", c.name, got)
		}

		screen := chrome.tab(t, "screen "+c.name, 1920, 1080, false)
		screen.open(srv.screenURL(ev))
		screen.wait("the lobby", `!document.querySelector('[data-mode="lobby"]').hidden && document.querySelector('[data-lobby-title]').textContent !== ""`)
		shown := func(mode string) string {
			return btEval[string](screen, `(() => { const w = document.querySelector('[data-mode="`+mode+`"] [data-reach-warning]'); return w && w.getClientRects().length ? w.textContent : ""; })()`)
		}
		for _, step := range []string{"lobby", "live"} {
			if step == "live" {
				srv.stage(t, ev, map[string]any{"action": "next"})
				screen.wait("the live view", `!document.querySelector('[data-mode="live"]').hidden`)
			}
			w := shown(step)
			if c.warn != (w != "") || c.warn && !(strings.Contains(w, "127.0.0.1") && strings.Contains(w, "--public-url")) {
				t.Errorf("%s: the screen's %s warns %q", c.name, step, w)
			}
			for _, size := range [][2]int64{{1920, 1080}, {1024, 768}} {
				screen.viewport(size[0], size[1], false)
				screen.wait("the layout", fmt.Sprintf(`innerWidth === %d`, size[0]))
				screen.wait("animations to settle", btSettled)
				if p := btEval[string](screen, ctlOverflow); p != "" {
					t.Errorf("%s: the screen's %s at %d×%d overflows: %s", c.name, step, size[0], size[1], p)
				}
				ctlShot(t, screen, fmt.Sprintf("screen-%s-%s-%dx%d.png", step, c.name, size[0], size[1]), false)
			}
			screen.viewport(1920, 1080, false)
		}
		host.check()
		screen.check()
	}
}
