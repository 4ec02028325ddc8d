package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"leitai/hub/api"
	"leitai/voting"
)

// TestBrowserTickets runs 一人一票 as a hall would: the host issues
// tickets and prints the sheet; a phone that opens the plain link is asked
// for a ticket; a phone that scans one scores and sees its receipt code;
// a second phone with the same ticket is turned away; a ticket typed by
// hand works; a revoked ticket stops its phone.
func TestBrowserTickets(t *testing.T) {
	t.Parallel()
	chrome := btStartChrome(t)
	srv := btStartServer(t, "")
	srv.api(t, "POST", "/events", map[string]any{
		"id": "door", "title": "拱墅区擂台赛（凭票评分）", "votingScope": "all",
		"contestants": []map[string]string{{"id": "c1", "name": "区发改经信局"}, {"id": "c2", "name": "上塘街道"}},
		"panels":      []map[string]any{{"id": "audience", "name": "大众评审", "weight": 1, "tickets": true}},
		"rules":       map[string]any{"min": 1, "max": 10, "step": 1, "decimals": 2},
	}, nil)
	srv.stage(t, "door", map[string]any{"action": "open"})
	var issued struct{ Tickets []api.TicketView }
	srv.api(t, "POST", "/events/door/tickets", api.IssueRequest{Panel: "audience", Count: 4}, &issued)
	codes := make([]string, len(issued.Tickets))
	for i, tk := range issued.Tickets {
		codes[i] = tk.Code
	}

	// The print sheet: a card per ticket, each QR code drawn.
	sheet := chrome.tab(t, "tickets", 1000, 1400, false)
	sheet.open(srv.base + "/e/door/tickets#key=" + btHostKey)
	sheet.wait("4 ticket cards with their QR codes", `document.querySelectorAll('.tk-card').length === 4 &&
		[...document.querySelectorAll('.tk-qr')].every(i => i.complete && i.naturalWidth > 0)`)
	for _, c := range codes {
		if !strings.Contains(sheet.text(".tk-sheet"), voting.FormatTicketCode(c)) {
			t.Fatalf("the sheet does not show ticket %s", c)
		}
	}
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
	shoot(sheet, "tickets-sheet.png")
	sheet.check()

	ballotReady := `(() => { const b = document.querySelector('[data-ballot="c1"] [data-score="8"]'); return b && !b.disabled && !document.querySelector('[data-ballots]').hidden; })()`

	// The plain link: asked for a ticket, nothing to score.
	plain := chrome.tab(t, "plain", 390, 844, true)
	plain.open(srv.base + "/e/door")
	plain.wait("the ticket form", `!document.querySelector('[data-ticket]').hidden && document.querySelector('[data-ballots]').hidden`)
	shoot(plain, "vote-ticket-form.png")

	// Scanning ticket 0: score, receipt code.
	alice := chrome.tab(t, "alice", 390, 844, true)
	alice.open(srv.base + "/e/door?ticket=" + codes[0])
	alice.wait("the ballot card", ballotReady)
	if s := btEval[string](alice, `location.search`); s != "" {
		t.Errorf("the ticket stays in the address bar: %q", s)
	}
	alice.do(chromedp.Click(chromedp.CSS(`[data-ballot="c1"] [data-score="8"]`)))
	alice.wait("the receipt code", `/回执码 [0-9A-F]{8}|receipt [0-9A-F]{8}/.test(document.querySelector('[data-receipt="c1"]').textContent)`)
	shoot(alice, "vote-ticket-receipt.png")
	code := btEval[string](alice, `(/([0-9A-F]{8})/.exec(document.querySelector('[data-receipt="c1"]').textContent) || [])[1]`)

	// Another phone scanning the same ticket is turned away.
	mallory := chrome.tab(t, "mallory", 390, 844, true)
	mallory.allow = regexp.MustCompile(`status of 403`) // the refusal it is meant to get
	mallory.open(srv.base + "/e/door?ticket=" + codes[0])
	mallory.wait("the refusal, in the page's language", `!document.querySelector('[data-ticket]').hidden && !document.querySelector('[data-ticket-error]').hidden &&
		document.querySelector('[data-ticket-error]').textContent.includes("另一部手机")`)

	// The plain phone types ticket 1 by hand (lower case, with a dash).
	plain.do(chromedp.SendKeys(chromedp.CSS(`[data-ticket-input]`), strings.ToLower(voting.FormatTicketCode(codes[1]))),
		chromedp.Click(chromedp.CSS(`[data-ticket-form] button`)))
	plain.wait("the ballot card after typing the code", ballotReady)
	plain.do(chromedp.Click(chromedp.CSS(`[data-ballot="c1"] [data-score="6"]`)))
	plain.wait("the ballot counted", `document.querySelector('[data-ballot="c1"]').classList.contains('is-done')`)

	sd := srv.standings(t, "door")
	if row := btRow(t, sd, "c1"); row.Ballots != 2 || row.Final != 7 {
		t.Fatalf("c1 = %+v, want 2 ballots averaging 7", row)
	}
	// The receipt code is the audit entry of alice's ballot.
	var audit struct{ Entries []voting.AuditEntry }
	srv.api(t, "GET", "/events/door/audit", nil, &audit)
	if len(audit.Entries) != 2 || voting.ReceiptCode(audit.Entries[0].Hash) != code {
		t.Fatalf("audit log %+v; alice's page shows receipt %q", audit.Entries, code)
	}

	// Revoked: alice's next score is refused and she is asked for a ticket.
	srv.api(t, "POST", "/events/door/tickets/"+codes[0]+"/revoke", nil, nil)
	alice.do(chromedp.Click(chromedp.CSS(`[data-ballot="c2"] [data-score="9"]`)))
	alice.wait("the ticket form after the revocation", `!document.querySelector('[data-ticket]').hidden`)
	if row := btRow(t, srv.standings(t, "door"), "c2"); row.Ballots != 0 {
		t.Fatalf("a revoked ticket's ballot counted: %+v", row)
	}
	for _, tb := range []*btTab{plain, alice, mallory} {
		tb.check()
	}
}

// TestBrowserControlTickets: the host issues tickets, revokes one and
// changes the host key from the control page.
func TestBrowserControlTickets(t *testing.T) {
	t.Parallel()
	chrome := btStartChrome(t)
	srv := btStartServer(t, "")
	srv.api(t, "POST", "/events", map[string]any{
		"id": "door", "title": "拱墅区擂台赛", "contestants": []map[string]string{{"id": "c1", "name": "区发改经信局"}},
		"panels": []map[string]any{{"id": "audience", "name": "大众评审", "weight": 60}, {"id": "judges", "name": "专家评委", "weight": 40, "tickets": true}},
	}, nil)
	host := chrome.tab(t, "control", 1440, 900, false)
	host.open(srv.base + "/e/door/control#key=" + btHostKey)
	host.wait("the tickets card", `!document.querySelector('[data-view="run"]').hidden && document.querySelector('[data-issue-panel]').value === "judges"`)

	// Issue 7 judges' tickets.
	host.do(chromedp.SetValue(chromedp.CSS(`[data-issue-count]`), "7"), chromedp.Click(chromedp.CSS(`[data-issue-form] button`)))
	host.wait("the count of issued tickets", `/专家评委：7 张|专家评委: 7/.test(document.querySelector('[data-tickets-summary]').textContent)`)
	var list struct{ Tickets []api.TicketView }
	srv.api(t, "GET", "/events/door/tickets", nil, &list)
	if len(list.Tickets) != 7 || list.Tickets[0].Panel != "judges" {
		t.Fatalf("tickets after issuing from the page: %+v", list.Tickets)
	}

	// Revoke one by its printed form.
	code := list.Tickets[3].Code
	host.do(chromedp.SendKeys(chromedp.CSS(`[data-revoke-code]`), voting.FormatTicketCode(code)), chromedp.Click(chromedp.CSS(`[data-revoke-form] button`)))
	host.wait("the confirmation", `document.querySelector('[data-confirm]').open`)
	host.do(chromedp.Click(chromedp.CSS(`[data-confirm-ok]`)))
	host.wait("the revoked count", `/作废 1|1 revoked/.test(document.querySelector('[data-tickets-summary]').textContent)`)
	srv.api(t, "GET", "/events/door/tickets", nil, &list)
	if !list.Tickets[3].Revoked {
		t.Fatalf("ticket %s not revoked: %+v", code, list.Tickets[3])
	}

	// Change the host key: the page keeps working with the new one.
	host.do(chromedp.Click(chromedp.CSS(`[data-action="rotate-key"]`)))
	host.wait("the confirmation", `document.querySelector('[data-confirm]').open`)
	host.do(chromedp.Click(chromedp.CSS(`[data-confirm-ok]`)))
	host.wait("the new key", `!document.querySelector('[data-new-key]').hidden`)
	newKey := btEval[string](host, `localStorage.getItem("leitai.hostKey")`)
	newKey = strings.Trim(newKey, `"`)
	if newKey == "" || newKey == btHostKey || !strings.Contains(host.text(`[data-new-key]`), newKey) {
		t.Fatalf("new key %q; the page shows %q", newKey, host.text(`[data-new-key]`))
	}
	req, _ := http.NewRequest("GET", srv.base+"/api/events", nil)
	req.Header.Set("Authorization", "Bearer "+btHostKey)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 403 {
		t.Fatalf("the old key after rotation: %v %v", resp.StatusCode, err)
	}
	host.wait("the page to reconnect with the new key", `!document.querySelector('[data-cmd="next"]').disabled`)
	host.do(chromedp.Click(chromedp.CSS(`[data-cmd="next"]`)))
	deadline := time.Now().Add(30 * time.Second)
	for {
		var st voting.Stage
		resp, err := http.Get(srv.base + "/api/events/door/stage")
		if err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
		}
		if st.Phase == voting.PhasePresenting && st.Current == "c1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the control page could not move the stage with the new key: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	host.check()
}
