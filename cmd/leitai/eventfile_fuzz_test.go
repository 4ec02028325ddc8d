package main

import (
	"os"
	"testing"
)

// FuzzParseEventFile: no file content makes the parser panic, and any
// event it accepts is valid.
func FuzzParseEventFile(f *testing.F) {
	if b, err := os.ReadFile("../../examples/gongshu-2020.yaml"); err == nil {
		f.Add(b)
	}
	for _, s := range []string{
		"id: a\ntitle: t\n", "id: a\ntitle: t\nrules: {min: 1, max: 10, step: 1, trim: 1}\n",
		"id: [\n", "{}", "id: a\ntitle: t\ncontestants: [{name: 甲, group: 一组}, {name: 乙}]\n",
		"id: a\ntitle: t\npanels: [{id: j, name: J, weight: 40, key: k}]\n", "&a [*a]", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := ParseEventFile(data)
		if err != nil {
			return
		}
		if err := ev.Validate(); err != nil {
			t.Fatalf("accepted an invalid event: %v", err)
		}
	})
}
