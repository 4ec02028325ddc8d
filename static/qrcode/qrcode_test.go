package qrcode

import (
	"testing"

	"rsc.io/qr"
)

// TestHallCodeLinkVersion: the hall code (?j= and 6 characters) makes the
// example's vote link a version 4 code (33 modules, like a ticket's link)
// instead of version 3 (29): on the screen's smallest QR code, 300 px at
// 1080p, a module stays 8 px wide.
func TestHallCodeLinkVersion(t *testing.T) {
	for _, tc := range []struct {
		link    string
		version int
	}{
		{"http://192.168.1.20:8080/e/gongshu-2020", 3},
		{"http://192.168.1.20:8080/e/gongshu-2020?j=1sbz39", 4},
		{"https://vote.example.com/e/gongshu-2020?j=1sbz39", 4},
		{"http://192.168.100.200:8080/e/gongshu-2020-round-2?j=1sbz39", 4},
		{"http://192.168.1.20:8080/e/gongshu-2020?ticket=7KQ4M2XPBC", 4},
	} {
		c, err := qr.Encode(tc.link, qr.M)
		if err != nil {
			t.Fatal(err)
		}
		if v := (c.Size - 17) / 4; v != tc.version {
			t.Errorf("%s: version %d, want %d", tc.link, v, tc.version)
		}
		if px := 300 / (c.Size + 2*quiet); tc.version <= 4 && px < 8 {
			t.Errorf("%s: %d px per module at 300 px", tc.link, px)
		}
	}
}
