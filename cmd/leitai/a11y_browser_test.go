package main

// The accessibility audit: axe-core (vendored in testdata/axe, no network
// at test time) run in Chromium on every page in the states a hall sees
// them. Any serious or critical finding fails the test.

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"leitai/voting"
)

// axeSource is testdata/axe/axe.min.js, read once.
func axeSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/axe/axe.min.js")
	if err != nil {
		t.Fatalf("the vendored axe-core: %v", err)
	}
	return string(b)
}

// axeFinding is one violated rule on one page, as axe reports it.
type axeFinding struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeAudit injects axe (once per document) and runs every rule, the
// experimental ones included (label-content-name-mismatch is one), on the
// page as it is. It returns the serious and critical findings.
func axeAudit(t *testing.T, tb *btTab, src string) []axeFinding {
	t.Helper()
	tb.wait("animations to settle", btSettled)
	if !btEval[bool](tb, `typeof window.axe === "object"`) {
		ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
		_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](src))
		cancel()
		if err != nil {
			t.Fatalf("%s: inject axe: %v", tb.name, err)
		}
	}
	ctx, cancel := context.WithTimeout(tb.ctx, 60*time.Second)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const rules = {};
		axe.getRules(["experimental"]).forEach(r => { rules[r.ruleId] = { enabled: true }; });
		return axe.run(document, { rules: rules, resultTypes: ["violations"] }).then(res => JSON.stringify(
			res.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({
				id: v.id, impact: v.impact, help: v.help,
				nodes: v.nodes.map(n => n.target.join(" ") + " — " + (n.failureSummary || "").replace(/\s+/g, " ").slice(0, 300)),
			}))));
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe.run: %v", tb.name, err)
	}
	var found []axeFinding
	if err := json.Unmarshal([]byte(out), &found); err != nil {
		t.Fatalf("%s: axe's answer %s: %v", tb.name, out, err)
	}
	return found
}

// TestBrowserAccessibility audits the control page (key form, run, setup,
// after the end), the vote page (lobby, voting, closed, reveal), the
// screen (lobby, voting, reveal, the end), the results page (published, as
// the public sees it) and the ticket sheet, in Chinese and in English.
func TestBrowserAccessibility(t *testing.T) {
	t.Parallel()
	src := axeSource(t)
	chrome := btStartChrome(t)
	srv := ctlStartServer(t, "http://192.168.1.20:8080")
	const ev = "gongshu-2020"
	problems := 0
	audit := func(tb *btTab, state string) {
		t.Helper()
		for _, f := range axeAudit(t, tb, src) {
			problems++
			t.Errorf("%s (%s): %s [%s] %s:\n    %s", tb.name, state, f.ID, f.Impact, f.Help, strings.Join(f.Nodes, "\n    "))
		}
	}

	// Before anything: the control page's key form, the lobby everywhere.
	keyForm := chrome.tab(t, "control key form", 1366, 768, false)
	keyForm.open(srv.base + "/e/" + ev + "/control")
	keyForm.wait("the key form", `!document.querySelector('[data-view="key"]').hidden`)
	audit(keyForm, "key form")

	host := chrome.tab(t, "control", 1366, 768, false)
	host.open(srv.base + "/e/" + ev + "/control#key=" + btHostKey)
	ctlWaitRun(host)
	screen := chrome.tab(t, "screen", 1920, 1080, false)
	screen.open(srv.screenURL(ev))
	screen.wait("the lobby", `!document.querySelector('[data-mode="lobby"]').hidden && document.querySelector('[data-lobby-title]').textContent !== ""`)
	phone := chrome.tab(t, "vote", 390, 844, true)
	phone.open(srv.voteURL(t, ev))
	phone.wait("the vote page", `!document.querySelector('[data-view="event"]').hidden`)
	audit(host, "lobby")
	audit(screen, "lobby")
	audit(phone, "lobby")

	// Voting on the third unit, with ballots for the first three, a
	// countdown running and the ranking shown.
	ctlBallots(t, srv, ev, 3)
	srv.stage(t, ev, map[string]any{"action": "open"})
	srv.stage(t, ev, map[string]any{"action": "countdown", "seconds": 600})
	phone.wait("voting open", `(() => { const b = document.querySelector('[data-ballot="u03"] [data-pick="90"]'); return b && !b.disabled; })()`)
	host.wait("voting open", `document.querySelector('[data-phase]').classList.contains("phase-voting")`)
	screen.wait("the live ranking", `!document.querySelector('[data-mode="live"]').hidden && !document.querySelector('[data-clock]').hidden`)
	audit(host, "voting")
	audit(screen, "voting")
	audit(phone, "voting")
	phone.do(chromedp.Tap(chromedp.CSS(`[data-ballot="u03"] [data-pick="90"]`)), chromedp.Tap(chromedp.CSS(`[data-submit="u03"]`)))
	phone.wait("the receipt", `document.querySelector('[data-receipt="u03"]').classList.contains("ok")`)
	audit(phone, "voted")
	judge := chrome.tab(t, "vote judge", 390, 844, true)
	judge.open(srv.base + "/e/" + ev + "?panel=judges&panelKey=judges-change-me")
	judge.wait("the judge's ballot", `!document.querySelector('[data-panel-badge]').hidden && document.querySelector('[data-ballot="u03"]')`)
	audit(judge, "judge voting")

	host.do(chromedp.Click(chromedp.CSS(`[data-tab="setup"]`)))
	host.wait("the setup form", `!document.querySelector('[data-view="setup"]').hidden && document.querySelectorAll('[data-panels] .item-row').length === 2`)
	audit(host, "setup")
	host.do(chromedp.Click(chromedp.CSS(`[data-tab="run"]`)))
	ctlWaitRun(host)

	var issued struct{ Tickets []json.RawMessage }
	srv.api(t, "POST", "/events/"+ev+"/tickets", map[string]any{"panel": "judges", "count": 2}, &issued)
	tickets := chrome.tab(t, "tickets", 1000, 1400, false)
	tickets.open(srv.base + "/e/" + ev + "/tickets#key=" + btHostKey)
	tickets.wait("the ticket cards", `document.querySelectorAll('.tk-card').length === 2`)
	audit(tickets, "sheet")

	srv.stage(t, ev, map[string]any{"action": "close"})
	phone.wait("voting closed", `document.querySelector('[data-phase-pill]').classList.contains("closed")`)
	host.wait("voting closed", `document.querySelector('[data-phase]').classList.contains("phase-closed")`)
	audit(phone, "closed")
	audit(host, "closed")

	// The reveal, half way, then the end.
	sd := srv.standings(t, ev)
	for range voting.RevealSteps(&sd) / 2 {
		srv.stage(t, ev, map[string]any{"action": "reveal"})
	}
	screen.wait("the reveal", `!document.querySelector('[data-mode="reveal"]').hidden`)
	phone.wait("the phone's ranking", `!document.querySelector('[data-ranking]').hidden`)
	audit(screen, "reveal")
	audit(phone, "reveal")
	audit(host, "reveal")
	srv.stage(t, ev, map[string]any{"action": "reveal"})
	srv.stage(t, ev, map[string]any{"action": "end"})
	host.wait("the end", `document.querySelector('[data-phase]').classList.contains("phase-ended")`)
	phone.wait("the end", `document.querySelector('[data-phase-pill]') && /结束/.test(document.body.innerText)`)
	audit(screen, "ended")
	audit(phone, "ended")
	audit(host, "ended")

	srv.api(t, "POST", "/events/"+ev+"/publish", map[string]bool{"published": true}, nil)
	results := chrome.tab(t, "results", 1280, 900, false)
	results.open(srv.base + "/e/" + ev + "/results")
	results.wait("the published results", `document.querySelectorAll("[data-table=overall] tbody tr").length === 16`)
	audit(results, "published")
	results.viewport(390, 844, true)
	results.wait("the phone width", `innerWidth === 390`)
	audit(results, "published, phone")

	// English, on every page.
	for _, tb := range []*btTab{host, screen, phone, results} {
		tb.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("[data-lang-toggle]").click()`))
		tb.wait("English", `document.documentElement.lang === "en"`)
		audit(tb, "ended, English")
	}
	for _, tb := range []*btTab{keyForm, host, screen, phone, judge, results, tickets} {
		tb.check()
	}
	if problems > 0 {
		t.Logf("%d serious or critical findings", problems)
	}
}
