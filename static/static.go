// Package static serves the six pages (index, vote, screen, control, results,
// tickets) and their assets, embedded in the binary. Assets are served under
// content-hashed URLs so that phones and projectors cache them forever and
// never run a stale script after an upgrade. Every page starts with the one
// head of pages/head.html; its text comes from the string table
// (assets/i18n.js), which the server reads too, so that what must show
// before the scripts run (the title, "connecting…") is rendered from it.
package static

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"

	"leitai/static/qrcode"
	"leitai/voting"
)

//go:embed assets pages
var files embed.FS

// Config configures the pages.
type Config struct {
	// PublicURL is where phones reach the server; the QR code and the
	// short link on the screen point to PublicURL/e/{event}.
	PublicURL string
	// PublicURLProblem, when set, says why phones cannot open PublicURL
	// ("loopback", "link-local", "unspecified"), and PublicURLFix is a
	// public URL they probably can open ("" if none is known). The control
	// page and the screen's QR card warn the host with them.
	PublicURLProblem string
	PublicURLFix     string
	// EventExists, when set, lets pages of unknown events answer 404
	// instead of a page that can only say so after loading.
	EventExists func(ctx context.Context, event string) (bool, error)
}

// Pages serves the HTML pages and assets.
type Pages struct {
	cfg    Config
	assets map[string]asset   // by hashed name
	hashed map[string]string  // logical name (e.g. "vote.js") → hashed URL
	pages  *template.Template // pages/*.html
	zh     map[string]string  // the string table's Chinese (assets/i18n.js)
	// imports are the hashed URLs of the modules a script imports, by
	// logical name, for the pages' modulepreload links; lazy those it
	// imports later (import()).
	imports, lazy map[string][]string
	// entries are what each page's head loads (subsets.go), by page
	// ("vote"); pageKeys the keys of its strings.
	entries  map[string]pageEntry
	pageKeys map[string][]string
	zippers  zippers
}

// asset is one file as served: the bytes (comments blanked, imports
// rewritten), their gzip (nil when not smaller) and validators.
type asset struct {
	body        []byte
	gz          []byte
	contentType string
	etag        string // of the identity; the gzip's adds ".gz"
}

// readAssets reads the embedded assets, by name ("vote.js").
func readAssets() (map[string][]byte, error) {
	raw := make(map[string][]byte)
	err := fs.WalkDir(files, "assets", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(name)
		if err != nil {
			return err
		}
		raw[strings.TrimPrefix(name, "assets/")] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("static: %w", err)
	}
	return raw, nil
}

// New reads the embedded files and computes their hashed names.
func New(cfg Config) (*Pages, error) {
	p := &Pages{cfg: cfg, assets: make(map[string]asset), hashed: make(map[string]string), imports: make(map[string][]string), lazy: make(map[string][]string)}
	// Hash every asset; then rewrite module imports between JS files
	// ("./x.js") to hashed URLs, so that a cached module never imports a
	// stale sibling. Imports are rewritten before hashing the importer.
	raw, err := readAssets()
	if err != nil {
		return nil, err
	}
	// The string table is served without its dictionaries: each page gets
	// the strings it uses (subsets.go).
	dicts, err := readStringTable(raw)
	if err != nil {
		return nil, err
	}
	p.zh = dicts["zh"]
	var resolve func(name string, seen map[string]bool) (string, error)
	resolve = func(name string, seen map[string]bool) (string, error) {
		if u, ok := p.hashed[name]; ok {
			return u, nil
		}
		if seen[name] {
			return "", fmt.Errorf("static: import cycle at %s", name)
		}
		seen[name] = true
		body, ok := raw[name]
		if !ok {
			return "", fmt.Errorf("static: %s imports a missing file", name)
		}
		body = blankComments(body, path.Ext(name))
		if strings.HasSuffix(name, ".js") {
			var rerr error
			body = importPattern.ReplaceAllFunc(body, func(m []byte) []byte {
				sub := importPattern.FindSubmatch(m)
				dep := path.Join(path.Dir(name), string(sub[2]))
				u, err := resolve(dep, seen)
				if err != nil {
					rerr = err
					return m
				}
				if bytes.Contains(sub[1], []byte("(")) { // a dynamic import loads later
					p.lazy[name] = append(p.lazy[name], u)
				} else {
					p.imports[name] = append(p.imports[name], u)
				}
				return bytes.Replace(m, sub[2], []byte(u), 1)
			})
			if rerr != nil {
				return "", rerr
			}
		}
		return p.addAsset(name, body), nil
	}
	for name := range raw {
		if _, err := resolve(name, map[string]bool{}); err != nil {
			return nil, err
		}
	}
	if err := p.addPageStrings(dicts); err != nil {
		return nil, err
	}
	p.pages, err = template.New("").Funcs(template.FuncMap{
		"asset": p.asset,
		"t":     p.text,
		"head":  p.head,
	}).ParseFS(files, "pages/*.html")
	if err != nil {
		return nil, fmt.Errorf("static: %w", err)
	}
	return p, nil
}

// addAsset serves body, as written, under name's hashed URL, and returns
// the URL.
func (p *Pages) addAsset(name string, body []byte) string {
	sum := sha256.Sum256(body)
	ext := path.Ext(name)
	hashedName := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:5]) + ext
	ct := mime.TypeByExtension(ext)
	switch ext {
	case ".js":
		ct = "text/javascript; charset=utf-8"
	case ".css":
		ct = "text/css; charset=utf-8"
	case ".svg":
		ct = "image/svg+xml"
	}
	p.assets[hashedName] = asset{body: body, gz: gzipBest(body), contentType: ct, etag: `"` + hex.EncodeToString(sum[:5]) + `"`}
	p.hashed[name] = "/assets/" + hashedName
	return p.hashed[name]
}

func (p *Pages) asset(name string) (string, error) {
	if u, ok := p.hashed[name]; ok {
		return u, nil
	}
	return "", fmt.Errorf("no asset %q", name)
}

// text is a string of the table in Chinese, the language a page has
// before its scripts run (they switch it to the one chosen on the device).
func (p *Pages) text(key string) (string, error) {
	if s, ok := p.zh[key]; ok {
		return s, nil
	}
	return "", fmt.Errorf("no string %q in i18n.js", key)
}

// headData is what the shared head (pages/head.html) is given: the page's
// title, and its stylesheet and script by their logical names.
type headData struct {
	Title, Style string
	// Strings is the URL of the module of the page's strings (subsets.go),
	// run before Script, or "" when Script holds them (a bundle); Script
	// the URL of the page's module.
	Strings, Script string
	// Preload are the hashed URLs of every module Script imports, directly
	// or not: the browser fetches them at once instead of one level of
	// imports per round trip.
	Preload []string
}

// head makes a page's headData: the title from the string table (the
// brand, then titleKey's string), page+".css" and page+".js".
func (p *Pages) head(titleKey, page string) (headData, error) {
	title, err := p.text(titleKey)
	if err != nil {
		return headData{}, err
	}
	brand, err := p.text("common.brand")
	if err != nil {
		return headData{}, err
	}
	e, ok := p.entries[page]
	if !ok {
		return headData{}, fmt.Errorf("no page %q", page)
	}
	return headData{Title: brand + " · " + title, Style: page + ".css", Script: e.Script, Strings: e.Strings, Preload: e.Preload}, nil
}

// moduleGraph lists the hashed URLs of the modules that script imports,
// directly or through others, breadth first, each once.
func (p *Pages) moduleGraph(script string) []string {
	byURL := make(map[string]string, len(p.hashed))
	for name, u := range p.hashed {
		byURL[u] = name
	}
	var out []string
	seen := map[string]bool{script: true}
	for queue := []string{script}; len(queue) > 0; queue = queue[1:] {
		for _, u := range p.imports[queue[0]] {
			if dep := byURL[u]; !seen[dep] {
				seen[dep] = true
				out = append(out, u)
				queue = append(queue, dep)
			}
		}
	}
	return out
}

// importPattern finds relative module specifiers in import/export statements
// and dynamic imports: from "./x.js", import("./x.js").
var importPattern = regexp.MustCompile(`(from\s*|import\s*\(?\s*)["'](\.{1,2}/[^"']+\.js)["']`)

// AssetURL returns the hashed URL of an asset.
func (p *Pages) AssetURL(name string) string { return p.hashed[name] }

// Routes registers the pages, the assets and the QR code on mux.
func (p *Pages) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /assets/{name...}", p.serveAsset)
	mux.HandleFunc("GET /{$}", p.page("index.html", false))
	mux.HandleFunc("GET /e/{event}", p.page("vote.html", true))
	mux.HandleFunc("GET /e/{event}/screen", p.page("screen.html", true))
	// The control page is where a host creates an event that does not
	// exist yet, so it is served for any valid id.
	mux.HandleFunc("GET /e/{event}/control", p.page("control.html", false))
	mux.HandleFunc("GET /e/{event}/results", p.page("results.html", true))   // printable results: results.js
	mux.HandleFunc("GET /s/{series}/results", p.page("results.html", false)) // a series' season table: results-season.js
	mux.HandleFunc("GET /e/{event}/tickets", p.page("tickets.html", true))   // printable tickets: tickets.js
	mux.HandleFunc("GET /e/{event}/qr.svg", p.serveQR)
}

// serveAsset serves an asset, gzipped when the client accepts it: the
// same immutable URL for both, told apart by Vary, each with its ETag.
func (p *Pages) serveAsset(w http.ResponseWriter, r *http.Request) {
	a, ok := p.assets[r.PathValue("name")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	body, etag := a.body, a.etag
	if a.gz != nil {
		h.Set("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			body, etag = a.gz, strings.TrimSuffix(a.etag, `"`)+`.gz"`
		}
	}
	h.Set("ETag", etag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, etag) {
		h.Del("Content-Type")
		h.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// etagMatches reports whether an If-None-Match list names etag (weakly,
// as RFC 9110 asks for GET) or is *.
func etagMatches(list, etag string) bool {
	for tag := range strings.SplitSeq(list, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == etag {
			return true
		}
	}
	return false
}

// PageData is what every page template gets.
type PageData struct {
	Event         string // event id from the URL ("" on the index)
	VoteURL       string // the public link phones open
	PublicURL     string
	PublicProblem string // why phones cannot open VoteURL ("" when they can): Config.PublicURLProblem
	PublicFix     string // Config.PublicURLFix
}

// VoteURL is the link for an event that the QR code encodes.
func (p *Pages) VoteURL(event string) string {
	return strings.TrimRight(p.cfg.PublicURL, "/") + "/e/" + url.PathEscape(event)
}

func (p *Pages) page(name string, mustExist bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		event := r.PathValue("event")
		if event != "" && !voting.ValidID(event) {
			http.NotFound(w, r)
			return
		}
		if event != "" && mustExist && p.cfg.EventExists != nil {
			// A store that cannot answer is not a missing event: serve the
			// page, which retries and says what is wrong.
			if ok, err := p.cfg.EventExists(r.Context(), event); err == nil && !ok {
				http.Error(w, "404: no such event / 活动不存在", http.StatusNotFound)
				return
			}
		}
		var buf bytes.Buffer
		data := PageData{Event: event, PublicURL: p.cfg.PublicURL, PublicProblem: p.cfg.PublicURLProblem, PublicFix: p.cfg.PublicURLFix}
		if event != "" {
			data.VoteURL = p.VoteURL(event)
		}
		if err := p.pages.ExecuteTemplate(&buf, name, data); err != nil {
			http.Error(w, "page failed to render", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// Nothing is loaded from elsewhere (halls often have no internet),
		// and scripts open sockets to this server only.
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'"+p.socketSources(r)+"; frame-ancestors 'none'")
		p.zippers.writeMaybeGzipped(w, r, buf.Bytes())
	}
}

// hostPattern is a Host header fit to name in a CSP source.
var hostPattern = regexp.MustCompile(`^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$`)

// socketSources are the WebSocket origins of this server for connect-src:
// the host the page was fetched from and the public URL's, ws:// and wss://
// ('self' covers them only in browsers that follow CSP level 3).
func (p *Pages) socketSources(r *http.Request) string {
	hosts := []string{r.Host}
	if u, err := url.Parse(p.cfg.PublicURL); err == nil && u.Host != "" && u.Host != r.Host {
		hosts = append(hosts, u.Host)
	}
	var b strings.Builder
	for _, h := range hosts {
		if !hostPattern.MatchString(h) {
			continue
		}
		b.WriteString(" ws://" + h + " wss://" + h)
	}
	return b.String()
}

// hallCodePattern is what a hall code may look like (hub.HallCodeLength
// characters of lower-case Crockford base32; a little looser here).
var hallCodePattern = regexp.MustCompile(`^[0-9a-z]{4,12}$`)

func (p *Pages) serveQR(w http.ResponseWriter, r *http.Request) {
	event := r.PathValue("event")
	if !voting.ValidID(event) {
		http.NotFound(w, r)
		return
	}
	link := p.VoteURL(event)
	// A ticket's QR code: the vote link that claims the ticket. The code
	// is no secret to whoever holds the paper; this only draws it.
	if raw := r.URL.Query().Get("ticket"); raw != "" {
		code := voting.NormalizeTicketCode(raw)
		if code == "" {
			http.Error(w, "malformed ticket code", http.StatusBadRequest)
			return
		}
		link += "?ticket=" + code
	} else if j := r.URL.Query().Get("j"); j != "" {
		// The big screen's QR code: the vote link with the hall code the
		// screen read (drawing any code is harmless; only a current one
		// admits a phone).
		if !hallCodePattern.MatchString(j) {
			http.Error(w, "malformed hall code", http.StatusBadRequest)
			return
		}
		link += "?j=" + j
	}
	svg, err := qrcode.SVG(link)
	if err != nil {
		http.Error(w, "could not draw the QR code", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	p.zippers.writeMaybeGzipped(w, r, svg)
}
