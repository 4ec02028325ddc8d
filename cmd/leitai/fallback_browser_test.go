package main

import (
	"net/url"
	"regexp"
	"testing"

	"leitai/voting"
)

// TestBrowserVoteOverHTTPWhenWebSocketsBlocked: a phone on a network that
// lets HTTP through but no WebSocket (the proxy refuses every socket)
// still follows the stage and casts: after a few failed opens the vote
// page says it is on the backup channel, polls the stage and posts its
// ballots to the HTTP ballot endpoint; the receipt shows the score the
// server computed (the weighted average of the criteria), the ballot
// counts once, and when sockets get through again the page goes live.
func TestBrowserVoteOverHTTPWhenWebSocketsBlocked(t *testing.T) {
	chrome := btStartChrome(t)
	srv := btStartServer(t, "")
	srv.api(t, "POST", "/events", map[string]any{
		"id": "nows", "title": "无实时连接",
		"contestants": []map[string]string{{"id": "c1", "name": "区商务局"}, {"id": "c2", "name": "康桥街道"}},
		"rules": map[string]any{"min": 1, "max": 10, "step": 1, "decimals": 2,
			"criteria": []map[string]any{{"id": "measures", "name": "举措", "weight": 0.6}, {"id": "results", "name": "成绩", "weight": 0.4}}},
	}, nil)
	srv.stage(t, "nows", map[string]any{"action": "next"})
	srv.stage(t, "nows", map[string]any{"action": "open"})

	proxy := btStartProxy(t, srv.m.Addr)
	proxy.cut() // sockets never get through; HTTP does
	phone := chrome.tab(t, "phone", 390, 844, true)
	phone.allow = regexp.MustCompile(`WebSocket connection to .* failed|net::ERR_`)
	phone.open(proxy.URL() + "/e/nows" + srv.joinQuery("nows"))
	phone.wait("the backup channel", `window.__leitai && window.__leitai.conn.state === "fallback" &&
		!document.querySelector('[data-banner]').hidden && document.querySelector('[data-banner]').textContent.indexOf("备用通道") >= 0`)

	// Score c1 on both criteria: 0.6×7 + 0.4×10 = 8.2, as the server says.
	vote := func(contestant, measures, results string) {
		t.Helper()
		card := `document.querySelector('[data-ballot="` + contestant + `"]')`
		phone.wait("the ballot card of "+contestant, card+` && `+card+`.querySelectorAll(".crit").length === 2 &&
			!`+card+`.querySelectorAll(".crit")[0].querySelector('[data-score="`+measures+`"]').disabled`)
		btEval[bool](phone, `(() => { const crit = `+card+`.querySelectorAll(".crit");
			crit[0].querySelector('[data-score="`+measures+`"]').click();
			crit[1].querySelector('[data-score="`+results+`"]').click();
			`+card+`.querySelector("[data-submit]").click(); return true; })()`)
	}
	counted := func(contestant, text string) {
		t.Helper()
		phone.wait("the receipt "+text, `window.__leitai.pending() === 0 && document.querySelector('[data-receipt="`+contestant+`"]').classList.contains("ok") &&
			document.querySelector('[data-receipt="`+contestant+`"]').textContent.indexOf("`+text+`") >= 0`)
	}
	vote("c1", "7", "10")
	counted("c1", "已计分：8.2 分")
	if row := btRow(t, srv.standings(t, "nows"), "c1"); row.Ballots != 1 || row.Final != 8.2 {
		t.Fatalf("c1 standing %+v; want one ballot of 8.2", row)
	}

	// The host moves on; the page follows by polling and casts for c2.
	srv.stage(t, "nows", map[string]any{"action": "next"})
	srv.stage(t, "nows", map[string]any{"action": "open"})
	vote("c2", "5", "5")
	counted("c2", "已计分：5 分")
	if state := btEval[string](phone, `window.__leitai.conn.state`); state != "fallback" {
		t.Fatalf("connection state %q while sockets are blocked", state)
	}

	// Sockets get through again: the page goes live, and the server has
	// each ballot once.
	proxy.restore()
	phone.wait("the live connection", `window.__leitai.conn.state === "online" && document.querySelector('[data-banner]').hidden`)
	sd := srv.standings(t, "nows")
	if sd.Ballots != 2 || btRow(t, sd, "c2").Final != 5 {
		t.Fatalf("standings %+v; want c1 8.2 and c2 5, one ballot each", sd)
	}
	var mine struct{ Ballots []voting.CountedBallot }
	credential := btEval[string](phone, `JSON.parse(localStorage.getItem("leitai.credential.nows"))`)
	srv.api(t, "GET", "/events/nows/ballots?credential="+url.QueryEscape(credential), nil, &mine)
	if len(mine.Ballots) != 2 {
		t.Fatalf("the voter's ballots: %+v", mine.Ballots)
	}
	phone.check()
}
