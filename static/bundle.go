package static

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// On HTTP/1.1 (the hall's Wi-Fi) every file costs ≈ 280 bytes of response
// headers and a gzip stream of its own: the vote page's 16 small modules
// cost more in headers than its strings. So the phone's page is served as
// one module, made at start from the same files (no build step): its
// strings, i18n.js and every module it imports, each in a function of its
// own, in the order ES modules run (a module after what it imports). A
// source map gives each line back to its file, so that a stack trace from
// a phone still names the source line.

// bundledPages are the pages served as one module: the phone's, whose
// first load crosses the hall's Wi-Fi. The host's pages run on a laptop
// and keep their modules (which the browser tests import one by one).
var bundledPages = []string{"vote"}

var (
	// bundleImport is a module's static import as the pages write it, one
	// a line: import { a, b as c } from "/assets/x.<hash>.js";
	bundleImport = regexp.MustCompile(`^import\s*\{([^}]*)\}\s*from\s*"(/assets/[^"]+)";?\s*$`)
	// bundleExport is a declaration exported: export function f, export
	// const x, …
	bundleExport = regexp.MustCompile(`^export\s+((?:async\s+)?function\*?|const|class)\s+([A-Za-z_$][\w$]*)`)
)

// bundleLine is where a line of a bundle comes from: a source (index in
// the map's sources, -1 for the bundle's own lines) and its line there.
type bundleLine struct{ source, line int }

// addBundle makes the page's bundle (bundle-<page>.js and its source map)
// with the page's strings in the default language (zh, the JSON
// object; more names the other languages' modules) and returns its URL.
func (p *Pages) addBundle(page string, zh, more []byte) (string, error) {
	byURL := make(map[string]string, len(p.hashed))
	for name, u := range p.hashed {
		byURL[u] = name
	}
	// The modules in the order they run: depth first, imports before the
	// importer (New refuses cycles).
	var order []string
	index := map[string]int{}
	var visit func(name string)
	visit = func(name string) {
		if _, ok := index[name]; ok {
			return
		}
		index[name] = -1
		for _, u := range p.imports[name] {
			visit(byURL[u])
		}
		index[name] = len(order)
		order = append(order, name)
	}
	visit(page + ".js")
	var (
		out     bytes.Buffer
		lines   []bundleLine
		sources []string
	)
	own := func(s string) {
		for range strings.Count(s, "\n") {
			lines = append(lines, bundleLine{-1, 0})
		}
		out.WriteString(s)
	}
	for i, name := range order {
		if len(p.lazy[name]) > 0 {
			return "", fmt.Errorf("static: %s imports a module later; a bundled page cannot", name)
		}
		u := p.hashed[name]
		sources = append(sources, u)
		own(fmt.Sprintf("const leitaiModule%d = (() => { // %s\n", i, name))
		var exported []string
		for n, line := range bytes.Split(bytes.TrimSuffix(p.assets[strings.TrimPrefix(u, "/assets/")].body, []byte("\n")), []byte("\n")) {
			if m := bundleImport.FindSubmatch(line); m != nil {
				dep, ok := index[byURL[string(m[2])]]
				if !ok {
					return "", fmt.Errorf("static: %s: import of %s", name, m[2])
				}
				line = fmt.Appendf(nil, "const {%s} = leitaiModule%d;", bytes.ReplaceAll(m[1], []byte(" as "), []byte(": ")), dep)
			} else if bytes.HasPrefix(line, []byte("import")) || bytes.HasPrefix(line, []byte("export")) && !bundleExport.Match(line) {
				return "", fmt.Errorf("static: %s line %d: an import or export a bundle cannot take: %q", name, n+1, line)
			} else if m := bundleExport.FindSubmatch(line); m != nil {
				exported = append(exported, string(m[2]))
				line = bytes.TrimPrefix(line, []byte("export "))
			}
			lines = append(lines, bundleLine{i, n})
			out.Write(line)
			out.WriteByte('\n')
		}
		own("return { " + strings.Join(exported, ", ") + " };\n})();\n")
		if name == "i18n.js" {
			own(fmt.Sprintf("leitaiModule%d.useStrings(%q, %s, %s);\n", i, stringsLang, zh, more))
		}
	}
	mapURL, err := p.addSourceMap(page, sources, lines)
	if err != nil {
		return "", err
	}
	out.WriteString("//# sourceMappingURL=" + mapURL + "\n")
	return p.addAsset("bundle-"+page+".js", out.Bytes()), nil
}

// addSourceMap adds the source map of a bundle whose lines come from
// lines (one segment a line, at its first column) and returns its URL.
func (p *Pages) addSourceMap(page string, sources []string, lines []bundleLine) (string, error) {
	var mappings strings.Builder
	prevSource, prevLine := 0, 0
	for i, l := range lines {
		if i > 0 {
			mappings.WriteByte(';')
		}
		if l.source < 0 {
			continue
		}
		mappings.WriteString(vlq(0) + vlq(l.source-prevSource) + vlq(l.line-prevLine) + vlq(0))
		prevSource, prevLine = l.source, l.line
	}
	b, err := json.Marshal(map[string]any{"version": 3, "file": "bundle-" + page + ".js", "sources": sources, "names": []string{}, "mappings": mappings.String()})
	if err != nil {
		return "", fmt.Errorf("static: source map of %s: %w", page, err)
	}
	return p.addAsset("bundle-"+page+".js.map", b), nil
}

// vlq is n in the base64 VLQ of source maps.
func vlq(n int) string {
	const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	v := n << 1
	if n < 0 {
		v = (-n << 1) | 1
	}
	var s []byte
	for {
		d := v & 31
		v >>= 5
		if v > 0 {
			d |= 32
		}
		s = append(s, digits[d])
		if v == 0 {
			return string(s)
		}
	}
}
