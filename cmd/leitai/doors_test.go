package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// Issue 13 on the server's side: where the host key shows, where /metrics
// is served, the warning about wide trusted proxies.

// startQuiet runs a Main with cfg and returns it with its banner and log.
func startQuiet(t *testing.T, cfg Config) (m *Main, banner, log *bytes.Buffer) {
	t.Helper()
	banner, log = &bytes.Buffer{}, &bytes.Buffer{}
	m = NewMain(cfg, banner, log)
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m, banner, log
}

// TestBannerPrintsGeneratedKeyOnce: a host key made at this start is
// printed once, in the control link; at the next start, and with a
// configured key, the banner says where the key is, and `leitai
// control-link` prints the link on demand.
func TestBannerPrintsGeneratedKeyOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := Config{Addr: "127.0.0.1:0", DataDir: dir, PublicURL: "http://vote.example.test", LogFormat: "text", LogLevel: "info",
		StandingsInterval: 100 * time.Millisecond, EventFiles: []string{"../../examples/gongshu-2020.yaml"}}
	m, banner, _ := startQuiet(t, cfg)
	key := m.Config.HostKey
	if len(key) < MinHostKeyLength || !strings.Contains(banner.String(), "/e/gongshu-2020/control#key="+key) {
		t.Fatalf("first start, key %q:\n%s", key, banner)
	}
	_ = m.Close()

	m2, banner2, log2 := startQuiet(t, cfg)
	if m2.Config.HostKey != key {
		t.Fatalf("the key changed across a restart")
	}
	for _, out := range []string{banner2.String(), log2.String()} {
		if strings.Contains(out, key) {
			t.Fatalf("second start shows the key:\n%s", out)
		}
	}
	if !strings.Contains(banner2.String(), hostKeyFile(dir)) || !strings.Contains(banner2.String(), "control-link") {
		t.Errorf("second start does not say where the key is:\n%s", banner2)
	}
	_ = m2.Close()

	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"control-link", "--data", dir, "--public-url", "http://vote.example.test/", "gongshu-2020"}, &out, &errOut); code != 0 {
		t.Fatalf("control-link: exit %d: %s", code, errOut.String())
	}
	if got := strings.TrimSpace(out.String()); got != "http://vote.example.test/e/gongshu-2020/control#key="+key {
		t.Errorf("control-link printed %q", got)
	}
	for _, args := range [][]string{{"control-link"}, {"control-link", "Not An Id"}, {"control-link", "--data", t.TempDir(), "ev"}} {
		if code := run(context.Background(), args, io.Discard, io.Discard); code == 0 {
			t.Errorf("%v: exit 0", args)
		}
	}
	// A short key left in the data directory is refused, not used.
	if err := os.WriteFile(hostKeyFile(dir), []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := NewMain(cfg, io.Discard, io.Discard).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "fewer than 16") {
		t.Errorf("a short stored key: %v", err)
	}
}

// TestMetricsApart: /metrics is served on --metrics-addr, not on the port
// the hall reaches; wide trusted-proxy ranges are warned about at start.
func TestMetricsApart(t *testing.T) {
	t.Parallel()
	m, banner, log := startQuiet(t, Config{
		Addr: "127.0.0.1:0", MetricsAddr: "127.0.0.1:0", DataDir: t.TempDir(), HostKey: "metrics-test-host-key",
		LogFormat: "text", LogLevel: "info", StandingsInterval: 100 * time.Millisecond, TrustedProxies: "127.0.0.1, 10.0.0.0/8",
	})
	get := func(url string) int {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := get("http://" + m.Addr + "/metrics"); s != http.StatusNotFound {
		t.Errorf("/metrics on the public port: %d", s)
	}
	if s := get("http://" + m.MetricsAddr + "/metrics"); s != http.StatusOK {
		t.Errorf("/metrics on --metrics-addr: %d", s)
	}
	if !strings.Contains(banner.String(), "metrics: http://"+m.MetricsAddr+"/metrics") {
		t.Errorf("the banner does not say where /metrics is:\n%s", banner)
	}
	if !strings.Contains(log.String(), "10.0.0.0/8") || !strings.Contains(log.String(), "--trusted-proxies names wide ranges") {
		t.Errorf("no warning about 10.0.0.0/8:\n%s", log)
	}
}
