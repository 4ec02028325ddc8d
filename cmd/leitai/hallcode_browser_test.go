package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// wsRecorder, run in a page before its scripts, records the URL of every
// WebSocket the page opens (window.__ws), so that a test can see that no
// secret travels in one.
const wsRecorder = `(() => {
  const W = window.WebSocket;
  window.__ws = [];
  window.WebSocket = function (url, protocols) {
    window.__ws.push(String(url));
    return protocols ? new W(url, protocols) : new W(url);
  };
  window.WebSocket.prototype = W.prototype;
  ["CONNECTING", "OPEN", "CLOSING", "CLOSED"].forEach((k) => { window.WebSocket[k] = W[k]; });
})();`

func (tb *btTab) recordSockets() {
	tb.t.Helper()
	tb.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: wsRecorder})
		return err
	}))
}

// TestBrowserHallCode is the hall code (现场码) as the hall sees it: the big
// screen, opened from the control page's link, redraws its QR code as the
// code turns; a phone that scans it joins and votes in two taps, and keeps
// voting after a reload long after the code changed; a link copied out of
// the hall is refused, in the phone's language; a screen opened without
// its key says so. Neither the host key nor a credential travels in a
// socket's URL.
func TestBrowserHallCode(t *testing.T) {
	t.Parallel()
	chrome := btStartChrome(t)
	m := NewMain(Config{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), HostKey: btHostKey, HallCodePeriod: 4 * time.Second,
		StandingsInterval: 50 * time.Millisecond, LogFormat: "text", LogLevel: "warn",
	}, io.Discard, io.Discard)
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	srv := &btServer{m: m, base: "http://" + m.Addr}
	srv.api(t, "POST", "/events", map[string]any{
		"id": "hall", "title": "现场码测试",
		"contestants": []map[string]string{{"id": "c1", "name": "区商务局"}, {"id": "c2", "name": "康桥街道"}},
		"rules":       map[string]any{"min": 1, "max": 10, "step": 1, "decimals": 2},
	}, nil)
	srv.stage(t, "hall", map[string]any{"action": "next"})
	srv.stage(t, "hall", map[string]any{"action": "open"})
	shoot := func(tb *btTab, name string) {
		if dir := os.Getenv("LEITAI_SCREENSHOTS"); dir != "" {
			ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
			png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			cancel()
			if err == nil {
				_ = os.WriteFile(filepath.Join(dir, name), png, 0o644)
			}
		}
	}

	// The control page links the screen with its key; the host key goes
	// in the socket's subprotocol.
	host := chrome.tab(t, "control", 1366, 768, false)
	host.recordSockets()
	host.open(srv.base + "/e/hall/control#key=" + btHostKey)
	host.wait("the screen link with its key", `document.querySelector('[data-screen-link]').getAttribute('href').indexOf('#s=') > 0 && window.__ws.length > 0`)
	screenLink := btEval[string](host, `document.querySelector('[data-screen-link]').href`)

	screen := chrome.tab(t, "screen", 1920, 1080, false)
	screen.open(screenLink)
	codeOnScreen := `(() => { const m = /[?]j=([0-9a-z]+)/.exec(document.querySelector('img[data-qr]').getAttribute('src')); return m ? m[1] : ""; })()`
	screen.wait("the QR code with the hall code", codeOnScreen+` !== "" && document.querySelector('[data-hall-warning]').hidden`)
	first := btEval[string](screen, codeOnScreen)
	if h := btEval[string](screen, `location.hash`); h != "" {
		t.Errorf("the screen key stays in the address bar: %q", h)
	}
	screen.wait("the QR code redrawn with the next code", codeOnScreen+` !== `+jsq(first)+` && document.querySelector('[data-short-link]').textContent.indexOf("?j=" + `+codeOnScreen+`) > 0 &&
		[...document.querySelectorAll('img[data-qr]')].every((i) => i.getAttribute('src') === document.querySelector('img[data-qr]').getAttribute('src'))`)
	shoot(screen, "screen-hall-code-1920x1080.png")

	// A phone scans the QR code: it joins and votes with one tap.
	phone := chrome.tab(t, "phone", 390, 844, true)
	phone.recordSockets()
	phone.open(srv.base + "/e/hall?j=" + btEval[string](screen, codeOnScreen))
	ready := `(() => { const b = document.querySelector('[data-ballot="c1"] [data-score="7"]'); return b && !b.disabled; })()`
	phone.wait("the ballot", ready)
	if s := btEval[string](phone, `location.search`); s != "" {
		t.Errorf("the hall code stays in the address bar: %q", s)
	}
	phone.do(chromedp.Tap(chromedp.CSS(`[data-ballot="c1"] [data-score="7"]`)))
	phone.wait("the receipt", `document.querySelector('[data-receipt="c1"]').classList.contains("ok")`)

	// A link copied out of the hall ten minutes ago admits nobody.
	old := m.Credentials.HallCode("hall", time.Now().Add(-10*time.Minute))
	copied := chrome.tab(t, "copied", 390, 844, true)
	copied.allow = regexp.MustCompile(`status of 403`) // the refusal it is meant to get
	copied.open(srv.base + "/e/hall?j=" + old)
	copied.wait("the expired notice", `!document.querySelector('[data-view="hallcode"]').hidden && document.querySelector('[data-hall-title]').textContent === "二维码已过期"`)
	copied.do(chromedp.Click(chromedp.CSS(`[data-lang-toggle]`)))
	copied.wait("the notice in English", `document.querySelector('[data-hall-title]').textContent === "This link has expired" && document.querySelector('[data-hall-hint]').textContent.indexOf("scan the QR code on the big screen again") >= 0`)
	shoot(copied, "vote-hall-expired-390x844.png")
	plain := chrome.tab(t, "plain", 390, 844, true)
	plain.allow = copied.allow
	plain.open(srv.base + "/e/hall")
	plain.wait("the scan notice", `!document.querySelector('[data-view="hallcode"]').hidden && document.querySelector('[data-hall-title]').textContent === "请扫描大屏上的二维码"`)
	shoot(plain, "vote-hall-scan-390x844.png")
	if n := srv.standings(t, "hall").Ballots; n != 1 {
		t.Errorf("%d ballots, want the scanning phone's", n)
	}

	// The phone that joined reloads the plain link long after its code
	// changed: it keeps its ballot and votes on, never asked again.
	phone.open(srv.base + "/e/hall")
	phone.wait("its ballot after a reload", `document.querySelector('[data-receipt="c1"]') && document.querySelector('[data-receipt="c1"]').classList.contains("ok") && !document.querySelector('[data-ballot="c1"] [data-score="9"]').disabled`)
	phone.do(chromedp.Tap(chromedp.CSS(`[data-ballot="c1"] [data-score="9"]`)))
	phone.wait("the changed ballot", `document.querySelector('[data-receipt="c1"]').textContent.indexOf("9") >= 0 && document.querySelector('[data-receipt="c1"]').classList.contains("ok")`)
	if row := btRow(t, srv.standings(t, "hall"), "c1"); row.Ballots != 1 || row.Final != 9 {
		t.Errorf("after the reload: %+v", row)
	}

	// Voting closes: the control page notes the audit chain's head.
	srv.stage(t, "hall", map[string]any{"action": "close"})
	var head struct{ Head string }
	srv.api(t, "GET", "/events/hall/audit/head", nil, &head)
	host.wait("the audit chain head", `!document.querySelector('[data-audit-heads-box]').hidden && document.querySelector('[data-audit-heads] li').textContent === "区商务局 投票结束： " + `+jsq(head.Head))
	host.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-audit-heads-box]').scrollIntoView({block: "center"})`))
	shoot(host, "control-audit-head-1366x768.png")
	if !strings.HasPrefix(head.Head, "2:") {
		t.Errorf("head %q after two ballots", head.Head)
	}

	// No secret in a socket's URL.
	for _, tb := range []*btTab{host, phone} {
		urls := btEval[[]string](tb, `window.__ws`)
		if len(urls) == 0 {
			t.Errorf("%s: no socket recorded", tb.name)
		}
		for _, u := range urls {
			if strings.Contains(u, "key=") || strings.Contains(u, "credential") || strings.Contains(u, btHostKey) || strings.Contains(u, "v2.") {
				t.Errorf("%s: a secret in a socket URL: %s", tb.name, u)
			}
		}
	}

	// A screen opened without its key says so.
	bare := chrome.tab(t, "bare screen", 1920, 1080, false)
	bare.allow = copied.allow
	bare.open(srv.base + "/e/hall/screen")
	bare.wait("the warning", `!document.querySelector('[data-hall-warning]').hidden && document.querySelector('img[data-qr]').getAttribute('src').indexOf('?j=') < 0`)
	shoot(bare, "screen-no-key-1920x1080.png")

	for _, tb := range []*btTab{host, screen, phone, copied, plain, bare} {
		tb.check()
	}
}

// TestBrowserHallCodeBusyAddress: a hall behind one NAT address shares
// the per-address budget of new credentials. A phone that scans while the
// budget is spent is asked to wait (429) and gets in as soon as the budget
// allows, with the code it scanned, without scanning again.
func TestBrowserHallCodeBusyAddress(t *testing.T) {
	t.Parallel()
	chrome := btStartChrome(t)
	m := NewMain(Config{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), HostKey: btHostKey, VoterRate: 0.1, // bursts of 3, then one every 10 s
		StandingsInterval: 50 * time.Millisecond, LogFormat: "text", LogLevel: "error",
	}, io.Discard, io.Discard)
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	srv := &btServer{m: m, base: "http://" + m.Addr}
	srv.api(t, "POST", "/events", map[string]any{"id": "nat", "title": "同一出口", "contestants": []map[string]string{{"id": "c1", "name": "区商务局"}}}, nil)
	srv.stage(t, "nat", map[string]any{"action": "next"})
	srv.stage(t, "nat", map[string]any{"action": "open"})
	code, _ := m.Credentials.CurrentHallCode("nat")
	// The phones before it spent the address's budget.
	for spent := false; !spent; {
		status, _ := faultAPI(t, srv.base, "POST", "/api/voter", "", map[string]string{"event": "nat", "hallCode": code}, nil)
		spent = status == 429
	}
	phone := chrome.tab(t, "phone", 390, 844, true)
	phone.allow = regexp.MustCompile(`status of 429`) // the waits it is meant to get
	phone.open(srv.base + "/e/nat?j=" + code)
	phone.wait("the ballot, after waiting its turn", `(() => { const b = document.querySelector('[data-ballot="c1"] [data-score="7"]'); return b && !b.disabled; })()`)
	phone.check()
}
