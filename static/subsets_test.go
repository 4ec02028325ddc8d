package static

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// keyUses find the keys a script or page uses, written the ways the pages
// write them: t("key"), t(cond ? "a" : "b"), "prefix." + name (every key
// under the prefix), data-i18n="key", data-i18n-attr="attr:key" and
// "data-i18n": "key" in scripts that build elements.
var (
	keyCall    = regexp.MustCompile(`\bt\(\s*"([a-zA-Z0-9_.-]+)"`)
	keyChoice  = regexp.MustCompile(`\bt\([^()"]*\?\s*"([a-zA-Z0-9_.-]+)"\s*:\s*"([a-zA-Z0-9_.-]+)"`)
	keyPrefix  = regexp.MustCompile(`"([a-zA-Z]+(?:\.[a-zA-Z]+)*\.)"\s*\+`)
	keyAttr    = regexp.MustCompile(`data-i18n"?\s*[=:]\s*"([a-zA-Z0-9_.-]+)"`)
	keyAttrMap = regexp.MustCompile(`data-i18n-attr"?\s*[=:]\s*"([^"]+)"`)
)

// Every key a page's modules and HTML use is in the strings the page gets,
// in every language, and the page gets no other page's strings.
func TestEveryPageHasItsStrings(t *testing.T) {
	p, srv := newPages(t)
	src, err := files.ReadFile("assets/i18n.js")
	if err != nil {
		t.Fatal(err)
	}
	zh, err := Dictionary(src, "zh")
	if err != nil {
		t.Fatal(err)
	}
	head, _ := files.ReadFile("pages/head.html")
	for page, e := range p.entries {
		t.Run(page, func(t *testing.T) {
			html, _ := files.ReadFile("pages/" + page + ".html")
			sources := map[string]string{"head.html": string(head), page + ".html": string(html)}
			for _, name := range p.pageModules(page + ".js") {
				b, _ := files.ReadFile("assets/" + name)
				if name == "i18n.js" {
					if b, err = blankDictionaries(b); err != nil {
						t.Fatal(err)
					}
				}
				sources[name] = string(b)
			}
			used := map[string]string{}
			for file, s := range sources {
				for _, m := range keyCall.FindAllStringSubmatch(s, -1) {
					used[m[1]] = file
				}
				for _, m := range keyChoice.FindAllStringSubmatch(s, -1) {
					used[m[1]], used[m[2]] = file, file
				}
				for _, m := range keyAttr.FindAllStringSubmatch(s, -1) {
					used[m[1]] = file
				}
				for _, m := range keyAttrMap.FindAllStringSubmatch(s, -1) {
					for pair := range strings.SplitSeq(m[1], ",") {
						_, k, _ := strings.Cut(pair, ":")
						used[strings.TrimSpace(k)] = file
					}
				}
				for _, m := range keyPrefix.FindAllStringSubmatch(s, -1) {
					for k := range zh {
						if strings.HasPrefix(k, m[1]) {
							used[k] = file + " (" + m[1] + " + …)"
						}
					}
				}
			}
			if len(used) < 10 {
				t.Fatalf("only %d keys used: the patterns are broken", len(used))
			}
			keys := p.pageKeys[page]
			for k, file := range used {
				if _, ok := zh[k]; ok && !slices.Contains(keys, k) {
					t.Errorf("%s uses %q, which the page's strings lack", file, k)
				}
			}
			// What is served holds them, in every language.
			entry := e.Strings
			if entry == "" {
				entry = e.Script
			}
			_, zhBody := get(t, srv.URL+entry)
			_, enBody := get(t, srv.URL+p.AssetURL("strings-"+page+".en.js"))
			for _, k := range keys {
				if !strings.Contains(zhBody, `"`+k+`":`) || !strings.Contains(enBody, `"`+k+`":`) {
					t.Errorf("%q is in the page's keys but not served in both languages", k)
				}
			}
			// Only what the page's modules name: no other page's strings.
			for _, other := range []string{"control.", "screen.", "results.", "tickets.", "index.", "vote."} {
				if strings.TrimSuffix(other, ".") == page {
					continue
				}
				n := 0
				for _, k := range keys {
					if strings.HasPrefix(k, other) {
						n++
					}
				}
				if n > 3 {
					t.Errorf("%d keys of %s* in the %s page's strings", n, other, page)
				}
			}
		})
	}
}

// The string table is served without its dictionaries (each page gets its
// own strings), its lines kept.
func TestStringTableIsServedWithoutDictionaries(t *testing.T) {
	p, srv := newPages(t)
	src, _ := files.ReadFile("assets/i18n.js")
	_, body := get(t, srv.URL+p.AssetURL("i18n.js"))
	if strings.Contains(body, `"vote.`) || strings.Contains(body, `"control.`) {
		t.Error("i18n.js is served with its dictionaries")
	}
	if got, want := strings.Count(body, "\n"), strings.Count(string(src), "\n"); got != want {
		t.Errorf("i18n.js is served with %d lines; the source has %d", got, want)
	}
}

func TestUsedKeys(t *testing.T) {
	table := map[string]string{"a.x": "", "a.y": "", "b.x": "", "b.y.z": "", "c.q": ""}
	got := usedKeys(table,
		[]byte(`t("a.x"); t('b.y.'+n); const k = `+"`c.nope`"+`;`),
		[]byte(`<p data-i18n="b.x"></p><i data-i18n-attr="title:c.q, aria-label:a.missing"></i>`))
	if want := []string{"a.x", "b.x", "b.y.z", "c.q"}; !slices.Equal(got, want) {
		t.Errorf("usedKeys = %v, want %v", got, want)
	}
}

// The vote page's bundle maps every line back to its module's line: a
// line as served (an import or export turned into a declaration apart)
// is the module's line its source map names.
func TestBundleSourceMap(t *testing.T) {
	p, srv := newPages(t)
	_, bundle := get(t, srv.URL+p.entries["vote"].Script)
	m := regexp.MustCompile(`//# sourceMappingURL=(\S+)`).FindStringSubmatch(bundle)
	if m == nil {
		t.Fatal("no source map")
	}
	var sm struct {
		Sources  []string
		Mappings string
	}
	_, mapBody := get(t, srv.URL+m[1])
	if err := json.Unmarshal([]byte(mapBody), &sm); err != nil {
		t.Fatal(err)
	}
	sources := make([][]string, len(sm.Sources))
	for i, u := range sm.Sources {
		_, body := get(t, srv.URL+u)
		sources[i] = strings.Split(body, "\n")
	}
	lines := strings.Split(bundle, "\n")
	src, line, checked := 0, 0, 0
	for i, seg := range strings.Split(sm.Mappings, ";") {
		if seg == "" {
			continue
		}
		f := decodeVLQ(t, seg)
		src, line = src+f[1], line+f[2]
		got, want := lines[i], sources[src][line]
		if strings.HasPrefix(want, "import ") || strings.HasPrefix(want, "export ") {
			continue
		}
		if got != want {
			t.Fatalf("bundle line %d is %q; its map says %s line %d: %q", i+1, got, sm.Sources[src], line+1, want)
		}
		checked++
	}
	if checked < 500 {
		t.Errorf("only %d lines mapped", checked)
	}
	for _, n := range []int{0, 1, -1, 15, 16, -16, 1000} {
		if got := decodeVLQ(t, vlq(n)); len(got) != 1 || got[0] != n {
			t.Errorf("vlq(%d) = %q decodes to %v", n, vlq(n), got)
		}
	}
}

func decodeVLQ(t *testing.T, s string) []int {
	const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var out []int
	v, shift := 0, 0
	for _, c := range s {
		d := strings.IndexRune(digits, c)
		if d < 0 {
			t.Fatalf("bad VLQ %q", s)
		}
		v |= (d & 31) << shift
		shift += 5
		if d&32 == 0 {
			n := v >> 1
			if v&1 == 1 {
				n = -n
			}
			out = append(out, n)
			v, shift = 0, 0
		}
	}
	return out
}
