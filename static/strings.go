package static

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// stringLine is one entry of a dictionary in i18n.js: "key": "text",
var stringLine = regexp.MustCompile(`^\s*"([a-zA-Z0-9_.-]+)":\s*("(?:[^"\\]|\\.)*"),?\s*$`)

// Dictionary reads one language ("zh" or "en") of the string table
// i18n.js: the object literal `const <lang> = { ... };`, one "key": "text"
// entry a line. It refuses a line it cannot read, so that the table stays
// readable by the server (which renders the Chinese before scripts run)
// as well as by the pages.
func Dictionary(src []byte, lang string) (map[string]string, error) {
	s := string(src)
	start := strings.Index(s, "\nconst "+lang+" = {\n")
	if start < 0 {
		return nil, fmt.Errorf("static: i18n.js has no dictionary %q", lang)
	}
	body := s[start+len("\nconst "+lang+" = {\n"):]
	end := strings.Index(body, "\n};")
	if end < 0 {
		return nil, fmt.Errorf("static: i18n.js: dictionary %q does not end", lang)
	}
	out := make(map[string]string)
	for i, line := range strings.Split(body[:end], "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "//") {
			continue
		}
		m := stringLine.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("static: i18n.js %s, line %d of the dictionary: not \"key\": \"text\",: %q", lang, i+1, line)
		}
		var text string
		if err := json.Unmarshal([]byte(m[2]), &text); err != nil {
			return nil, fmt.Errorf("static: i18n.js %s %q: %w", lang, m[1], err)
		}
		if _, dup := out[m[1]]; dup {
			return nil, fmt.Errorf("static: i18n.js %s: %q appears twice", lang, m[1])
		}
		out[m[1]] = text
	}
	return out, nil
}
