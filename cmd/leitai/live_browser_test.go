package main

import (
	"encoding/json"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserLiveFrames: the pages' one message handler (conn.js
// applyFrame, which live() runs for the vote page, the screen and the
// control page alike) applies the socket's frames to a page's state: a
// snapshot replaces everything (even with a lower stage version: a
// re-created event starts again), a stage frame older than the stage held
// (a command's answer came first) is ignored on every page, a frame
// without standings or ranking takes away what was held (the server sends
// an audience only what it may see: voting.ViewOf), and
// revealSeq follows the stage frames that change the phase or the places
// revealed.
func TestBrowserLiveFrames(t *testing.T) {
	t.Parallel()
	chrome := btStartChrome(t)
	srv := btStartServer(t, "http://192.168.1.20:8080")
	tb := chrome.tab(t, "control", 1024, 768, false)
	tb.open(srv.base + "/e/live-test/control")
	tb.wait("the control page", `document.querySelector('script[type="module"][src*="/control."]') !== null && window.__live === undefined`)
	tb.do(chromedp.Evaluate[chromedp.Void](`(async () => {
		const page = await (await fetch(document.querySelector('script[type="module"][src*="/control."]').src)).text();
		const url = /\/assets\/conn\.[0-9a-f]{10}\.js/.exec(page)[0];
		const m = await import(url);
		const S = m.liveState({ own: 1 });
		const adopt = (ev) => Object.assign({ adopted: true }, ev);
		const out = [];
		const step = (f) => {
			const hook = m.applyFrame(S, f, adopt);
			out.push({ hook: hook, version: S.stage ? S.stage.version : -1, phase: S.stage ? S.stage.phase : "",
				standingsSeq: S.standingsSeq, revealSeq: S.revealSeq, rows: S.standings ? S.standings.rows.length : -1,
				ranking: S.ranking ? S.ranking.length : -1, voters: S.turnout ? S.turnout.voters : -1,
				panel: S.panel, own: S.own, adopted: !!(S.ev && S.ev.adopted) });
		};
		step({ type: "snapshot", seq: 5, event: { id: "e", revision: 1 }, stage: { phase: "voting", version: 7, revealed: 0 },
			turnout: { voters: 2 }, standings: { rows: [{}, {}] }, ranking: [{}], panel: "judges" });
		step({ type: "stage", seq: 6, stage: { phase: "closed", version: 6, revealed: 0 } });
		step({ type: "stage", seq: 6, stage: { phase: "voting", version: 8, revealed: 0 } });
		step({ type: "stage", seq: 7, stage: { phase: "reveal", version: 9, revealed: 1 } });
		step({ type: "standings", seq: 7, turnout: { voters: 3 } });
		step({ type: "standings", seq: 7, standings: { rows: [{}] }, ranking: [{}, {}, {}] });
		step({ type: "snapshot", seq: 1, event: { id: "e", revision: 1 }, stage: { phase: "lobby", version: 1, revealed: 0 } });
		step({ type: "pong" });
		window.__live = JSON.stringify(out);
	})().catch((e) => { window.__live = "error: " + e; })`))
	tb.wait("the frames applied", `window.__live !== undefined`)
	raw := btEval[string](tb, `window.__live`)
	type state struct {
		Hook                                   string
		Version                                int
		Phase                                  string
		StandingsSeq, RevealSeq, Rows, Ranking int
		Voters                                 int
		Panel                                  string
		Own                                    int
		Adopted                                bool
	}
	var got []state
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	want := []state{
		{"snapshot", 7, "voting", 5, 5, 2, 1, 2, "judges", 1, true},
		{"", 7, "voting", 5, 5, 2, 1, 2, "judges", 1, true},            // older stage: ignored
		{"stage", 8, "voting", 5, 5, 2, 1, 2, "judges", 1, true},       // same phase: revealSeq stays
		{"stage", 9, "reveal", 5, 7, 2, 1, 2, "judges", 1, true},       // the reveal began
		{"standings", 9, "reveal", 5, 7, -1, -1, 3, "judges", 1, true}, // no standings, no ranking: none to show
		{"standings", 9, "reveal", 7, 7, 1, 3, 3, "judges", 1, true},
		{"snapshot", 1, "lobby", 1, 1, -1, -1, -1, "judges", 1, true}, // replaces whatever the version
		{"", 1, "lobby", 1, 1, -1, -1, -1, "judges", 1, true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d steps: %s", len(got), raw)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	tb.check()
}
