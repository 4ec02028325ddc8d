package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRedisOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url     string
		addrs   []string
		db      int
		cluster bool
		wantErr string
	}{
		{url: "redis://127.0.0.1:6379/2", addrs: []string{"127.0.0.1:6379"}, db: 2},
		{url: "redis://:secret@10.0.0.5:6379", addrs: []string{"10.0.0.5:6379"}},
		{url: "redis://a:7000,b:7001,c:7002", addrs: []string{"a:7000", "b:7001", "c:7002"}, cluster: true},
		{url: "redis://a:7000?addr=b:7001&addr=c:7002", addrs: []string{"a:7000", "b:7001", "c:7002"}, cluster: true},
		{url: "redis://a:7000,b:7001/3", wantErr: "database 0"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			opt, err := redisOptions(tt.url)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(opt.Addrs, tt.addrs) || opt.DB != tt.db || opt.IsClusterMode != tt.cluster {
				t.Fatalf("got addrs %v db %d cluster %v", opt.Addrs, opt.DB, opt.IsClusterMode)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := Config{Addr: ":8080", DataDir: "data", LogFormat: "text", LogLevel: "info", StandingsInterval: 100e6, VoterRate: 20}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"addr", func(c *Config) { c.Addr = "8080" }, "--addr"},
		{"redis scheme", func(c *Config) { c.RedisURL = "http://x:1" }, "--redis"},
		{"public url", func(c *Config) { c.PublicURL = "vote.example.com" }, "--public-url"},
		{"short key", func(c *Config) { c.HostKey = "abc" }, "--host-key"},
		{"15-character key", func(c *Config) { c.HostKey = "fifteen-chars!!" }, "at least 16"},
		{"metrics addr", func(c *Config) { c.MetricsAddr = "9180" }, "--metrics-addr"},
		{"hall code period", func(c *Config) { c.HallCodePeriod = time.Hour }, "--hall-code-period"},
		{"log format", func(c *Config) { c.LogFormat = "xml" }, "--log-format"},
		{"interval", func(c *Config) { c.StandingsInterval = 1 }, "--standings-interval"},
		{"data", func(c *Config) { c.DataDir = "" }, "--data"},
		{"proxy", func(c *Config) { c.TrustedProxies = "127.0.0.1, proxy.local" }, "--trusted-proxies"},
		{"proxy cidr", func(c *Config) { c.TrustedProxies = "10.0.0.0/33" }, "--trusted-proxies"},
	}
	withProxies := ok
	withProxies.TrustedProxies = "127.0.0.1, 10.0.0.0/8,::1"
	if ps, err := withProxies.Proxies(); err != nil || len(ps) != 3 || withProxies.Validate() != nil {
		t.Fatalf("trusted proxies: %v, %v", ps, err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.change(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %s", err, tt.want)
			}
		})
	}
}

func TestParseFlagsEnvironment(t *testing.T) {
	t.Setenv("LEITAI_ADDR", "127.0.0.1:9999")
	t.Setenv("LEITAI_LOG_FORMAT", "json")
	c, err := ParseFlags("leitai", []string{"--log-format", "text", "--event", "a.yaml", "--event", "b.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9999" || c.LogFormat != "text" || !slices.Equal(c.EventFiles, []string{"a.yaml", "b.yaml"}) {
		t.Fatalf("config %+v", c)
	}
	// /metrics is on loopback unless told otherwise; the hall code turns
	// every 30 s.
	if c.MetricsAddr != DefaultMetricsAddr || !strings.HasPrefix(c.MetricsAddr, "127.0.0.1:") || c.HallCodePeriod != 30*time.Second {
		t.Fatalf("defaults %+v", c)
	}
}
