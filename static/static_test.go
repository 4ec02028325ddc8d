package static

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"sort"
	"strings"
	"testing"
)

func newPages(t *testing.T) (*Pages, *httptest.Server) {
	t.Helper()
	p, err := New(Config{PublicURL: "http://192.168.1.20:8080/"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	p.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return p, srv
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

var hashedName = regexp.MustCompile(`^/assets/(.+)\.([0-9a-f]{10})(\.[a-z]+)$`)

func TestAssetsHaveContentHashedURLs(t *testing.T) {
	p, srv := newPages(t)
	names := make([]string, 0, len(p.hashed))
	for name := range p.hashed {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, want := range []string{
		"common.css", "i18n.js", "conn.js", "api.js", "dom.js", "storage.js", "uuid.js", "event.js", "format.js", "csv.js",
		"index.js", "vote.js", "screen.js", "control.js", "results.js", "tickets.js", "control-page.js", "vote-ballots.js", "screen-board.js",
	} {
		if p.AssetURL(want) == "" {
			t.Errorf("no asset %s among %v", want, names)
		}
	}
	for _, name := range names {
		u := p.AssetURL(name)
		m := hashedName.FindStringSubmatch(u)
		if m == nil || m[1]+m[3] != name {
			t.Errorf("%s is served at %q; want /assets/%s.<10 hex digits>%s", name, u, strings.TrimSuffix(name, path.Ext(name)), path.Ext(name))
			continue
		}
		res, body := get(t, srv.URL+u)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", u, res.Status)
			continue
		}
		// The hash is of the served bytes (after import rewriting).
		sum := sha256.Sum256([]byte(body))
		if got := hex.EncodeToString(sum[:5]); got != m[2] {
			t.Errorf("%s: hash in the URL %s, of the body %s", name, m[2], got)
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
			t.Errorf("%s: Cache-Control %q; want a year, immutable", name, cc)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", name)
		}
		ct := res.Header.Get("Content-Type")
		switch path.Ext(name) {
		case ".js":
			if !strings.HasPrefix(ct, "text/javascript") {
				t.Errorf("%s: Content-Type %q", name, ct)
			}
		case ".css":
			if !strings.HasPrefix(ct, "text/css") {
				t.Errorf("%s: Content-Type %q", name, ct)
			}
		}
	}
	for _, bad := range []string{"/assets/vote.js", "/assets/vote.0000000000.js", "/assets/../static.go", "/assets/"} {
		if res, _ := get(t, srv.URL+bad); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s; want 404", bad, res.Status)
		}
	}
}

var relativeImport = regexp.MustCompile(`(from\s*|import\s*\(?\s*)["'](\.{1,2}/[^"']+)["']`)

func TestModuleImportsAreRewrittenToHashedURLs(t *testing.T) {
	p, srv := newPages(t)
	_, vote := get(t, srv.URL+p.AssetURL("vote.js"))
	for _, dep := range []string{"i18n.js", "conn.js", "format.js"} {
		if !strings.Contains(vote, `from "`+p.AssetURL(dep)+`"`) {
			t.Errorf("vote.js does not import %s from its hashed URL %s", dep, p.AssetURL(dep))
		}
		if strings.Contains(vote, `"./`+dep+`"`) {
			t.Errorf("vote.js still imports ./%s", dep)
		}
	}
	// No module anywhere is left importing a sibling by its plain name.
	for name := range p.hashed {
		if !strings.HasSuffix(name, ".js") {
			continue
		}
		body := string(p.assets[strings.TrimPrefix(p.AssetURL(name), "/assets/")].body)
		if m := relativeImport.FindString(body); m != "" {
			t.Errorf("%s still has a relative import: %s", name, m)
		}
	}
	// A module imported by another is hashed after rewriting its own
	// imports, so the importer's hash changes when a dependency changes:
	// screen.js imports conn.js.
	_, screen := get(t, srv.URL+p.AssetURL("screen.js"))
	if !strings.Contains(screen, p.AssetURL("conn.js")) {
		t.Errorf("screen.js does not name conn.js's hashed URL")
	}
}

func TestPagesRenderWithHeaders(t *testing.T) {
	p, srv := newPages(t)
	cases := []struct{ path, script string }{
		{"/", "index.js"},
		{"/e/gongshu-2020", "vote.js"},
		{"/e/gongshu-2020/screen", "screen.js"},
		{"/e/gongshu-2020/control", "control.js"},
	}
	for _, c := range cases {
		res, body := get(t, srv.URL+c.path)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", c.path, res.Status)
			continue
		}
		h := res.Header
		if ct := h.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", c.path, ct)
		}
		csp := h.Get("Content-Security-Policy")
		host := strings.TrimPrefix(srv.URL, "http://")
		// Sockets to this server only: its own host and the public URL's,
		// never any host (ws: wss:).
		for _, want := range []string{"default-src 'self'", "connect-src 'self' ws://" + host + " wss://" + host + " ws://192.168.1.20:8080 wss://192.168.1.20:8080;", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", c.path, csp, want)
			}
		}
		if strings.Contains(csp, "script-src") && !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: CSP %q allows scripts from elsewhere", c.path, csp)
		}
		if h.Get("Cache-Control") != "no-cache" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: headers %v", c.path, h)
		}
		if !strings.Contains(body, `src="`+p.entries[strings.TrimSuffix(c.script, ".js")].Script+`"`) || !strings.Contains(body, p.AssetURL("common.css")) {
			t.Errorf("%s: the page does not load %s and common.css by their hashed URLs", c.path, c.script)
		}
		if !strings.Contains(body, `lang="zh-CN"`) {
			t.Errorf("%s: not zh-CN by default", c.path)
		}
		// Nothing from outside the server: no absolute URLs in src or href.
		if m := regexp.MustCompile(`(?i)(src|href)="(https?:)?//`).FindString(body); m != "" {
			t.Errorf("%s: loads something from elsewhere: %s", c.path, m)
		}
		if strings.Contains(body, "<script>") || regexp.MustCompile(`(?i)\son[a-z]+=`).MatchString(body) {
			t.Errorf("%s: inline script or handler (the CSP forbids them)", c.path)
		}
		if c.path != "/" && !strings.Contains(body, `data-event="gongshu-2020"`) {
			t.Errorf("%s: no data-event", c.path)
		}
	}
	_, screen := get(t, srv.URL+"/e/gongshu-2020/screen")
	if !strings.Contains(screen, `data-vote-url="http://192.168.1.20:8080/e/gongshu-2020"`) {
		t.Errorf("the screen does not carry the vote URL for its short link")
	}
	if !strings.Contains(screen, `src="/e/gongshu-2020/qr.svg"`) {
		t.Errorf("the screen does not show the QR code")
	}
}

func TestUnknownOrInvalidEventIsNotFound(t *testing.T) {
	_, srv := newPages(t)
	for _, u := range []string{
		"/e/Gongshu", "/e/gong%20shu", "/e/-x", "/e/" + strings.Repeat("a", 64),
		"/e/Gongshu/screen", "/e/Gongshu/control", "/e/Gongshu/qr.svg", "/e/gongshu/unknown", "/nothing",
	} {
		res, _ := get(t, srv.URL+u)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s; want 404", u, res.Status)
		}
	}
}

func TestQRCodeIsSVGOfTheVoteURL(t *testing.T) {
	p, srv := newPages(t)
	res, body := get(t, srv.URL+"/e/gongshu-2020/qr.svg")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET qr.svg: %s", res.Status)
	}
	if ct := res.Header.Get("Content-Type"); ct != "image/svg+xml" {
		t.Errorf("Content-Type %q", ct)
	}
	if !strings.HasPrefix(body, "<svg") || !strings.Contains(body, "viewBox") || !strings.HasSuffix(body, "</svg>") {
		t.Errorf("not an SVG: %.80s…", body)
	}
	if got := p.VoteURL("gongshu-2020"); got != "http://192.168.1.20:8080/e/gongshu-2020" {
		t.Errorf("VoteURL = %q", got)
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("qr.svg lacks nosniff")
	}
	// The big screen's QR code carries the hall code: a longer link, a
	// different code; anything but a code is refused.
	res, withCode := get(t, srv.URL+"/e/gongshu-2020/qr.svg?j=1sbz39")
	if res.StatusCode != http.StatusOK || withCode == body || len(withCode) <= len(body) {
		t.Errorf("qr.svg?j=: %s, %d bytes (plain %d)", res.Status, len(withCode), len(body))
	}
	for _, bad := range []string{"1SBZ39", "1s%2Fz", "x", strings.Repeat("a", 13)} {
		if res, _ := get(t, srv.URL+"/e/gongshu-2020/qr.svg?j="+bad); res.StatusCode != http.StatusBadRequest {
			t.Errorf("qr.svg?j=%s: %s, want 400", bad, res.Status)
		}
	}
}

// Every string key that a page or script uses exists in both languages,
// and both dictionaries have the same keys.
func TestEveryStringIsTranslated(t *testing.T) {
	src, err := files.ReadFile("assets/i18n.js")
	if err != nil {
		t.Fatal(err)
	}
	zh, err := Dictionary(src, "zh")
	if err != nil {
		t.Fatal(err)
	}
	en, err := Dictionary(src, "en")
	if err != nil {
		t.Fatal(err)
	}
	if len(zh) < 50 {
		t.Fatalf("only %d zh strings found", len(zh))
	}
	for k := range zh {
		if _, ok := en[k]; !ok {
			t.Errorf("%q has no English", k)
		}
	}
	for k := range en {
		if _, ok := zh[k]; !ok {
			t.Errorf("%q has no Chinese", k)
		}
	}
	used := map[string]string{}
	keyRef := []*regexp.Regexp{
		regexp.MustCompile(`data-i18n="([^"]+)"`),
		regexp.MustCompile(`\bt\("([a-zA-Z0-9_.-]+)"`),      // t("key") in scripts
		regexp.MustCompile(`\{\{t "([a-zA-Z0-9_.-]+)"\}\}`), // {{t "key"}} in pages
		regexp.MustCompile(`\(head "([a-zA-Z0-9_.-]+)"`),    // (head "title key" "page")
	}
	attrRef := regexp.MustCompile(`data-i18n-attr="([^"]+)"`)
	for _, dir := range []string{"pages", "assets"} {
		entries, err := files.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() == "i18n.js" {
				continue // the dictionaries themselves
			}
			b, _ := files.ReadFile(dir + "/" + e.Name())
			for _, re := range keyRef {
				for _, m := range re.FindAllStringSubmatch(string(b), -1) {
					used[m[1]] = e.Name()
				}
			}
			for _, m := range attrRef.FindAllStringSubmatch(string(b), -1) {
				for _, pair := range strings.Split(m[1], ",") {
					if _, k, ok := strings.Cut(pair, ":"); ok {
						used[strings.TrimSpace(k)] = e.Name()
					}
				}
			}
		}
	}
	if len(used) < 50 {
		t.Fatalf("only %d string keys used; the pattern is broken", len(used))
	}
	for k, file := range used {
		if strings.HasSuffix(k, ".") {
			continue // a prefix completed at run time, e.g. t("phase." + phase)
		}
		if _, ok := zh[k]; !ok {
			t.Errorf("%s uses %q, which has no string", file, k)
		}
	}
}

// The pages' own text all comes from the string table: a page's source
// has no words of its own (the brand 擂 apart), neither between tags nor
// in attributes that people read; an element with data-i18n is empty or
// rendered by the server from the same key ({{t "key"}}, for what shows
// before the scripts run), which the rendered page then holds.
func TestPagesTextComesFromTheStringTable(t *testing.T) {
	src, err := files.ReadFile("assets/i18n.js")
	if err != nil {
		t.Fatal(err)
	}
	zh, err := Dictionary(src, "zh")
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"擂": true}
	allowedAttr := map[string]bool{"gongshu-2020": true, "5:00": true} // examples in fields, not words
	letters := regexp.MustCompile(`\p{L}`)
	action := regexp.MustCompile(`\{\{[^}]*\}\}`)
	comment := regexp.MustCompile(`(?s)<!--.*?-->`)
	text := regexp.MustCompile(`>([^<]*)<`)
	readable := regexp.MustCompile(`\s(placeholder|title|alt|aria-label)="([^"]*)"`)
	i18nElement := regexp.MustCompile(`<(\w+)\b[^>]*\sdata-i18n="([^"]+)"[^>]*>([^<]*)</(\w+)>`)
	entries, err := files.ReadDir("pages")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, _ := files.ReadFile("pages/" + e.Name())
		page := string(b)
		for _, m := range i18nElement.FindAllStringSubmatch(page, -1) {
			if inner := strings.TrimSpace(m[3]); inner != "" && inner != `{{t "`+m[2]+`"}}` {
				t.Errorf("%s: <%s data-i18n=%q> holds %q; want nothing or {{t %q}}", e.Name(), m[1], m[2], inner, m[2])
			}
		}
		bare := comment.ReplaceAllString(action.ReplaceAllString(page, ""), "")
		for _, m := range text.FindAllStringSubmatch(bare, -1) {
			if s := strings.TrimSpace(m[1]); letters.MatchString(s) && !allowed[s] {
				t.Errorf("%s: text %q is not from the string table", e.Name(), s)
			}
		}
		for _, m := range readable.FindAllStringSubmatch(bare, -1) {
			if s := m[2]; letters.MatchString(s) && !allowedAttr[s] {
				t.Errorf("%s: %s=%q is not from the string table (use data-i18n-attr)", e.Name(), m[1], s)
			}
		}
	}
	// The server renders those strings from the table.
	_, srv := newPages(t)
	_, vote := get(t, srv.URL+"/e/gongshu-2020")
	if want := `data-i18n="common.loading">` + zh["common.loading"] + "<"; !strings.Contains(vote, want) {
		t.Errorf("the vote page does not render %q", want)
	}
}

// Every page starts with the same head: charset, viewport, referrer,
// favicon, the shared stylesheet, its own stylesheet and one module
// script by their hashed URLs, a title from the string table, and no
// inline script (the CSP allows none).
func TestEveryPageHasTheSharedHead(t *testing.T) {
	p, srv := newPages(t)
	headOf := regexp.MustCompile(`(?s)^<!doctype html>\n<html lang="zh-CN">\n<head>\n(.*?)\n</head>\n<body[ >]`)
	cases := []struct{ path, page string }{
		{"/", "index"},
		{"/e/gongshu-2020", "vote"},
		{"/e/gongshu-2020/screen", "screen"},
		{"/e/gongshu-2020/control", "control"},
		{"/e/gongshu-2020/results", "results"},
		{"/e/gongshu-2020/tickets", "tickets"},
	}
	var first, firstPath string
	for _, c := range cases {
		res, body := get(t, srv.URL+c.path)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", c.path, res.Status)
			continue
		}
		m := headOf.FindStringSubmatch(body)
		if m == nil {
			t.Errorf("%s: no head of the shared shape: %.300s", c.path, body)
			continue
		}
		head := m[1]
		for _, want := range []string{
			`<meta charset="utf-8">`,
			`<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">`,
			`<meta name="referrer" content="no-referrer">`,
			`<link rel="icon" href="` + p.AssetURL("favicon.svg") + `" type="image/svg+xml">`,
			`<link rel="stylesheet" href="` + p.AssetURL("common.css") + `">`,
			`<link rel="stylesheet" href="` + p.AssetURL(c.page+".css") + `">`,
			`<script type="module" src="` + p.entries[c.page].Script + `"></script>`,
		} {
			if strings.Count(head, want) != 1 {
				t.Errorf("%s: the head has not exactly one %s", c.path, want)
			}
		}
		if e := p.entries[c.page]; e.Strings != "" && !strings.Contains(head, `<script type="module" src="`+e.Strings+`"></script>`+"\n"+`<script type="module" src="`+e.Script+`">`) {
			t.Errorf("%s: the page's strings %s do not come right before its script", c.path, e.Strings)
		}
		if scripts := min(len(p.entries[c.page].Strings), 1) + 1; strings.Count(body, "<script") != scripts || strings.Count(body, "<head>") != 1 {
			t.Errorf("%s: %d scripts and %d heads; want the head's %d and one", c.path, strings.Count(body, "<script"), strings.Count(body, "<head>"), scripts)
		}
		if regexp.MustCompile(`(?i)\son[a-z]+=|javascript:`).MatchString(body) {
			t.Errorf("%s: inline script (the CSP forbids it)", c.path)
		}
		title := regexp.MustCompile(`<title>([^<]+)</title>`).FindStringSubmatch(head)
		if title == nil || !strings.HasPrefix(title[1], "擂台 · ") {
			t.Errorf("%s: title %v; want 擂台 · <page>", c.path, title)
		}
		// The same parts for every page: only the title, the stylesheet,
		// the strings and the script differ,
		// and the modules preloaded (the page's own; TestVotePageFirstLoadIsSmall
		// checks that they are all it imports).
		same := strings.NewReplacer(title[0], "TITLE", p.AssetURL(c.page+".css"), "STYLE", p.entries[c.page].Script, "SCRIPT").Replace(head)
		if e := p.entries[c.page]; e.Strings != "" {
			same = strings.Replace(same, `<script type="module" src="`+e.Strings+`"></script>`+"\n", "", 1)
		}
		same = modulePreload.ReplaceAllString(same, "")
		if first == "" {
			first, firstPath = same, c.path
		} else if same != first {
			t.Errorf("%s: head differs from %s's:\n%s\n----\n%s", c.path, firstPath, same, first)
		}
	}
}

var modulePreload = regexp.MustCompile(`<link rel="modulepreload" href="/assets/[^"]+">\n`)

func TestUnknownEventPageIs404(t *testing.T) {
	p, err := New(Config{PublicURL: "http://vote.test", EventExists: func(_ context.Context, id string) (bool, error) {
		return id == "known", nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	p.Routes(mux)
	for path, want := range map[string]int{
		"/e/known": 200, "/e/known/screen": 200, "/e/unknown": 404, "/e/unknown/screen": 404, "/e/unknown/control": 200,
	} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, want)
		}
	}
}
