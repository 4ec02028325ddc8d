package main

import (
	"bytes"
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestChoosePublicURL(t *testing.T) {
	t.Parallel()
	addrs := func(s ...string) []netip.Addr {
		var out []netip.Addr
		for _, a := range s {
			out = append(out, netip.MustParseAddr(a))
		}
		return out
	}
	for _, c := range []struct {
		name, configured, listen string
		addrs                    []netip.Addr
		want                     publicReach
	}{
		{"the hall's Wi-Fi", "", "[::]:8080", addrs("fe80::1", "192.168.1.20"),
			publicReach{URL: "http://192.168.1.20:8080"}},
		{"private before public", "", "[::]:8080", addrs("203.0.113.9", "8.8.4.4", "10.0.0.5"),
			publicReach{URL: "http://10.0.0.5:8080"}},
		{"a public address", "", "0.0.0.0:80", addrs("8.8.4.4"),
			publicReach{URL: "http://8.8.4.4:80"}},
		// The machine: only a documentation-range address.
		{"documentation range only", "", "[::]:8080", addrs("192.0.2.2"),
			publicReach{URL: "http://127.0.0.1:8080", Problem: reachLoopback, Fix: "--public-url http://192.0.2.2:8080"}},
		{"no network", "", "[::]:8080", nil,
			publicReach{URL: "http://127.0.0.1:8080", Problem: reachLoopback}},
		{"link-local only", "", "[::]:8080", addrs("169.254.10.1", "fe80::2"),
			publicReach{URL: "http://127.0.0.1:8080", Problem: reachLoopback}},
		{"IPv6 only", "", "[::]:8080", addrs("2001:db8::7"),
			publicReach{URL: "http://127.0.0.1:8080", Problem: reachLoopback, Fix: "--public-url http://[2001:db8::7]:8080"}},
		{"listening on loopback", "", "127.0.0.1:8080", addrs("192.168.1.20"),
			publicReach{URL: "http://127.0.0.1:8080", Problem: reachListen, Fix: "--addr :8080"}},
		{"listening on one LAN address", "", "192.168.1.20:9000", addrs("10.0.0.5", "192.168.1.20"),
			publicReach{URL: "http://192.168.1.20:9000"}},
		{"configured", "https://vote.example.com", "127.0.0.1:8080", addrs("192.168.1.20"),
			publicReach{URL: "https://vote.example.com"}},
		{"configured localhost", "http://localhost:8080", "[::]:8080", addrs("192.168.1.20"),
			publicReach{URL: "http://localhost:8080", Problem: reachLoopback, Fix: "--public-url http://192.168.1.20:8080"}},
		{"configured 127.x", "http://127.0.1.1:8080/", "[::]:8080", nil,
			publicReach{URL: "http://127.0.1.1:8080/", Problem: reachLoopback}},
		{"configured ::1", "http://[::1]:8080", "[::]:8080", nil,
			publicReach{URL: "http://[::1]:8080", Problem: reachLoopback}},
		{"configured link-local", "http://169.254.3.4:8080", "[::]:8080", addrs("192.168.1.20"),
			publicReach{URL: "http://169.254.3.4:8080", Problem: reachLinkLocal, Fix: "--public-url http://192.168.1.20:8080"}},
		{"configured 0.0.0.0", "http://0.0.0.0:8080", "[::]:8080", addrs("192.168.1.20"),
			publicReach{URL: "http://0.0.0.0:8080", Problem: reachUnspecified, Fix: "--public-url http://192.168.1.20:8080"}},
		{"configured app.localhost", "http://app.localhost", "[::]:8080", nil,
			publicReach{URL: "http://app.localhost", Problem: reachLoopback}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := choosePublicURL(c.configured, c.listen, c.addrs); got != c.want {
				t.Errorf("choosePublicURL(%q, %q, %v) = %+v, want %+v", c.configured, c.listen, c.addrs, got, c.want)
			}
		})
	}
}

// TestBannerWarnsUnreachablePublicURL: a server whose links phones cannot
// open says so in its start banner and its log, with the fix; one with a
// LAN address says nothing of the kind.
func TestBannerWarnsUnreachablePublicURL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		public string
		warn   bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://localhost:8080", true},
		{"http://192.168.1.20:8080", false},
	} {
		t.Run(c.public, func(t *testing.T) {
			var out, logs bytes.Buffer
			m := NewMain(Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), HostKey: "banner-test-host-key", PublicURL: c.public,
				StandingsInterval: 100 * time.Millisecond, LogFormat: "text", LogLevel: "info", EventFiles: []string{"../../examples/gongshu-2020.yaml"}}, &out, &logs)
			if err := m.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = m.Close() })
			banner := out.String()
			if !strings.Contains(banner, c.public+"/e/gongshu-2020") {
				t.Errorf("the banner lacks the vote link:\n%s", banner)
			}
			hasWarn := strings.Contains(banner, "WARN  phones cannot open "+c.public) && strings.Contains(banner, "loopback") &&
				strings.Contains(banner, "--public-url")
			logged := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "phones cannot open the public URL")
			if hasWarn != c.warn || logged != c.warn {
				t.Errorf("warned in the banner %v, in the log %v; want %v\nbanner:\n%s\nlog:\n%s", hasWarn, logged, c.warn, banner, logs.String())
			}
			if strings.Contains(banner, "WARN") != c.warn {
				t.Errorf("WARN in the banner: %v, want %v", !c.warn, c.warn)
			}
		})
	}
}
