package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"leitai/voting"
)

// ctlRefusal is one refusal as a page gets it, and what a Chinese page
// must say for it: want, a part of the sentence of its own, or "" for the
// meaning of the code.
type ctlRefusal struct {
	What    string `json:"what"`
	Who     string `json:"who"` // "host" or "voter"
	Code    string `json:"code"`
	Message string `json:"message"`
	Status  int    `json:"status"`
	Want    string `json:"want"`
}

// ctlRefusals causes, on a real server, the refusals a host and a phone
// meet, and adds the messages only the Redis store words its own way.
func ctlRefusals(t *testing.T, srv *btServer, ev string) []ctlRefusal {
	t.Helper()
	var out []ctlRefusal
	refuse := func(what, who, method, path, key string, body any, want string) {
		t.Helper()
		status, raw := faultAPI(t, srv.base, method, path, key, body, nil)
		var b struct {
			Error struct{ Code, Message string }
		}
		if status < 400 || json.Unmarshal(raw, &b) != nil || b.Error.Message == "" {
			t.Fatalf("%s: %s %s answered %d %s; want a refusal", what, method, path, status, raw)
		}
		out = append(out, ctlRefusal{What: what, Who: who, Code: b.Error.Code, Message: b.Error.Message, Status: status, Want: want})
	}
	stagePath := "/api/events/" + ev + "/stage"
	evPath := "/api/events/" + ev
	do := func(cmd map[string]any) { srv.stage(t, ev, cmd) }
	ballot := func(contestant string, score float64) map[string]any {
		return map[string]any{"id": uuid.NewString(), "credential": srv.m.Credentials.For("phone-x"), "contestant": contestant, "score": score}
	}

	refuse("open in the lobby", "host", "POST", stagePath, btHostKey, map[string]any{"action": "open"}, "请先让一位参赛单位上台")
	ctlBallots(t, srv, ev, 2)
	do(map[string]any{"action": "jump", "contestant": "u16"})
	refuse("next at the last", "host", "POST", stagePath, btHostKey, map[string]any{"action": "next"}, "这已是最后一位")
	do(map[string]any{"action": "jump", "contestant": "u01"})
	refuse("previous at the first", "host", "POST", stagePath, btHostKey, map[string]any{"action": "previous"}, "前面没有参赛单位")
	refuse("close when closed", "host", "POST", stagePath, btHostKey, map[string]any{"action": "close"}, "投票没有在进行")
	refuse("unreveal", "host", "POST", stagePath, btHostKey, map[string]any{"action": "unreveal"}, "还没有揭晓")
	refuse("long countdown", "host", "POST", stagePath, btHostKey, map[string]any{"action": "countdown", "seconds": 999999}, "倒计时须在 0–86400 秒之间")
	refuse("jump nowhere", "host", "POST", stagePath, btHostKey, map[string]any{"action": "jump", "contestant": "zz"}, "没有这个参赛单位")
	refuse("stale stage", "host", "POST", stagePath, btHostKey, map[string]any{"action": "next", "ifVersion": 1}, "刚被其他人更改过")
	refuse("unknown action", "host", "POST", stagePath, btHostKey, map[string]any{"action": "dance"}, "")
	refuse("ballot while closed", "voter", "POST", evPath+"/ballots", "", ballot("u01", 80), "")

	var cur map[string]any
	srv.api(t, "GET", "/events/"+ev, nil, &cur)
	edit := func(f func(e map[string]any)) map[string]any {
		b, _ := json.Marshal(cur)
		var e map[string]any
		_ = json.Unmarshal(b, &e)
		f(e)
		return e
	}
	refuse("step", "host", "PUT", evPath, btHostKey, edit(func(e map[string]any) { e["rules"].(map[string]any)["step"] = 0.3 }), "步长 0.3 不能整除分数范围 60–100")
	refuse("range", "host", "PUT", evPath, btHostKey, edit(func(e map[string]any) { e["rules"].(map[string]any)["min"] = 100 }), "分数范围 100–100 无效")
	refuse("empty name", "host", "PUT", evPath, btHostKey, edit(func(e map[string]any) {
		e["contestants"].([]any)[3].(map[string]any)["name"] = ""
	}), "参赛单位名称不能为空")
	refuse("panel weight", "host", "PUT", evPath, btHostKey, edit(func(e map[string]any) { e["panels"].([]any)[1].(map[string]any)["weight"] = -1 }), "judges 的权重")
	refuse("stale revision", "host", "PUT", evPath, btHostKey, edit(func(e map[string]any) { e["revision"] = 0; e["title"] = "新名称" }), "刚被其他人更改过")
	refuse("rules with ballots", "host", "PUT", evPath, btHostKey, edit(func(e map[string]any) { e["rules"].(map[string]any)["min"] = 50 }), "已有选票")
	refuse("event exists", "host", "POST", "/api/events", btHostKey, edit(func(e map[string]any) {}), "活动编号 gongshu-2020 已存在")
	refuse("bad event id", "host", "POST", "/api/events", btHostKey, edit(func(e map[string]any) { e["id"] = "Bad ID" }), "编号 Bad ID 无效")
	refuse("wrong host key", "host", "GET", evPath+"/standings", "not-the-host-key-at-all", nil, "主持密钥不正确")
	refuse("no tickets", "host", "POST", evPath+"/tickets", btHostKey, map[string]any{"panel": "judges", "count": 0}, "每次可生成 1–")
	refuse("tickets of no panel", "host", "POST", evPath+"/tickets", btHostKey, map[string]any{"panel": "nope", "count": 3}, "没有这个评审组")
	refuse("no such endpoint", "host", "GET", "/api/nothing", btHostKey, nil, "")
	refuse("no such event", "host", "POST", "/api/events/nope/stage", btHostKey, map[string]any{"action": "next"}, "没有这个活动")
	refuse("results not published", "voter", "GET", evPath+"/results", "", nil, "成绩尚未公开")
	do(map[string]any{"action": "reveal"})
	refuse("open in the reveal", "host", "POST", stagePath, btHostKey, map[string]any{"action": "open"}, "请先让一位参赛单位上台")
	sd := srv.standings(t, ev)
	for range voting.RevealSteps(&sd) - 1 {
		do(map[string]any{"action": "reveal"})
	}
	refuse("reveal past the top", "host", "POST", stagePath, btHostKey, map[string]any{"action": "reveal"}, "全部名次都已揭晓")
	do(map[string]any{"action": "end"})
	refuse("reset after the end", "host", "POST", evPath+"/contestants/u01/reset", btHostKey, map[string]any{"confirm": "u01"}, "活动已结束")
	refuse("edit after the end", "host", "PUT", evPath, btHostKey, edit(func(e map[string]any) { e["title"] = "新名称" }), "活动已结束")
	refuse("stage after the end", "host", "POST", stagePath, btHostKey, map[string]any{"action": "lobby"}, "活动已结束")
	refuse("tickets after the end", "host", "POST", evPath+"/tickets", btHostKey, map[string]any{"panel": "judges", "count": 3}, "活动已结束")
	refuse("ballot after the end", "voter", "POST", evPath+"/ballots", "", ballot("u01", 80), "活动已结束")

	// Worded differently by the Redis store, and failures without a
	// server's word.
	return append(out,
		ctlRefusal{What: "redis: rules with ballots", Who: "host", Code: "conflict", Status: 409, Want: "已有选票",
			Message: "the event has ballots: its rules, panels, weights and voting scope cannot change and no contestant can be removed (reset the ballots first)"},
		ctlRefusal{What: "redis: stale revision", Who: "host", Code: "conflict", Status: 409, Want: "刚被其他人更改过",
			Message: "the event was changed by someone else (now at revision 3); reload it and try again"},
		ctlRefusal{What: "redis: stale stage", Who: "host", Code: "conflict", Status: 409, Want: "刚被其他人更改过",
			Message: "the stage was changed by someone else; look again and retry"},
		ctlRefusal{What: "an unknown code", Who: "host", Code: "teapot", Status: 418, Message: "short and stout", Want: "服务器出错"},
		ctlRefusal{What: "no answer", Who: "host", Message: "Failed to fetch", Want: "连接不上服务器"},
		ctlRefusal{What: "no answer (phone)", Who: "voter", Message: "NetworkError when attempting to fetch resource.", Want: "连接不上服务器"},
	)
}

// ctlEnglishWords are the words of a server message (quoted names and ids
// left out) that a Chinese page must not show.
var ctlEnglishWords = regexp.MustCompile(`[A-Za-z]{3,}`)

// TestBrowserErrorsInPageLanguage: every refusal a host or a phone meets,
// caused for real, reads in the page's language: on a Chinese page no
// word of the server's English message, and the refusals met often (the
// event has ended, the last contestant, a step that does not divide the
// range, …) in a sentence of their own. Then, on the pages themselves: a
// toast of the control page and the ticket sheet's message.
func TestBrowserErrorsInPageLanguage(t *testing.T) {
	t.Parallel()
	chrome := btStartChrome(t)
	srv := ctlStartServer(t, "http://192.168.1.20:8080")
	const ev = "gongshu-2020"
	host := chrome.tab(t, "control", 1366, 768, false)
	host.allow = regexp.MustCompile(`status of 400`) // the refusal it is meant to get
	host.open(srv.base + "/e/" + ev + "/control#key=" + btHostKey)
	ctlWaitRun(host)

	// A toast: settings the server refuses, saved on the control page.
	host.do(chromedp.Click(chromedp.CSS(`[data-tab="setup"]`)))
	host.wait("the settings", `!document.querySelector('[data-view="setup"]').hidden && document.querySelector('[data-f-step]').value === "0.5"`)
	host.do(chromedp.SetValue(chromedp.CSS(`[data-f-step]`), "0.3"), chromedp.Click(chromedp.CSS(`[data-save]`)))
	host.wait("the refusal", `document.querySelector('[data-toasts] .toast.error')`)
	if got := strings.TrimSuffix(host.text(`[data-toasts] .toast.error`), "×"); got != "操作失败：步长 0.3 不能整除分数范围 60–100" {
		t.Errorf("the control page says %q", got)
	}

	// The ticket sheet opened with a wrong key.
	sheet := chrome.tab(t, "tickets", 1000, 800, false)
	sheet.allow = regexp.MustCompile(`status of 403`)
	sheet.open(srv.base + "/e/" + ev + "/tickets#key=not-the-host-key-at-all")
	sheet.wait("the refusal", `!["", "正在载入入场票…"].includes(document.querySelector('[data-message]').textContent)`)
	if got := sheet.text(`[data-message]`); got != "主持密钥不正确或已更换" {
		t.Errorf("the ticket sheet says %q", got)
	}

	// Every refusal, through the pages' errorText, in Chinese and English.
	refusals := ctlRefusals(t, srv, ev)
	in, _ := json.Marshal(refusals)
	ctx, cancel := context.WithTimeout(host.ctx, 30*time.Second)
	defer cancel()
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[[][2]string](`(() => {
		const url = (name) => performance.getEntriesByType("resource").map(e => e.name).filter(n => new RegExp("/assets/" + name + "\\.[0-9a-f]+\\.js$").test(n))[0];
		return Promise.all([import(url("errors")), import(url("i18n"))]).then(([errors, i18n]) => {
			const say = async (lang) => { await i18n.setLang(lang); return `+string(in)+`.map((r) => {
				const e = r.code || r.status ? Object.assign(new Error(r.message), { code: r.code, status: r.status }) : new TypeError(r.message);
				return errors.errorText(e, r.who);
			}); };
			return say("zh").then((zh) => say("en").then((en) => i18n.setLang("zh").then(() => zh.map((z, i) => [z, en[i]]))));
		});
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	quoted := regexp.MustCompile(`"[^"]*"|\(now [^)]*\)`)
	for i, r := range refusals {
		zh, en := shown[i][0], shown[i][1]
		words := ctlEnglishWords.FindAllString(quoted.ReplaceAllString(r.Message, ""), -1)
		for _, w := range words {
			if strings.Contains(strings.ToLower(zh), strings.ToLower(w)) {
				t.Errorf("%s: the Chinese page shows English: %q for %s %q", r.What, zh, r.Code, r.Message)
				break
			}
		}
		if zh == "" || !regexp.MustCompile(`\p{Han}`).MatchString(zh) {
			t.Errorf("%s: the Chinese page shows %q for %s %q", r.What, zh, r.Code, r.Message)
		}
		if r.Want != "" && !strings.Contains(zh, r.Want) {
			t.Errorf("%s: the Chinese page shows %q for %q; want it to say %q", r.What, zh, r.Message, r.Want)
		}
		if en == "" || en == zh || regexp.MustCompile(`[\p{Han}]{4,}`).MatchString(quoted.ReplaceAllString(en, "")) && !strings.Contains(r.Message, "\"") {
			t.Errorf("%s: the English page shows %q", r.What, en)
		}
	}
	if testing.Verbose() {
		for i, r := range refusals {
			fmt.Printf("%-26s %-11s %-60.60s → %s | %s\n", r.What, r.Code, r.Message, shown[i][0], shown[i][1])
		}
	}
	host.check()
	sheet.check()
}
