package static

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// countingConn counts the bytes a client reads from the server.
type countingConn struct {
	net.Conn
	read *atomic.Int64
}

func (c countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.read.Add(int64(n))
	return n, err
}

// load is what a page's first load cost: requests, and bytes from the
// server on the wire (status lines, headers and bodies, as sent) and of
// the bodies once decoded.
type load struct {
	requests          int
	wire, identity    int64
	urls              []string
	uncompressedFiles []string
	preloaded         []string // the page's modulepreload links
	notPreloaded      []string // modules imported but not preloaded
}

// pageRefs finds what a page's HTML loads (stylesheets, icon, module
// script, modulepreload links, images); moduleRefs the static imports of
// a module (a dynamic import() loads later, not on the first load).
var (
	pageRefs   = regexp.MustCompile(`<(?:link|script|img)\b[^>]*?\b(?:href|src)="(/[^"]+)"`)
	moduleRefs = regexp.MustCompile(`(?:\bfrom\s*|\bimport\s+)"(/assets/[^"]+)"`)
)

// firstLoad fetches a page as a browser with an empty cache that accepts
// gzip does, following everything the HTML loads and every module import.
func firstLoad(t *testing.T, base, page string) load {
	t.Helper()
	var read atomic.Int64
	tr := &http.Transport{
		DisableCompression: true, // the test asks for gzip itself and sees the bytes as sent
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return countingConn{c, &read}, nil
		},
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	var l load
	seen := map[string]bool{}
	var pageBody []byte
	queue := []string{page}
	for ; len(queue) > 0; queue = queue[1:] {
		u := queue[0]
		if seen[u] {
			continue
		}
		seen[u] = true
		req, _ := http.NewRequest("GET", base+u, nil)
		req.Header.Set("Accept-Encoding", "gzip, deflate, br")
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %v %v", u, res.Status, err)
		}
		body := raw
		if res.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("%s: %v", u, err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: %v", u, err)
			}
		} else if len(raw) > 1024 {
			l.uncompressedFiles = append(l.uncompressedFiles, u)
		}
		l.requests++
		l.identity += int64(len(body))
		l.urls = append(l.urls, u)
		refs := moduleRefs
		if u == page {
			refs = pageRefs
		}
		for _, m := range refs.FindAllSubmatch(body, -1) {
			queue = append(queue, string(m[1]))
		}
		if u == page {
			for _, m := range modulePreload.FindAll(body, -1) {
				l.preloaded = append(l.preloaded, string(m))
			}
		} else if strings.HasSuffix(u, ".js") && !strings.Contains(string(pageBody), `src="`+u+`"`) && !slices.ContainsFunc(l.preloaded, func(s string) bool { return strings.Contains(s, `"`+u+`"`) }) {
			l.notPreloaded = append(l.notPreloaded, u)
		}
		if u == page {
			pageBody = body
		}
	}
	l.wire = read.Load()
	return l
}

// The vote page's first load, on the hall's Wi-Fi, fits in 30 KiB on the
// wire (issue 15 §4): everything the HTML loads and every module it
// imports, headers included.
func TestVotePageFirstLoadIsSmall(t *testing.T) {
	_, srv := newPages(t)
	l := firstLoad(t, srv.URL, "/e/gongshu-2020")
	t.Logf("vote page: %d requests, %.1f KiB on the wire (%.1f KiB decoded)", l.requests, float64(l.wire)/1024, float64(l.identity)/1024)
	if l.wire > 30*1024 {
		t.Errorf("the vote page's first load is %.1f KiB on the wire; want at most 30 KiB (%s)", float64(l.wire)/1024, strings.Join(l.urls, " "))
	}
	if len(l.uncompressedFiles) > 0 {
		t.Errorf("sent without compression: %v", l.uncompressedFiles)
	}
	if len(l.notPreloaded) > 0 {
		t.Errorf("modules the page imports without a modulepreload link: %v", l.notPreloaded)
	}
	if l.requests < 5 {
		t.Errorf("only %d requests: the page's references were not followed (%v)", l.requests, l.urls)
	}
}

// TestFirstLoadOfEveryPage gives each page's first load (go test -v -run
// FirstLoadOfEveryPage ./static/), the figures of docs/performance.md.
func TestFirstLoadOfEveryPage(t *testing.T) {
	_, srv := newPages(t)
	for _, c := range []struct{ name, path string }{
		{"vote", "/e/gongshu-2020"},
		{"screen", "/e/gongshu-2020/screen"},
		{"control", "/e/gongshu-2020/control"},
		{"results", "/e/gongshu-2020/results"},
		{"tickets", "/e/gongshu-2020/tickets"},
		{"index", "/"},
	} {
		l := firstLoad(t, srv.URL, c.path)
		t.Logf("| %s | %d | %.1f KiB | %.1f KiB |", c.name, l.requests, float64(l.wire)/1024, float64(l.identity)/1024)
		if len(l.uncompressedFiles) > 0 {
			t.Errorf("%s: sent without compression: %v", c.name, l.uncompressedFiles)
		}
	}
}

// Every asset is served gzipped to a client that accepts it and as written
// to one that does not, under the same immutable URL: the gzip decodes to
// the identity body, both say Vary, each has its own ETag and its length,
// and a revalidation with the ETag gets 304.
func TestAssetsAreServedPrecompressed(t *testing.T) {
	p, srv := newPages(t)
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	fetch := func(u, acceptEncoding, ifNoneMatch string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+u, nil)
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		if ifNoneMatch != "" {
			req.Header.Set("If-None-Match", ifNoneMatch)
		}
		res, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, b
	}
	for name, u := range p.hashed {
		t.Run(name, func(t *testing.T) {
			plain, identity := fetch(u, "", "")
			a := p.assets[strings.TrimPrefix(u, "/assets/")]
			if plain.StatusCode != 200 || !bytes.Equal(identity, a.body) || plain.Header.Get("Content-Encoding") != "" {
				t.Fatalf("without Accept-Encoding: %s, %d bytes, encoding %q", plain.Status, len(identity), plain.Header.Get("Content-Encoding"))
			}
			for _, ae := range []string{"gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8, *;q=0.1", "*", "GZIP"} {
				res, body := fetch(u, ae, "")
				h := res.Header
				if a.gz == nil { // not smaller gzipped: identity for everyone
					if h.Get("Content-Encoding") != "" || !bytes.Equal(body, identity) {
						t.Errorf("%q: encoding %q for an asset kept as is", ae, h.Get("Content-Encoding"))
					}
					continue
				}
				if h.Get("Content-Encoding") != "gzip" || h.Get("Vary") != "Accept-Encoding" || plain.Header.Get("Vary") != "Accept-Encoding" {
					t.Fatalf("%q: Content-Encoding %q, Vary %q (identity's %q)", ae, h.Get("Content-Encoding"), h.Get("Vary"), plain.Header.Get("Vary"))
				}
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				decoded, err := io.ReadAll(zr)
				if err != nil || !bytes.Equal(decoded, identity) {
					t.Fatalf("%q: the gzip does not decode to the identity body (%v)", ae, err)
				}
				if len(body) >= len(identity) {
					t.Errorf("%q: gzip %d bytes, identity %d", ae, len(body), len(identity))
				}
				if h.Get("Content-Length") != strconv.Itoa(len(body)) || plain.Header.Get("Content-Length") != strconv.Itoa(len(identity)) {
					t.Errorf("Content-Length %s / %s for %d / %d bytes", h.Get("Content-Length"), plain.Header.Get("Content-Length"), len(body), len(identity))
				}
				if h.Get("ETag") == "" || h.Get("ETag") == plain.Header.Get("ETag") {
					t.Errorf("ETags gzip %q, identity %q: want two", h.Get("ETag"), plain.Header.Get("ETag"))
				}
				if cc := h.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" || h.Get("Content-Type") != plain.Header.Get("Content-Type") || h.Get("X-Content-Type-Options") != "nosniff" {
					t.Errorf("gzip headers %v", h)
				}
				if res, body := fetch(u, ae, h.Get("ETag")); res.StatusCode != http.StatusNotModified || len(body) != 0 {
					t.Errorf("revalidation with %s: %s", h.Get("ETag"), res.Status)
				}
			}
			for _, ae := range []string{"identity", "gzip;q=0", "br", "*;q=0", "gzip;q=0, *"} {
				if res, body := fetch(u, ae, ""); res.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, identity) {
					t.Errorf("%q: encoding %q; want the identity", ae, res.Header.Get("Content-Encoding"))
				}
			}
			if res, _ := fetch(u, "", plain.Header.Get("ETag")); res.StatusCode != http.StatusNotModified {
				t.Errorf("revalidation of the identity with %s: %s", plain.Header.Get("ETag"), res.Status)
			}
			if res, _ := fetch(u, "", `"0000000000"`); res.StatusCode != http.StatusOK {
				t.Errorf("another ETag: %s; want 200", res.Status)
			}
		})
	}
}

// Pages are gzipped per request for a client that accepts it.
func TestPagesAreGzipped(t *testing.T) {
	_, srv := newPages(t)
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	for _, u := range []string{"/", "/e/gongshu-2020", "/e/gongshu-2020/control", "/e/gongshu-2020/qr.svg"} {
		req, _ := http.NewRequest("GET", srv.URL+u, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		res, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(res.Body)
		if err != nil || res.Header.Get("Content-Encoding") != "gzip" || res.Header.Get("Vary") != "Accept-Encoding" {
			t.Fatalf("%s: encoding %q, vary %q, %v", u, res.Header.Get("Content-Encoding"), res.Header.Get("Vary"), err)
		}
		b, err := io.ReadAll(zr)
		res.Body.Close()
		if err != nil || !bytes.Contains(b, []byte("<")) {
			t.Errorf("%s: %v %.80q", u, err, b)
		}
	}
}

func TestBlankComments(t *testing.T) {
	for _, c := range []struct{ ext, in, want string }{
		{".js", "// why\nconst a = 1; // kept\n  // indented\nb();\n", "\nconst a = 1; // kept\n\nb();\n"},
		{".js", "const s = `\n// inside a template\n`;\n// after\n", "const s = `\n// inside a template\n`;\n\n"},
		{".js", "if (a) {\n  b();\n\tc(`x\n  kept`);\n  d();\n}\n", "if (a) {\nb();\nc(`x\n  kept`);\nd();\n}\n"},
		{".css", ".x {\n  color: red;\n}\n", ".x {\ncolor: red;\n}\n"},
		{".js", "const u = \"http://x\";\n", "const u = \"http://x\";\n"},
		{".css", "/* a\n b */.x { color: red; } /* c */\n", "\n.x { color: red; } \n"},
		{".css", ".x::after { content: \"/* not */\"; }\n", ".x::after { content: \"/* not */\"; }\n"},
		{".css", ".x { } /* open", ".x { } /* open"},
		{".svg", "<!-- kept -->", "<!-- kept -->"},
	} {
		if got := string(blankComments([]byte(c.in), c.ext)); got != c.want {
			t.Errorf("%s %q → %q, want %q", c.ext, c.in, got, c.want)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for ae, want := range map[string]bool{
		"": false, "gzip": true, "x-gzip": true, "deflate, gzip;q=0.5": true, "gzip;q=0": false, "gzip; q=0.0": false,
		"*": true, "*;q=0": false, "br": false, "gzip;q=0, *": false, "identity;q=1, *;q=0.1": true, "gzip;q=x": false,
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		if ae != "" {
			r.Header.Set("Accept-Encoding", ae)
		}
		if got := acceptsGzip(r); got != want {
			t.Errorf("Accept-Encoding %q: %v, want %v", ae, got, want)
		}
	}
}
