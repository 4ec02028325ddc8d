package static

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
)

// The string table i18n.js holds every page's strings in both languages,
// three times what a phone needs on the hall's Wi-Fi. Its source stays one
// file (one place to translate); what is served is cut at start: i18n.js
// itself without its two dictionaries, and for each page a module of the
// strings that page uses, one per language. The page's head loads its
// Chinese before the page's script; the English is fetched when the user
// switches (or the device chose it before).

// stringsLang is the language a page loads with; the others come on demand.
const stringsLang = "zh"

// stringsLangs are the dictionaries of i18n.js, the first the default.
var stringsLangs = []string{stringsLang, "en"}

// blankDictionaries empties the dictionaries of i18n.js (their lines stay,
// blank, so that a stack trace points at the source line).
func blankDictionaries(src []byte) ([]byte, error) {
	out := src
	for _, lang := range stringsLangs {
		open := []byte("\nconst " + lang + " = {\n")
		start := bytes.Index(out, open)
		if start < 0 {
			return nil, fmt.Errorf("static: i18n.js has no dictionary %q", lang)
		}
		start += len(open)
		end := bytes.Index(out[start:], []byte("\n};"))
		if end < 0 {
			return nil, fmt.Errorf("static: i18n.js: dictionary %q does not end", lang)
		}
		blank := bytes.Repeat([]byte("\n"), bytes.Count(out[start:start+end], []byte("\n")))
		out = slices.Concat(out[:start], blank, out[start+end:])
	}
	return out, nil
}

// readStringTable reads the dictionaries of raw["i18n.js"] and leaves
// it without them, to be served so.
func readStringTable(raw map[string][]byte) (map[string]map[string]string, error) {
	dicts := make(map[string]map[string]string)
	for _, lang := range stringsLangs {
		d, err := Dictionary(raw["i18n.js"], lang)
		if err != nil {
			return nil, err
		}
		dicts[lang] = d
	}
	blanked, err := blankDictionaries(raw["i18n.js"])
	if err != nil {
		return nil, err
	}
	raw["i18n.js"] = blanked
	return dicts, nil
}

// keyLiteral is a quoted word that may be a key of the table, or a prefix
// of keys completed at run time ("phase." in t("phase." + phase)).
var keyLiteral = regexp.MustCompile("[\"'`]([a-zA-Z0-9_.-]+)[\"'`]")

// i18nAttribute finds the keys a page's HTML names: data-i18n="key" and
// data-i18n-attr="attr:key,attr:key".
var i18nAttribute = regexp.MustCompile(`data-i18n(-attr)?="([^"]+)"`)

// usedKeys returns the keys of table that sources name: every quoted key,
// every key under a quoted prefix ending in ".", and the keys of data-i18n
// attributes. It takes more than a page shows rather than less: a key
// missing from a page's strings would show as the key itself.
func usedKeys(table map[string]string, sources ...[]byte) []string {
	used := map[string]bool{}
	add := func(word string) {
		if _, ok := table[word]; ok {
			used[word] = true
		} else if strings.HasSuffix(word, ".") {
			for k := range table {
				if strings.HasPrefix(k, word) {
					used[k] = true
				}
			}
		}
	}
	for _, src := range sources {
		for _, m := range keyLiteral.FindAllSubmatch(src, -1) {
			add(string(m[1]))
		}
		for _, m := range i18nAttribute.FindAllSubmatch(src, -1) {
			for part := range strings.SplitSeq(string(m[2]), ",") {
				if m[1] != nil {
					_, part, _ = strings.Cut(part, ":")
				}
				add(strings.TrimSpace(part))
			}
		}
	}
	keys := make([]string, 0, len(used))
	for k := range used {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// addPageStrings makes, for every page of pages/ with a script of its own,
// the modules of its strings: strings-<page>.en.js (export default {…}),
// loaded on demand, and the Chinese, which runs before the page's script:
// strings-<page>.zh.js, or the first lines of the page's bundle
// (bundle.go). p.entries holds what the head loads.
func (p *Pages) addPageStrings(dicts map[string]map[string]string) error {
	head, err := files.ReadFile("pages/head.html")
	if err != nil {
		return fmt.Errorf("static: %w", err)
	}
	pages, err := fs.Glob(files, "pages/*.html")
	if err != nil {
		return fmt.Errorf("static: %w", err)
	}
	i18n, ok := p.hashed["i18n.js"]
	if !ok {
		return fmt.Errorf("static: no i18n.js")
	}
	p.entries = make(map[string]pageEntry)
	p.pageKeys = make(map[string][]string)
	for _, file := range pages {
		page := strings.TrimSuffix(path.Base(file), ".html")
		if _, ok := p.hashed[page+".js"]; !ok {
			continue // head.html
		}
		html, err := files.ReadFile(file)
		if err != nil {
			return fmt.Errorf("static: %w", err)
		}
		sources := [][]byte{head, html}
		for _, name := range p.pageModules(page + ".js") {
			sources = append(sources, p.assets[strings.TrimPrefix(p.hashed[name], "/assets/")].body)
		}
		keys := usedKeys(dicts[stringsLang], sources...)
		p.pageKeys[page] = keys
		more := map[string]string{}
		for _, lang := range stringsLangs[1:] {
			b, err := stringsJSON(keys, dicts[lang])
			if err != nil {
				return fmt.Errorf("static: strings of %s: %w", page, err)
			}
			more[lang] = p.addAsset("strings-"+page+"."+lang+".js", slices.Concat([]byte("export default "), b, []byte(";\n")))
		}
		zh, err := stringsJSON(keys, dicts[stringsLang])
		if err != nil {
			return fmt.Errorf("static: strings of %s: %w", page, err)
		}
		moreJSON, err := json.Marshal(more)
		if err != nil {
			return fmt.Errorf("static: strings of %s: %w", page, err)
		}
		if slices.Contains(bundledPages, page) {
			u, err := p.addBundle(page, zh, moreJSON)
			if err != nil {
				return err
			}
			p.entries[page] = pageEntry{Script: u}
			continue
		}
		body := fmt.Appendf(nil, "import { useStrings } from %q;\nuseStrings(%q, %s, %s);\n", i18n, stringsLang, zh, moreJSON)
		p.entries[page] = pageEntry{
			Strings: p.addAsset("strings-"+page+"."+stringsLang+".js", body),
			Script:  p.hashed[page+".js"],
			Preload: p.moduleGraph(page + ".js"),
		}
	}
	return nil
}

// pageEntry is what a page's head loads: its strings module (none when
// the script holds them), its script and the modules to preload.
type pageEntry struct {
	Strings, Script string
	Preload         []string
}

// stringsJSON is the object of keys' strings in dict, sorted by key (so
// that the hash is stable).
func stringsJSON(keys []string, dict map[string]string) ([]byte, error) {
	subset := make(map[string]string, len(keys))
	for _, k := range keys {
		if s, ok := dict[k]; ok {
			subset[k] = s
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(subset); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// pageModules lists the modules a page's script loads: itself, what it
// imports, and what it may import later (a dynamic import()).
func (p *Pages) pageModules(script string) []string {
	byURL := make(map[string]string, len(p.hashed))
	for name, u := range p.hashed {
		byURL[u] = name
	}
	out := []string{script}
	seen := map[string]bool{script: true}
	for i := 0; i < len(out); i++ {
		for _, u := range slices.Concat(p.imports[out[i]], p.lazy[out[i]]) {
			if dep := byURL[u]; !seen[dep] {
				seen[dep] = true
				out = append(out, dep)
			}
		}
	}
	return out
}
