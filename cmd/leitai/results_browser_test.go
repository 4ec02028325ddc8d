package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"leitai/voting"
)

// resultsChromium is the shared Chromium of the browser tests.
func resultsChromium(t *testing.T) *btChrome { return btStartChrome(t) }

// resultsBrowser opens a tab of 1280×900 in a fresh browser context (its
// own profile: no cookies, no storage) of the shared Chromium.
func resultsBrowser(t *testing.T, chrome *btChrome) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(chrome.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelT)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("open a tab in chromium: %v", err)
	}
	return ctx
}

// resultsAPI calls the server's API; key "" sends none.
func resultsAPI(t *testing.T, base, method, path, key string, body, into any) int {
	t.Helper()
	status, data := faultAPI(t, base, method, path, key, body, nil)
	if status >= 300 {
		t.Fatalf("%s %s = %d %s", method, path, status, data)
	}
	if into != nil {
		if err := json.Unmarshal(data, into); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return status
}

var (
	pdfMediaBox = regexp.MustCompile(`/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]`)
	pdfPage     = regexp.MustCompile(`/Type\s*/Page[^s]`)
	a4Points    = [2]float64{595.28, 841.89}
)

// TestResultsPagePrints runs the example event to its end, opens the
// printable results page in Chromium, checks that it names every
// contestant with the standings' numbers, prints it to PDF on A4, and
// checks that the public sees it only once published.
func TestResultsPagePrints(t *testing.T) {
	t.Parallel()
	chrome := resultsChromium(t)
	const key = "results-host-key"
	m := NewMain(Config{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), HostKey: key, LogFormat: "text", LogLevel: "warn",
		StandingsInterval: 50 * time.Millisecond, EventFiles: []string{"../../examples/gongshu-2020.yaml"},
	}, io.Discard, io.Discard)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	base := "http://" + m.Addr
	const id = "gongshu-2020"
	var ev voting.Event
	resultsAPI(t, base, "GET", "/api/events/"+id, key, nil, &ev)
	if len(ev.Contestants) != 16 {
		t.Fatalf("the example has %d contestants", len(ev.Contestants))
	}

	// Run the event: every unit on stage, 7 phones and 3 judges each.
	stage := func(action voting.Action) {
		resultsAPI(t, base, "POST", "/api/events/"+id+"/stage", key, voting.Command{Action: action}, nil)
	}
	for i, c := range ev.Contestants {
		stage(voting.ActionNext)
		stage(voting.ActionOpen)
		for v := range 10 {
			panel, panelKey, voter := "audience", "", fmt.Sprintf("phone-%d", v)
			if v >= 7 {
				panel, panelKey, voter = "judges", ev.Panels[1].Key, fmt.Sprintf("judge-%d", v)
			}
			score := 60 + 0.5*float64((i*29+v*13)%81)
			resultsAPI(t, base, "POST", "/api/events/"+id+"/ballots", "", map[string]any{
				"id": uuid.NewString(), "credential": m.Credentials.For(voter), "contestant": c.ID, "panel": panel, "panelKey": panelKey, "score": score,
			}, nil)
		}
		stage(voting.ActionClose)
	}
	stage(voting.ActionEnd)
	var sd voting.Standings
	resultsAPI(t, base, "GET", "/api/events/"+id+"/standings", key, nil, &sd)

	bctx := resultsBrowser(t, chrome)
	rowsReady := `document.querySelectorAll("[data-table=overall] tbody tr").length === 16`
	if err := chromedp.Do(bctx, chromedp.Navigate(base+"/e/"+id+"/results#key="+key)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](rowsReady, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		text, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("the results page shows no ranking: %v\n%s", err, text)
	}

	// Every contestant, in the order and with the scores of the standings.
	type shown struct {
		ID, Rank, Name, Final string
	}
	rows, err := chromedp.Run(bctx, chromedp.Evaluate[[]shown](`Array.from(document.querySelectorAll("[data-table=overall] tbody tr")).map(tr => ({
		ID: tr.getAttribute("data-contestant"), Rank: tr.querySelector("td.rank").textContent,
		Name: tr.querySelector("td.name .res-name").textContent, Final: tr.querySelector("td.final").textContent}))`))
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range sd.Rows {
		c, _, _ := ev.Contestant(s.Contestant)
		want := shown{ID: c.ID, Rank: strconv.Itoa(s.Rank), Name: c.Name, Final: strconv.FormatFloat(s.Final, 'f', 2, 64)}
		if rows[i] != want {
			t.Errorf("row %d shows %+v, want %+v", i, rows[i], want)
		}
	}
	text, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector("[data-sheet]").innerText`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ev.Contestants {
		if n := strings.Count(text, c.Name); n < 2 {
			t.Errorf("%s appears %d times; want it in the overall table and in its group's", c.Name, n)
		}
	}
	for _, s := range []string{ev.Title, "成绩公告", "结束时间", "总排名", "专项组牵头单位", "街道和园区", "评分规则", "去掉 1 个最高分和 1 个最低分", "计分："} {
		if !strings.Contains(text, s) {
			t.Errorf("the sheet does not say %q", s)
		}
	}

	// Printed: as wide as A4 between its margins (180 mm ≈ 680 px), on A4 pages.
	setMedia := func(media string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: media})
			return err
		})
	}
	if err := chromedp.Do(bctx, setMedia("print"), chromedp.EmulateViewport(680, 1000)); err != nil {
		t.Fatal(err)
	}
	width, err := chromedp.Run(bctx, chromedp.Evaluate[int](`Math.max(document.documentElement.scrollWidth, document.querySelector("[data-sheet]").scrollWidth)`))
	if err != nil {
		t.Fatal(err)
	}
	if width > 681 {
		t.Errorf("printed, the sheet is %d px wide; A4 between 15 mm margins holds 680", width)
	}
	dir := os.Getenv("LEITAI_SHOTS") // where to keep screenshots and the PDF, if set
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(bctx, chromedp.EmulateViewport(794, 1123)); err != nil {
			t.Fatal(err)
		}
		resultsShot(t, bctx, filepath.Join(dir, "results-print-media.png"))
	}
	if err := chromedp.Do(bctx, setMedia(""), chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	if dir != "" {
		resultsShot(t, bctx, filepath.Join(dir, "results-screen.png"))
	}
	pdf, err := chromedp.Run(bctx, chromedp.PrintToPDF(chromedp.PDFPreferCSSPageSize(), chromedp.PDFPrintBackground()))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Fatal("PrintToPDF made no PDF")
	}
	boxes := pdfMediaBox.FindAllSubmatch(pdf, -1)
	if len(boxes) == 0 {
		t.Fatal("the PDF has no page size")
	}
	for _, b := range boxes {
		w, _ := strconv.ParseFloat(string(b[1]), 64)
		h, _ := strconv.ParseFloat(string(b[2]), 64)
		if resultsAbs(w-a4Points[0]) > 3 || resultsAbs(h-a4Points[1]) > 3 {
			t.Errorf("a PDF page is %.2f × %.2f pt, not A4 (%.2f × %.2f)", w, h, a4Points[0], a4Points[1])
		}
	}
	if pages := len(pdfPage.FindAll(pdf, -1)); pages < 1 || pages > 2 {
		t.Errorf("16 contestants print on %d pages, want 1 or 2", pages)
	} else {
		t.Logf("the results print on %d A4 page(s)", pages)
	}
	if dir != "" {
		if err := os.WriteFile(filepath.Join(dir, "results.pdf"), pdf, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// English on request, rules included; then back to Chinese.
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS("[data-lang-toggle]"))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`(t => t.includes("Official results") && t.includes("Final score") && t.includes("highest and 1 lowest are dropped"))(document.querySelector("[data-sheet]").innerText)`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		text, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector("[data-sheet]").innerText`))
		t.Errorf("no English sheet: %v\n%s", err, text)
	}
	if dir != "" {
		resultsShot(t, bctx, filepath.Join(dir, "results-en.png"))
	}
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS("[data-lang-toggle]"))); err != nil {
		t.Fatal(err)
	}

	// The public (no key) sees nothing until the host publishes.
	pctx, pcancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	defer pcancel()
	if err := chromedp.Do(pctx, chromedp.Navigate(base+"/e/"+id+"/results")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(pctx, chromedp.Poll[bool](`document.body.innerText.includes("成绩尚未公布")`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		text, _ := chromedp.Run(pctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("unpublished results: %v\n%s", err, text)
	}
	resultsAPI(t, base, "POST", "/api/events/"+id+"/publish", key, map[string]bool{"published": true}, nil)
	if err := chromedp.Do(pctx, chromedp.Click(chromedp.CSS("[data-reload]"))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(pctx, chromedp.Poll[bool](rowsReady, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("published results not shown to the public: %v", err)
	}
}

func resultsShot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func resultsAbs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
