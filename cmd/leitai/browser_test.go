package main

// End-to-end tests of the three pages in a real (headless) Chromium against
// the real server on the embedded store: a whole event driven from the
// control page with three phones, a phone that loses its connection (and
// its ack, and reloads) whose ballot still counts exactly once, and
// screenshots of every page at the sizes it is used at.

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/uuid"

	"leitai/voting"
	"leitai/voting/redistest"
)

const btHostKey = "browser-test-host-key"

// btServer is the real server for one browser test.
type btServer struct {
	m    *Main
	base string // http://127.0.0.1:port
}

func btStartServer(t *testing.T, publicURL string) *btServer {
	t.Helper()
	m := NewMain(Config{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), HostKey: btHostKey, PublicURL: publicURL,
		StandingsInterval: 50 * time.Millisecond, LogFormat: "text", LogLevel: "warn",
	}, io.Discard, io.Discard)
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return &btServer{m: m, base: "http://" + m.Addr}
}

// voteURL is the vote link as the big screen's QR code has it now: with
// the event's current hall code, which a new phone needs to join (it stays
// valid for a minute or more; a phone that joined needs it no more).
func (s *btServer) voteURL(t *testing.T, event string) string {
	t.Helper()
	return s.base + "/e/" + event + s.joinQuery(event)
}

// joinQuery is the query of the vote link with the current hall code.
func (s *btServer) joinQuery(event string) string {
	code, _ := s.m.Credentials.CurrentHallCode(event)
	return "?j=" + code
}

// screenURL is the big screen's link as the control page gives it: with
// the screen key, so that its QR code carries the hall code.
func (s *btServer) screenURL(event string) string {
	return s.base + "/e/" + event + "/screen#s=" + s.m.Credentials.ScreenKey(event)
}

// api calls the HTTP API with the host key and decodes the answer into
// into; a status of 300 or more fails the test.
func (s *btServer) api(t *testing.T, method, path string, body, into any) {
	t.Helper()
	resultsAPI(t, s.base, method, "/api"+path, btHostKey, body, into)
}

func (s *btServer) stage(t *testing.T, event string, cmd map[string]any) voting.Stage {
	t.Helper()
	var st voting.Stage
	s.api(t, "POST", "/events/"+event+"/stage", cmd, &st)
	return st
}

func (s *btServer) standings(t *testing.T, event string) voting.Standings {
	t.Helper()
	var sd voting.Standings
	s.api(t, "GET", "/events/"+event+"/standings", nil, &sd)
	return sd
}

func btRow(t *testing.T, sd voting.Standings, contestant string) voting.Standing {
	t.Helper()
	row, ok := sd.Row(contestant)
	if !ok {
		t.Fatalf("no standings row for %s", contestant)
	}
	return row
}

// btChrome is the headless Chromium of the browser tests; each tab lives
// in its own browser context (its own cookies, localStorage and cache),
// like separate phones, so tests that share the browser see nothing of
// each other.
type btChrome struct {
	ctx context.Context
}

// btBrowser is the one Chromium process that the package's browser tests
// share, in parallel: the first test that needs it starts it and TestMain
// stops it. Starting a browser per test cost seconds each on a loaded
// machine.
var btBrowser struct {
	once sync.Once
	ctx  context.Context
	stop func()
	err  error
}

// btChromiumPath finds Chromium: LEITAI_CHROMIUM, else the usual names on
// the PATH; "" when there is none.
func btChromiumPath() string {
	if path := os.Getenv("LEITAI_CHROMIUM"); path != "" {
		return path
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// btStartChrome returns the shared Chromium, starting it the first time;
// without Chromium the test skips loudly (fails when CI is set).
func btStartChrome(t *testing.T) *btChrome {
	t.Helper()
	path := btChromiumPath()
	if path == "" {
		redistest.Missing(t, "chromium")
	}
	btBrowser.once.Do(func() { btBrowser.ctx, btBrowser.stop, btBrowser.err = btLaunch(path) })
	if btBrowser.err != nil {
		t.Fatalf("start chromium (%s): %v", path, btBrowser.err)
	}
	return &btChrome{ctx: btBrowser.ctx}
}

// btLaunch starts Chromium with a profile in a fresh temp dir; stop ends
// the process and removes the dir.
func btLaunch(path string) (context.Context, func(), error) {
	dir, err := os.MkdirTemp("", "leitai-chromium")
	if err != nil {
		return nil, nil, err
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.UserDataDir(dir),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	stop := func() {
		cancel()
		cancelAlloc()
		_ = os.RemoveAll(dir)
	}
	if err := chromedp.Do(ctx); err != nil {
		stop()
		return nil, nil, err
	}
	return ctx, stop, nil
}

// btStopChrome stops the shared Chromium, if a test started it.
func btStopChrome() {
	if btBrowser.stop != nil {
		btBrowser.stop()
	}
}

// btTab is one page. It records console errors and uncaught exceptions;
// check fails the test on any that allow does not excuse.
type btTab struct {
	t     *testing.T
	name  string
	ctx   context.Context
	mu    sync.Mutex
	probs []string
	allow *regexp.Regexp
}

// tab opens a tab in a fresh browser context with the given viewport;
// phone turns on mobile and touch emulation.
func (c *btChrome) tab(t *testing.T, name string, width, height int64, phone bool) *btTab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(c.ctx, chromedp.WithNewBrowserContext())
	tb := &btTab{t: t, name: name, ctx: ctx}
	msgs := chromedp.Console(ctx) // opens the tab; its life is ctx's
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleError && !m.IsException() {
				continue
			}
			tb.mu.Lock()
			if tb.allow == nil || !tb.allow.MatchString(m.Text) {
				tb.probs = append(tb.probs, fmt.Sprintf("%s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line))
			}
			tb.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	tb.viewport(width, height, phone)
	return tb
}

func (tb *btTab) viewport(width, height int64, phone bool) {
	tb.t.Helper()
	var opts []chromedp.EmulateViewportOption
	if phone {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	tb.do(chromedp.EmulateViewport(width, height, opts...))
}

// do runs actions with a generous timeout; a failure fails the test.
func (tb *btTab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("%s: %v%s", tb.name, err, tb.describe())
	}
}

// eval evaluates a JavaScript expression in the page.
func btEval[T any](tb *btTab, expr string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("%s: eval %s: %v", tb.name, expr, err)
	}
	return v
}

// wait polls a JavaScript condition until it holds.
func (tb *btTab) wait(what, cond string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 40*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+cond+")",
		chromedp.WithPollingInterval(40*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		tb.t.Fatalf("%s: waiting for %s: %v%s", tb.name, what, err, tb.describe())
	}
}

// describe returns what the page shows, for failure messages.
func (tb *btTab) describe() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 3*time.Second)
	defer cancel()
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 1500) : ""`))
	if err != nil {
		return ""
	}
	return "\n--- " + tb.name + " shows:\n" + text
}

// check fails the test on console errors and uncaught exceptions.
func (tb *btTab) check() {
	tb.t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, p := range tb.probs {
		tb.t.Errorf("%s: console: %s", tb.name, p)
	}
	tb.probs = nil
}

func (tb *btTab) open(url string) { tb.t.Helper(); tb.do(chromedp.Navigate(url)) }

// text is the textContent of the first element matching sel ("" if none).
func (tb *btTab) text(sel string) string {
	tb.t.Helper()
	return btEval[string](tb, fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel))
}

func jsq(s string) string { b, _ := json.Marshal(s); return string(b) }

// TestBrowserWholeEvent runs a small event: the host opens voting from the
// control page, three phones vote by tapping, the screen ranks them, and
// the phones follow the host from contestant to contestant.
func TestBrowserWholeEvent(t *testing.T) {
	t.Parallel()
	chrome := btStartChrome(t)
	srv := btStartServer(t, "")
	names := map[string]string{"c1": "区发改经信局", "c2": "上塘街道", "c3": "区科技园区管委会"}
	srv.api(t, "POST", "/events", map[string]any{
		"id": "e2e", "title": "拱墅区大比武擂台赛",
		"contestants": []map[string]string{
			{"id": "c1", "name": names["c1"], "group": "专项组牵头单位"},
			{"id": "c2", "name": names["c2"], "group": "街道和园区"},
			{"id": "c3", "name": names["c3"], "group": "街道和园区"},
		},
		"rules": map[string]any{"min": 1, "max": 10, "step": 1, "decimals": 2},
	}, nil)

	host := chrome.tab(t, "control", 1440, 900, false)
	host.open(srv.base + "/e/e2e/control#key=" + btHostKey)
	host.wait("the control page to connect", `!document.querySelector('[data-view="run"]').hidden &&
		document.querySelectorAll('[data-standings-body] tr').length === 3 && !document.querySelector('[data-cmd="next"]').disabled`)
	if h := btEval[string](host, `location.hash`); h != "" {
		t.Errorf("the host key stays in the address bar: %q", h)
	}

	screen := chrome.tab(t, "screen", 1920, 1080, false)
	screen.open(srv.screenURL("e2e"))
	screen.wait("the screen's lobby", `!document.querySelector('[data-mode="lobby"]').hidden`)

	var phones []*btTab
	for i := range 3 {
		p := chrome.tab(t, fmt.Sprintf("phone%d", i+1), 390, 844, true)
		p.open(srv.voteURL(t, "e2e"))
		p.wait("the vote page", `!document.querySelector('[data-view="event"]').hidden`)
		phones = append(phones, p)
	}

	onStage := func(c string) {
		t.Helper()
		for _, p := range phones {
			p.wait(names[c]+" on stage", `document.querySelector('[data-stage-name]').textContent === `+jsq(names[c]))
		}
	}
	votingOpen := func(c string) {
		t.Helper()
		for _, p := range phones {
			p.wait("voting open for "+c, `(() => { const b = document.querySelector('[data-ballot="`+c+`"] [data-score="5"]'); return b && !b.disabled; })()`)
		}
	}
	// hostSees waits until the control page shows c on stage, not yet
	// voting, so that its Space or button opens (not closes) voting.
	hostSees := func(c string) {
		t.Helper()
		host.wait(names[c]+" on the control page", `document.querySelector('[data-stage-name]').textContent === `+jsq(names[c])+
			` && document.querySelector('[data-phase]').classList.contains("phase-presenting") && !document.querySelector('[data-cmd="toggle-voting"]').disabled`)
	}
	vote := func(c string, scores ...int) {
		t.Helper()
		for i, p := range phones {
			p.do(chromedp.Tap(chromedp.CSS(fmt.Sprintf(`[data-ballot=%q] [data-score="%d"]`, c, scores[i]))))
		}
		for i, p := range phones {
			p.wait(fmt.Sprintf("the receipt of %d for %s", scores[i], c), fmt.Sprintf(
				`(() => { const r = document.querySelector('[data-receipt="%s"]'); return r && r.classList.contains("ok") && r.textContent.indexOf("%d 分") >= 0; })()`, c, scores[i]))
		}
	}

	// The host puts the first contestant on stage and opens voting, by
	// clicking the buttons.
	host.do(chromedp.Click(chromedp.CSS(`[data-cmd="next"]`)))
	onStage("c1")
	screen.wait("the screen's live view", `!document.querySelector('[data-mode="live"]').hidden`)
	hostSees("c1")
	host.do(chromedp.Click(chromedp.CSS(`[data-cmd="toggle-voting"]`)))
	votingOpen("c1")
	vote("c1", 8, 6, 9)

	if dir := os.Getenv("LEITAI_SCREENSHOTS"); dir != "" {
		// The short scale, one tap per score, on a small phone.
		phones[0].viewport(360, 640, true)
		phones[0].wait("animations to settle", btSettled)
		png, err := chromedp.Run(phones[0].ctx, chromedp.CaptureScreenshot())
		if err == nil {
			err = os.MkdirAll(dir, 0o755)
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "vote-short-360x640.png"), png, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}

	// → on the keyboard moves on (voting is open: it asks, and a second →
	// confirms); the phones follow. Space opens voting.
	host.do(chromedp.KeyEvent(kb.ArrowRight))
	host.wait("the question", `document.querySelector('[data-confirm]').open`)
	host.do(chromedp.KeyEvent(kb.ArrowRight))
	onStage("c2")
	for _, p := range phones {
		p.wait("voting not yet open for c2", `document.querySelector('[data-ballot="c2"] [data-score="5"]').disabled`)
	}
	hostSees("c2")
	host.do(chromedp.KeyEvent(" "))
	votingOpen("c2")
	vote("c2", 5, 6, 7)

	host.do(chromedp.Click(chromedp.CSS(`[data-cmd="next"]`)))
	host.wait("the question", `document.querySelector('[data-confirm]').open`)
	host.do(chromedp.Click(chromedp.CSS(`[data-confirm-ok]`)))
	onStage("c3")
	hostSees("c3")
	host.do(chromedp.Click(chromedp.CSS(`[data-cmd="toggle-voting"]`)))
	votingOpen("c3")
	vote("c3", 10, 9, 10)

	// The server agrees, and the screen shows the ranking in order with
	// the right scores: c3 9.67, c1 7.67, c2 6.00.
	sd := srv.standings(t, "e2e")
	if sd.Ballots != 9 || sd.Rows[0].Contestant != "c3" || sd.Rows[1].Contestant != "c1" || sd.Rows[2].Contestant != "c2" {
		t.Fatalf("standings %+v", sd)
	}
	const want = "c3 1 9.67|c1 2 7.67|c2 3 6.00"
	screen.wait("the screen's ranking "+want, `Array.from(document.querySelectorAll('[data-board="*"] > li')).map(li =>
		li.dataset.id + " " + li.querySelector(".rank").textContent + " " + li.querySelector(".score").textContent).join("|") === `+jsq(want))
	if got := screen.text(`[data-board="*"] > li:first-child .name`); got != names["c3"] {
		t.Errorf("the screen's first row is %q", got)
	}
	if got := screen.text(`[data-now-name]`); got != names["c3"] {
		t.Errorf("the screen shows %q on stage", got)
	}
	host.wait("the control page's standings", `Array.from(document.querySelectorAll('[data-standings-body] tr')).map(tr => tr.dataset.id + " " + tr.querySelector(".final").textContent).join("|") === "c3 9.67|c1 7.67|c2 6.00"`)

	// Resetting a contestant asks first, then the phones forget their
	// ballots for it.
	host.do(chromedp.Click(chromedp.CSS(`[data-row-reset="c2"]`)))
	host.wait("the confirmation", `document.querySelector('[data-confirm]').open && document.querySelector('[data-confirm-text]').textContent.indexOf(`+jsq(names["c2"])+`) >= 0`)
	host.do(chromedp.Click(chromedp.CSS(`[data-confirm-ok]`)))
	host.wait("the reset to be done", `!document.querySelector('[data-confirm]').open && document.querySelector('[data-toasts] .toast.ok')`)
	if row := btRow(t, srv.standings(t, "e2e"), "c2"); row.Ballots != 0 {
		t.Errorf("c2 after the reset: %+v", row)
	}
	for _, p := range phones {
		p.wait("the phone to forget its c2 ballot", `(() => { const m = JSON.parse(localStorage.getItem("leitai.ballots.e2e.")); return !m.c2 && m.c1 && m.c3; })()`)
	}

	// Closing voting (Space) shows on the phones.
	host.do(chromedp.KeyEvent(" "))
	for _, p := range phones {
		p.wait("voting closed", `document.querySelector('[data-phase-pill]').classList.contains("closed")`)
		if txt := p.text(`[data-receipt="c3"]`); !strings.Contains(txt, "以此分为准") {
			t.Errorf("%s: the closed receipt reads %q", p.name, txt)
		}
	}

	for _, tb := range append([]*btTab{host, screen}, phones...) {
		tb.check()
	}
}

// btProxy stands between a phone and the server so that a test can cut
// the phone's WebSocket (and refuse new ones), or let ballots through while
// swallowing the server's answers, as a flaky hall Wi-Fi does.
type btProxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	conns   map[net.Conn]bool // → whether it carries a WebSocket
	blockWS bool
	muteWS  bool
	down    bool // refuse every connection: the network is gone
}

func btStartProxy(t *testing.T, target string) *btProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &btProxy{ln: ln, target: target, conns: make(map[net.Conn]bool)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		for c := range p.conns {
			_ = c.Close()
		}
		p.mu.Unlock()
	})
	return p
}

func (p *btProxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *btProxy) serve(c net.Conn) {
	br := bufio.NewReader(c)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := br.ReadString('\n')
	_ = c.SetReadDeadline(time.Time{})
	if err != nil {
		_ = c.Close()
		return
	}
	ws := strings.Contains(line, "/ws?") || strings.Contains(line, "/ws ")
	p.mu.Lock()
	if p.down || (ws && p.blockWS) {
		p.mu.Unlock()
		_ = c.Close()
		return
	}
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		p.mu.Unlock()
		_ = c.Close()
		return
	}
	p.conns[c], p.conns[s] = ws, ws
	p.mu.Unlock()
	done := func() {
		_ = c.Close()
		_ = s.Close()
		p.mu.Lock()
		delete(p.conns, c)
		delete(p.conns, s)
		p.mu.Unlock()
	}
	go func() {
		defer done()
		if _, err := io.WriteString(s, line); err != nil {
			return
		}
		_, _ = io.Copy(s, br)
	}()
	go func() {
		defer done()
		buf := make([]byte, 32<<10)
		for {
			n, err := s.Read(buf)
			if n > 0 {
				p.mu.Lock()
				mute := ws && p.muteWS
				p.mu.Unlock()
				if !mute {
					if _, werr := c.Write(buf[:n]); werr != nil {
						return
					}
				}
			}
			if err != nil {
				return
			}
		}
	}()
}

// cut closes every WebSocket and refuses new ones until restore.
func (p *btProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blockWS = true
	for c, ws := range p.conns {
		if ws {
			_ = c.Close()
		}
	}
}

// cutAll closes every connection and refuses new ones until restore: the
// phone's network is gone, plain HTTP too.
func (p *btProxy) cutAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		_ = c.Close()
	}
}

// mute swallows what the server sends on WebSockets (acks included).
func (p *btProxy) mute() {
	p.mu.Lock()
	p.muteWS = true
	p.mu.Unlock()
}

func (p *btProxy) restore() {
	p.mu.Lock()
	p.blockWS, p.muteWS, p.down = false, false, false
	p.mu.Unlock()
}

// TestBrowserBallotSurvivesDroppedConnection: a phone taps while its
// connection is down, while its acks are lost, and reloads while a ballot
// is pending; every time the ballot is resent with its original id and
// counts exactly once.
func TestBrowserBallotSurvivesDroppedConnection(t *testing.T) {
	t.Parallel()
	chrome := btStartChrome(t)
	srv := btStartServer(t, "")
	srv.api(t, "POST", "/events", map[string]any{
		"id": "flaky", "title": "断网测试",
		"contestants": []map[string]string{{"id": "c1", "name": "区商务局"}, {"id": "c2", "name": "康桥街道"}},
		"rules":       map[string]any{"min": 1, "max": 10, "step": 1, "decimals": 2},
	}, nil)
	srv.stage(t, "flaky", map[string]any{"action": "next"})
	srv.stage(t, "flaky", map[string]any{"action": "open"})

	proxy := btStartProxy(t, srv.m.Addr)
	phone := chrome.tab(t, "phone", 390, 844, true)
	phone.allow = regexp.MustCompile(`WebSocket connection to .* failed|net::ERR_`)
	phone.open(proxy.URL() + "/e/flaky" + srv.joinQuery("flaky"))
	ready := `(() => { const b = document.querySelector('[data-ballot="c1"] [data-score="7"]'); return b && !b.disabled; })()`
	phone.wait("voting open", ready)
	credential := btEval[string](phone, `JSON.parse(localStorage.getItem("leitai.credential.flaky"))`)
	if v, ok := srv.m.Credentials.Voter(credential); !ok || v != btEval[string](phone, `JSON.parse(localStorage.getItem("leitai.voter.flaky"))`) {
		t.Fatalf("the phone's credential %q (voter %q) is not one the server issued", credential, v)
	}
	voter := url.QueryEscape(credential)
	pendingID := func() string {
		return btEval[string](phone, `(() => { const m = JSON.parse(localStorage.getItem("leitai.ballots.flaky.") || "{}"); return m.c1 && m.c1.state === "pending" ? m.c1.id : ""; })()`)
	}
	counted := func(score float64) {
		t.Helper()
		phone.wait(fmt.Sprintf("the receipt of %g", score), fmt.Sprintf(
			`window.__leitai.pending() === 0 && document.querySelector('[data-receipt="c1"]').classList.contains("ok") && document.querySelector('[data-receipt="c1"]').textContent.indexOf("%g 分") >= 0`, score))
		var mine struct{ Ballots []voting.CountedBallot }
		srv.api(t, "GET", "/events/flaky/ballots?credential="+voter, nil, &mine)
		if len(mine.Ballots) != 1 || mine.Ballots[0].Points() != score {
			t.Fatalf("the voter's ballots: %+v", mine.Ballots)
		}
		row := btRow(t, srv.standings(t, "flaky"), "c1")
		if row.Ballots != 1 || row.Final != score {
			t.Fatalf("c1 standing %+v; want one ballot of %g", row, score)
		}
	}

	// 1. Offline (no network at all, so no HTTP fallback either): the tap
	// is kept, the page says so, and the ballot goes out when the
	// connection is back.
	proxy.cutAll()
	phone.wait("the offline banner", `!document.querySelector('[data-banner]').hidden`)
	phone.do(chromedp.Tap(chromedp.CSS(`[data-ballot="c1"] [data-score="7"]`)))
	phone.wait("a pending ballot", `window.__leitai.pending() === 1 && document.querySelector('[data-receipt="c1"]').classList.contains("pending")`)
	first := pendingID()
	if first == "" {
		t.Fatal("the pending ballot is not in localStorage")
	}
	if row := btRow(t, srv.standings(t, "flaky"), "c1"); row.Ballots != 0 {
		t.Fatalf("a ballot arrived through a cut connection: %+v", row)
	}
	proxy.restore()
	phone.wait("the banner to go", `document.querySelector('[data-banner]').hidden`)
	counted(7)
	if btEval[string](phone, `JSON.parse(localStorage.getItem("leitai.ballots.flaky."))["c1"].id`) != first {
		t.Errorf("the counted ballot has another id than the one sent offline")
	}

	// 2. The ack is lost: the server counts the ballot, the phone does not
	// know. After reconnecting it learns (or resends the same id) and the
	// ballot still counts once.
	proxy.mute()
	phone.do(chromedp.Tap(chromedp.CSS(`[data-ballot="c1"] [data-score="5"]`)))
	phone.wait("a pending ballot", `window.__leitai.pending() === 1`)
	second := pendingID()
	if second == "" || second == first {
		t.Fatalf("a new score needs a new ballot id: %q after %q", second, first)
	}
	deadline := time.Now().Add(20 * time.Second)
	for btRow(t, srv.standings(t, "flaky"), "c1").Final != 5 {
		if time.Now().After(deadline) {
			t.Fatal("the server never counted the ballot whose ack was lost")
		}
		time.Sleep(50 * time.Millisecond)
	}
	proxy.cut()
	proxy.restore()
	counted(5)

	// 3. A reload while a ballot is pending: the page resends it, with the
	// same id, once. (Only the socket is cut: after a few failed opens
	// the page may send it over HTTP instead, same id.)
	proxy.cut()
	phone.wait("the offline banner", `!document.querySelector('[data-banner]').hidden`)
	phone.do(chromedp.Tap(chromedp.CSS(`[data-ballot="c1"] [data-score="9"]`)))
	phone.wait("a pending ballot", `window.__leitai.pending() === 1`)
	third := pendingID()
	phone.do(chromedp.Reload())
	phone.wait("the page to show the pending (or, over HTTP, counted) ballot", `window.__leitai && document.querySelector('[data-receipt="c1"]') &&
		(window.__leitai.pending() === 1 && document.querySelector('[data-receipt="c1"]').classList.contains("pending") ||
		 window.__leitai.pending() === 0 && document.querySelector('[data-receipt="c1"]').classList.contains("ok"))`)
	if got := btEval[string](phone, `JSON.parse(localStorage.getItem("leitai.ballots.flaky.")).c1.id`); got != third {
		t.Fatalf("after the reload the pending ballot is %q, want %q", got, third)
	}
	proxy.restore()
	phone.wait("voting open after the reload", ready)
	counted(9)
	var mine struct{ Ballots []voting.CountedBallot }
	srv.api(t, "GET", "/events/flaky/ballots?credential="+voter, nil, &mine)
	if mine.Ballots[0].ID != third {
		t.Errorf("the counted ballot is %s; the one sent before the reload was %s", mine.Ballots[0].ID, third)
	}
	if sd := srv.standings(t, "flaky"); sd.Ballots != 1 {
		t.Errorf("%d ballots in all; want 1", sd.Ballots)
	}
	phone.check()
}

// btSettled holds when no finite animation runs (rows have moved, cards
// have flipped in), so that a screenshot shows the page at rest.
const btSettled = `document.getAnimations().every(a => { const tm = a.effect.getComputedTiming(); return tm.iterations === Infinity || tm.duration > 5000 || a.playState !== "running"; })`

// exampleCSV is shared/example-contestants.csv: the 16 units of the
// example article, in two groups.
const exampleCSV = `order,name,group
1,区发改经信局,专项组牵头单位
2,区商务局,专项组牵头单位
3,区住建局,专项组牵头单位
4,区财政局,专项组牵头单位
5,区投促局,专项组牵头单位
6,上塘街道,街道和园区
7,祥符街道,街道和园区
8,康桥街道,街道和园区
9,半山街道,街道和园区
10,米市巷街道,街道和园区
11,湖墅街道,街道和园区
12,小河街道,街道和园区
13,拱宸桥街道,街道和园区
14,和睦街道,街道和园区
15,大关街道,街道和园区
16,区科技园区管委会,街道和园区
`

// TestBrowserScreenshots sets up the example event from the control page
// (CSV pasted in, two panels), fills it with ballots and takes screenshots
// of every page at its sizes into $LEITAI_SCREENSHOTS (default: a temporary
// directory), checking on the way that nothing overflows.
func TestBrowserScreenshots(t *testing.T) {
	t.Parallel()
	dir := os.Getenv("LEITAI_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	chrome := btStartChrome(t)
	srv := btStartServer(t, "http://192.168.1.20:8080")
	const ev = "gongshu-2020"
	const judgeKey = "judges-2020"
	shoot := func(tb *btTab, name string) {
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
	// fits: nothing scrolls sideways, and (on the screen) nothing scrolls
	// at all and every ranking row is inside the window.
	fits := func(tb *btTab, whole bool) {
		t.Helper()
		tb.wait("animations to settle", btSettled)
		problem := btEval[string](tb, `(() => {
			const d = document.documentElement, out = [];
			if (d.scrollWidth > innerWidth) out.push("scrollWidth " + d.scrollWidth);
			if (`+fmt.Sprint(whole)+`) {
				if (d.scrollHeight > innerHeight) out.push("scrollHeight " + d.scrollHeight);
				document.querySelectorAll(".board:not([hidden]) > li, .rrow, .step, .panel, .qr-frame").forEach(el => {
					const r = el.getBoundingClientRect();
					if (r.width && (r.bottom > innerHeight + 0.5 || r.right > innerWidth + 0.5)) out.push(el.className + " ends at " + Math.round(r.right) + "," + Math.round(r.bottom));
				});
			}
			return out.join("; ");
		})()`)
		if problem != "" {
			t.Errorf("%s overflows its %s window: %s", tb.name, btEval[string](tb, `innerWidth + "×" + innerHeight`), problem)
		}
	}
	// Set the event up from the control page: it does not exist yet.
	host := chrome.tab(t, "control", 1440, 900, false)
	host.open(srv.base + "/e/" + ev + "/control#key=" + btHostKey)
	host.wait("the setup form", `!document.querySelector('[data-view="setup"]').hidden && !document.querySelector('[data-setup-notice]').hidden`)
	host.do(
		chromedp.SetValue(chromedp.CSS(`[data-f-title]`), "拱墅区“战疫情促发展”大比武擂台赛"),
		chromedp.SetValue(chromedp.CSS(`[data-f-contestants]`), exampleCSV),
		chromedp.SetValue(chromedp.CSS(`[data-f-min]`), "60"),
		chromedp.SetValue(chromedp.CSS(`[data-f-max]`), "100"),
		chromedp.SetValue(chromedp.CSS(`[data-f-step]`), "0.5"),
		chromedp.SetValue(chromedp.CSS(`[data-f-trim]`), "1"),
		chromedp.SetValue(chromedp.CSS(`[data-panels] .item-row:nth-child(1) [name=pweight]`), "60"),
		chromedp.Click(chromedp.CSS(`[data-action="add-panel"]`)),
		chromedp.SetValue(chromedp.CSS(`[data-panels] .item-row:nth-child(2) [name=pname]`), "专家评委"),
		chromedp.SetValue(chromedp.CSS(`[data-panels] .item-row:nth-child(2) [name=pweight]`), "40"),
		chromedp.SetValue(chromedp.CSS(`[data-panels] .item-row:nth-child(2) [name=pkey]`), judgeKey),
		chromedp.Click(chromedp.CSS(`[data-save]`)),
	)
	host.wait("the event to be created", `!document.querySelector('[data-tabs]').hidden && document.querySelector('[data-setup-notice]').hidden`)
	var created voting.Event
	srv.api(t, "GET", "/events/"+ev, nil, &created)
	rows, err := csv.NewReader(strings.NewReader(exampleCSV)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(created.Contestants) != 16 || len(created.Panels) != 2 || created.Panels[1].Key != judgeKey ||
		created.Rules.Min != 60 || created.Rules.Step != 0.5 || created.Rules.Trim != 1 {
		t.Fatalf("the control page created %+v", created)
	}
	for i, c := range created.Contestants {
		if c.Name != rows[i+1][1] || c.Group != rows[i+1][2] {
			t.Errorf("contestant %d is %+v; want %v", i+1, c, rows[i+1])
		}
	}
	// The page's CSV reader: quotes, doubled quotes, line breaks inside
	// quotes, an order column, Chinese headers, tab-separated text.
	ctx, cancel := context.WithTimeout(host.ctx, 20*time.Second)
	parsed, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const url = performance.getEntriesByType("resource").map(e => e.name).filter(n => /\/assets\/csv\.[0-9a-f]+\.js$/.test(n))[0];
		return import(url).then(m => JSON.stringify([
			m.parseContestants('order,name,group\n2,"Foo, ""Bar""",G1\n1,"Multi\nline",G2\n'),
			m.parseContestants('序号,名称,组别\r\n1,甲,一组\r\n2,乙,二组'),
			m.parseContestants('名称\t组别\n丙\t三组'),
			m.parseContestants('甲\n乙,二组\n\n'),
		]));
	})()`, chromedp.EvalAwaitPromise))
	cancel()
	if err != nil {
		t.Fatalf("csv.js: %v", err)
	}
	const wantParsed = `[[{"name":"Multi\nline","group":"G2"},{"name":"Foo, \"Bar\"","group":"G1"}],` +
		`[{"name":"甲","group":"一组"},{"name":"乙","group":"二组"}],[{"name":"丙","group":"三组"}],` +
		`[{"name":"甲","group":""},{"name":"乙","group":"二组"}]]`
	if parsed != wantParsed {
		t.Errorf("parseContestants:\n got %s\nwant %s", parsed, wantParsed)
	}
	host.wait("the judges' link", `document.querySelector(".judge-link code") && document.querySelector(".judge-link code").textContent.indexOf("panelKey=`+judgeKey+`") > 0`)
	host.do(chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	shoot(host, "control-setup-1440x900.png")

	screen := chrome.tab(t, "screen", 1920, 1080, false)
	screen.open(srv.screenURL(ev))
	screen.wait("the lobby", `!document.querySelector('[data-mode="lobby"]').hidden && document.querySelector('[data-lobby-title]').textContent !== ""`)
	fits(screen, true)
	shoot(screen, "screen-lobby-1920x1080.png")

	// Ballots for every contestant through the API: audience and judges.
	rng := rand.New(rand.NewSource(2020))
	for i, c := range created.Contestants {
		srv.stage(t, ev, map[string]any{"action": "jump", "contestant": c.ID})
		srv.stage(t, ev, map[string]any{"action": "open"})
		base := 78 + rng.Float64()*16
		for v := range 6 + rng.Intn(9) {
			score := float64(int((base+rng.NormFloat64()*4)*2+0.5)) / 2
			score = max(60, min(100, score))
			srv.api(t, "POST", "/events/"+ev+"/ballots", map[string]any{
				"id": uuid.NewString(), "credential": srv.m.Credentials.For(fmt.Sprintf("audience-%d", v)), "contestant": c.ID, "score": score}, nil)
		}
		for v := range 3 {
			score := float64(int((base+rng.NormFloat64()*3)*2+0.5)) / 2
			srv.api(t, "POST", "/events/"+ev+"/ballots", map[string]any{
				"id": uuid.NewString(), "credential": srv.m.Credentials.For(fmt.Sprintf("judge-%d", v)), "contestant": c.ID, "panel": "judges",
				"panelKey": judgeKey, "score": max(60, min(100, score))}, nil)
		}
		if i != 6 {
			srv.stage(t, ev, map[string]any{"action": "close"})
		}
	}
	srv.stage(t, ev, map[string]any{"action": "jump", "contestant": "c7"})
	srv.stage(t, ev, map[string]any{"action": "open"})
	srv.stage(t, ev, map[string]any{"action": "countdown", "seconds": 90})
	sd := srv.standings(t, ev)

	// The screen with the live ranking: every row with its final score.
	var want []string
	for _, r := range sd.Rows {
		want = append(want, r.Contestant+" "+fmt.Sprintf("%.2f", r.Final))
	}
	wantRows := jsq(strings.Join(want, "|"))
	boardDone := `Array.from(document.querySelectorAll('[data-board="*"] > li')).map(li => li.dataset.id + " " + li.querySelector(".score").textContent).join("|") === ` + wantRows
	screen.wait("the live ranking", `!document.querySelector('[data-mode="live"]').hidden && `+boardDone)
	screen.wait("the countdown", `!document.querySelector('[data-clock]').hidden`)
	screen.do(chromedp.KeyEvent("1")) // stay on the overall ranking
	for _, size := range [][2]int64{{1920, 1080}, {1280, 720}, {1024, 768}} {
		screen.viewport(size[0], size[1], false)
		screen.wait("the layout", `innerWidth === `+fmt.Sprint(size[0]))
		screen.wait("the tab of the overall ranking", boardDone+` && !document.querySelector('[data-board="*"]').hidden`)
		fits(screen, true)
		shoot(screen, fmt.Sprintf("screen-ranking-%dx%d.png", size[0], size[1]))
	}
	// A group's ranking (the screen rotates through the tabs; 2 pins it).
	screen.viewport(1920, 1080, false)
	screen.do(chromedp.KeyEvent("2"))
	screen.wait("the first group's board", `!document.querySelector('[data-board="专项组牵头单位"]').hidden && document.querySelectorAll('[data-board="专项组牵头单位"] > li').length === 5`)
	fits(screen, true)
	shoot(screen, "screen-group-1920x1080.png")
	screen.do(chromedp.KeyEvent("0"))

	// The host hides the ranking: the screen shows the QR code large.
	host.do(chromedp.Click(chromedp.CSS(`[data-tab="run"]`)))
	host.wait("the run view", `!document.querySelector('[data-view="run"]').hidden && document.querySelectorAll('[data-standings-body] tr').length === 16`)
	host.do(chromedp.KeyEvent("h"))
	screen.wait("the hidden ranking", `!document.querySelector('[data-hidden-ranking]').hidden && document.querySelector('[data-boards]').hidden`)
	fits(screen, true)
	shoot(screen, "screen-hidden-1920x1080.png")
	host.wait("the control page to know", `document.querySelector('[data-ranking-state]').textContent === "排名已隐藏"`)
	host.do(chromedp.KeyEvent("h"))
	screen.wait("the ranking back", `document.querySelector('[data-hidden-ranking]').hidden`)

	// Phones: the long scale (60–100 in 0.5 steps) with quick picks.
	phone := chrome.tab(t, "phone", 390, 844, true)
	phone.open(srv.voteURL(t, ev))
	phone.wait("the ballot", `(() => { const b = document.querySelector('[data-ballot="c7"] [data-pick="90"]'); return b && !b.disabled; })()`)
	phone.do(
		chromedp.Tap(chromedp.CSS(`[data-ballot="c7"] [data-pick="90"]`)),
		chromedp.Tap(chromedp.CSS(`[data-ballot="c7"] .step-btn:last-of-type`)),
	)
	phone.wait("90.5 chosen", `document.querySelector('[data-ballot="c7"] .fine-value').value === "90.5"`)
	phone.do(chromedp.Tap(chromedp.CSS(`[data-submit="c7"]`)))
	phone.wait("the receipt", `document.querySelector('[data-receipt="c7"]').classList.contains("ok") && document.querySelector('[data-receipt="c7"]').textContent.indexOf("90.5 分") >= 0`)
	fits(phone, false)
	shoot(phone, "vote-390x844.png")

	judge := chrome.tab(t, "judge", 360, 640, true)
	judge.open(srv.base + "/e/" + ev + "?panel=judges&panelKey=" + judgeKey)
	judge.wait("the judge's ballot", `!document.querySelector('[data-panel-badge]').hidden && document.querySelector('[data-ballot="c7"]')`)
	fits(judge, false)
	shoot(judge, "vote-judge-360x640.png")
	// English, remembered across a reload, like the judge's panel (the
	// reload drops the query string).
	judge.do(chromedp.Click(chromedp.CSS(`[data-lang-toggle]`)))
	judge.wait("English", `document.documentElement.lang === "en" && document.querySelector('[data-stage-label]').textContent === "On stage"`)
	judge.open(srv.base + "/e/" + ev)
	judge.wait("the judge's panel and English remembered", `document.documentElement.lang === "en" && !document.querySelector('[data-panel-badge]').hidden && document.querySelector('[data-panel-badge]').textContent.indexOf("专家评委") >= 0 && document.querySelector('[data-view="event"]') && !document.querySelector('[data-view="event"]').hidden`)
	shoot(judge, "vote-judge-en-360x640.png")

	host.wait("the control page's standings", `document.querySelectorAll('[data-standings-body] tr.current').length === 1`)
	shoot(host, "control-run-1440x900.png")

	// The reveal, from the last place up, with the podium.
	host.do(chromedp.KeyEvent(" ")) // close voting
	host.wait("voting closed", `document.querySelector('[data-phase]').classList.contains("phase-closed")`)
	for i := range 14 {
		host.do(chromedp.KeyEvent("r"))
		host.wait(fmt.Sprintf("reveal step %d", i+1), fmt.Sprintf(`document.querySelector('[data-revealed]').textContent.indexOf("%d / 16") >= 0`, i+1))
	}
	third := sd.Rows[2]
	screen.wait("the third place on the podium", `document.querySelector('.step.p3.revealed .score') && document.querySelector('.step.p3 .score').textContent === `+jsq(fmt.Sprintf("%.2f", third.Final))+
		` && !document.querySelector('.step.p2').classList.contains("revealed")`)
	fits(screen, true)
	shoot(screen, "screen-reveal-1920x1080.png")
	// Two quick presses would be one (ifVersion): press, wait, press.
	for _, n := range []int{15, 16} {
		host.do(chromedp.KeyEvent("r"))
		host.wait(fmt.Sprintf("reveal step %d", n), fmt.Sprintf(`document.querySelector('[data-revealed]').textContent.indexOf("%d / 16") >= 0`, n))
	}
	winner := sd.Rows[0]
	screen.wait("the winner", `document.querySelector('.step.p1.revealed') && document.querySelector('.step.p1 .score').textContent === `+jsq(fmt.Sprintf("%.2f", winner.Final)))
	if got := screen.text(`.step.p1 .name`); got != created.Contestants[indexOf(created, winner.Contestant)].Name {
		t.Errorf("the podium's winner is %q", got)
	}
	for _, size := range [][2]int64{{1920, 1080}, {1280, 720}, {1024, 768}} {
		screen.viewport(size[0], size[1], false)
		screen.wait("the layout", `innerWidth === `+fmt.Sprint(size[0]))
		fits(screen, true)
		shoot(screen, fmt.Sprintf("screen-podium-%dx%d.png", size[0], size[1]))
	}
	phone.wait("the phone's final ranking", `!document.querySelector('[data-ranking]').hidden && document.querySelectorAll('[data-ranking-list] li').length === 16`)
	shoot(phone, "vote-reveal-390x844.png")

	for _, tb := range []*btTab{host, screen, phone, judge} {
		tb.check()
	}
	t.Logf("screenshots in %s", dir)
}

func indexOf(ev voting.Event, id string) int {
	_, i, _ := ev.Contestant(id)
	return i
}
