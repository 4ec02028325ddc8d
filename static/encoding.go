package static

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// The pages' first load crosses the hall's Wi-Fi, which hundreds of phones
// share in the minute after the QR code goes up. What is sent is therefore
// made small once, at start: comments and indentation are blanked (the
// source keeps them, with their line numbers: a stack trace from a phone
// still points at the right line) and every asset is gzipped at the best
// level. No build step:
// the binary embeds the source files and does this when it starts.

// blankComments empties the comment lines of a script (lines whose first
// non-blank characters are //) and the comments of a stylesheet, and drops
// the indentation of every line, keeping every newline. A script line
// inside a multi-line template literal (after an odd number of backquotes)
// is left alone.
func blankComments(src []byte, ext string) []byte {
	switch ext {
	case ".js":
		return blankScriptComments(src)
	case ".css":
		return blankStyleComments(src)
	}
	return src
}

func blankScriptComments(src []byte) []byte {
	out := make([]byte, 0, len(src))
	ticks := 0
	for line := range bytes.Lines(src) {
		trimmed := bytes.TrimLeft(line, " \t")
		if ticks%2 == 0 && bytes.HasPrefix(trimmed, []byte("//")) {
			if bytes.HasSuffix(line, []byte("\n")) {
				out = append(out, '\n')
			}
			continue
		}
		if ticks%2 == 0 {
			line = trimmed
		}
		ticks += bytes.Count(line, []byte("`"))
		out = append(out, line...)
	}
	return out
}

// blankStyleComments drops /* … */ outside quoted strings, keeping the
// newlines inside a comment, and the indentation of every line (a quoted
// string does not span lines).
func blankStyleComments(src []byte) []byte {
	out := dropStyleComments(src)
	var b bytes.Buffer
	b.Grow(len(out))
	for line := range bytes.Lines(out) {
		b.Write(bytes.TrimLeft(line, " \t"))
	}
	return b.Bytes()
}

func dropStyleComments(src []byte) []byte {
	out := make([]byte, 0, len(src))
	var quote byte
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case quote != 0:
			if c == '\\' && i+1 < len(src) {
				out = append(out, c, src[i+1])
				i++
				continue
			}
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := bytes.Index(src[i+2:], []byte("*/"))
			if end < 0 {
				return src // unterminated: serve it as written
			}
			comment := src[i : i+2+end+2]
			out = append(out, bytes.Repeat([]byte("\n"), bytes.Count(comment, []byte("\n")))...)
			i += len(comment) - 1
			continue
		}
		out = append(out, c)
	}
	return out
}

// gzipBest compresses b at the best level. It returns nil when that does
// not make b smaller (a tiny file), and the identity is served.
func gzipBest(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	if buf.Len() >= len(b) {
		return nil
	}
	return buf.Bytes()
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip:
// named (or x-gzip) with a q above 0, or not named and * allowed.
func acceptsGzip(r *http.Request) bool {
	gz, star := -1.0, -1.0
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(part, ";")
			q := 1.0
			if k, val, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
				if err != nil {
					continue
				}
				q = f
			}
			switch name = strings.ToLower(strings.TrimSpace(name)); name {
			case "gzip", "x-gzip":
				gz = max(gz, q)
			case "*":
				star = max(star, q)
			}
		}
	}
	if gz >= 0 {
		return gz > 0
	}
	return star > 0
}

// zippers are gzip writers for pages, which are rendered per request
// (they carry the event and the request's host) and are small: the
// default level is as good as the best there, and cheaper.
type zippers struct{ pool sync.Pool }

func (z *zippers) get() *gzip.Writer {
	if zw, ok := z.pool.Get().(*gzip.Writer); ok {
		return zw
	}
	zw, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
	return zw
}

// writeMaybeGzipped writes a rendered page, gzipped when the client
// accepts it, with its length.
func (z *zippers) writeMaybeGzipped(w http.ResponseWriter, r *http.Request, body []byte) {
	h := w.Header()
	h.Add("Vary", "Accept-Encoding")
	if acceptsGzip(r) {
		var buf bytes.Buffer
		zw := z.get()
		zw.Reset(&buf)
		_, _ = zw.Write(body)
		_ = zw.Close()
		z.pool.Put(zw)
		if buf.Len() < len(body) {
			h.Set("Content-Encoding", "gzip")
			body = buf.Bytes()
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}
