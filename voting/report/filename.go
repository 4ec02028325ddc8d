package report

import (
	"strings"
	"unicode"
)

// FileName names a download after the event and its date:
// "<title>-<YYYY-MM-DD>.xlsx", or with a part ("排名") between them. ascii
// is the same with the event id instead of the title (and slug instead of
// the part), for clients that cannot read a UTF-8 file name.
func (r *Report) FileName(part, slug, ext string) (name, ascii string) {
	date := r.Date().Format("2006-01-02")
	title := cleanName(r.Title)
	if title == "" {
		title = r.Event
	}
	name, ascii = title, r.Event
	if part != "" {
		name += "-" + part
	}
	if slug != "" {
		ascii += "-" + slug
	}
	return name + "-" + date + "." + ext, ascii + "-" + date + "." + ext
}

// cleanName drops what file systems refuse (\ / : * ? " < > | and control
// characters) and keeps the name at most 80 characters.
func cleanName(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.TrimSpace(s) {
		if unicode.IsControl(r) || strings.ContainsRune(`\/:*?"<>|`, r) {
			continue
		}
		if n == 80 {
			break
		}
		b.WriteRune(r)
		n++
	}
	return strings.Trim(b.String(), " .")
}
