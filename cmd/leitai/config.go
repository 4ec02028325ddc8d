package main

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the server's configuration: flags, each with an environment
// variable that sets its default.
type Config struct {
	Addr              string        // --addr, LEITAI_ADDR
	RedisURL          string        // --redis, LEITAI_REDIS_URL; empty: the embedded store
	DataDir           string        // --data, LEITAI_DATA_DIR
	PublicURL         string        // --public-url, LEITAI_PUBLIC_URL
	HostKey           string        // --host-key, LEITAI_HOST_KEY
	EventFiles        []string      // --event (repeatable)
	ApplyEventFiles   []string      // --apply-event (repeatable): applied even over the host's changes
	LogFormat         string        // --log-format, LEITAI_LOG_FORMAT: text or json
	LogLevel          string        // --log-level, LEITAI_LOG_LEVEL
	StandingsInterval time.Duration // --standings-interval, LEITAI_STANDINGS_INTERVAL
	PprofAddr         string        // --pprof, LEITAI_PPROF: loopback address for net/http/pprof
	VoterRate         float64       // --voter-rate, LEITAI_VOTER_RATE: new voter credentials per second per address
	TrustedProxies    string        // --trusted-proxies, LEITAI_TRUSTED_PROXIES: comma-separated IPs or CIDRs
	MetricsAddr       string        // --metrics-addr, LEITAI_METRICS_ADDR: where /metrics is served; empty: nowhere
	HallCodePeriod    time.Duration // --hall-code-period, LEITAI_HALL_CODE_PERIOD: how long the big screen shows one hall code
}

// DefaultMetricsAddr is where /metrics is served unless configured: on
// loopback, apart from the port the hall reaches.
const DefaultMetricsAddr = "127.0.0.1:9180"

// MinHostKeyLength is the shortest host key the server accepts.
const MinHostKeyLength = 16

// broadProxies returns the trusted proxy ranges wider than a /24 (IPv4)
// or a /64 (IPv6): every address in them may choose its own rate-limit
// bucket with X-Forwarded-For, and phones on the hall's network may be
// among them.
func (c *Config) broadProxies() []string {
	ps, _ := c.Proxies()
	var out []string
	for _, p := range ps {
		if (p.Addr().Is4() && p.Bits() < 24) || (!p.Addr().Is4() && p.Bits() < 64) {
			out = append(out, p.String())
		}
	}
	return out
}

// Proxies parses TrustedProxies (Validate has checked it).
func (c *Config) Proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(c.TrustedProxies, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("--trusted-proxies: %q is not an IP address or CIDR", f)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is not an IP address or CIDR", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// envOr returns the environment variable or def.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// ParseFlags reads the configuration from args and the environment.
func ParseFlags(name string, args []string) (Config, error) {
	var c Config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `leitai (擂台) — live voting for stage competitions

Usage:
  leitai [flags]            run the server
  leitai control-link [flags] --event ID
                            print an event's control link (it carries the host key)
  leitai rehearse --help    simulate phones against a running server
  leitai audit verify --help  check an event's audit log and standings

Every flag has an environment variable; the flag wins.

`)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.Addr, "addr", envOr("LEITAI_ADDR", ":8080"), "`address` to listen on (LEITAI_ADDR)")
	fs.StringVar(&c.RedisURL, "redis", envOr("LEITAI_REDIS_URL", ""),
		"Redis `URL` (redis://host:6379/0); several instances with the same Redis serve the same events.\nEmpty: the embedded store in --data, for a single instance (LEITAI_REDIS_URL)")
	fs.StringVar(&c.DataDir, "data", envOr("LEITAI_DATA_DIR", "data"), "`directory` for the embedded store and the generated host key (LEITAI_DATA_DIR)")
	fs.StringVar(&c.PublicURL, "public-url", envOr("LEITAI_PUBLIC_URL", ""),
		"`URL` that phones open (the QR code's target), e.g. https://vote.example.com.\nDefault: this machine's LAN address and port (LEITAI_PUBLIC_URL)")
	fs.StringVar(&c.HostKey, "host-key", envOr("LEITAI_HOST_KEY", ""),
		"the `key` that guards the control page and every host action.\nDefault: generated once and kept in the data directory (LEITAI_HOST_KEY)")
	fs.Var((*stringList)(&c.EventFiles), "event", "event `file` (YAML) to load at start: creates the event; an existing event is updated only when\nthe file changed since it was applied and the event has no ballots and no changes from the control page; repeatable")
	fs.Var((*stringList)(&c.ApplyEventFiles), "apply-event", "event `file` (YAML) to apply at start even over changes made on the control page (not once the event has ended,\nnor changes to the scoring once it has ballots); use once, then go back to --event; repeatable")
	fs.StringVar(&c.LogFormat, "log-format", envOr("LEITAI_LOG_FORMAT", "text"), "log `format`: text or json (LEITAI_LOG_FORMAT)")
	fs.StringVar(&c.LogLevel, "log-level", envOr("LEITAI_LOG_LEVEL", "info"), "log `level`: debug, info, warn, error (LEITAI_LOG_LEVEL)")
	interval := envOr("LEITAI_STANDINGS_INTERVAL", "100ms")
	d, err := time.ParseDuration(interval)
	if err != nil {
		return c, fmt.Errorf("LEITAI_STANDINGS_INTERVAL: %w", err)
	}
	fs.DurationVar(&c.StandingsInterval, "standings-interval", d, "shortest `time` between two standings updates of an event (LEITAI_STANDINGS_INTERVAL)")
	fs.StringVar(&c.PprofAddr, "pprof", envOr("LEITAI_PPROF", ""), "serve Go profiling (net/http/pprof) on this loopback `address`, e.g. 127.0.0.1:6060; off when empty (LEITAI_PPROF)")
	voterRate, err := strconv.ParseFloat(envOr("LEITAI_VOTER_RATE", "20"), 64)
	if err != nil {
		return c, fmt.Errorf("LEITAI_VOTER_RATE: %w", err)
	}
	fs.Float64Var(&c.VoterRate, "voter-rate", voterRate, "new voter credentials issued per second per client `address` (bursts of 20×); halls behind one NAT address share it; each instance counts on its own (LEITAI_VOTER_RATE)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", envOr("LEITAI_TRUSTED_PROXIES", ""), "reverse proxies in front of leitai (comma-separated `IPs or CIDRs`, e.g. 127.0.0.1 or 10.0.0.5): their X-Forwarded-For names the phone for per-address limits.\nName the proxies only: a client inside a trusted range picks its own limit (LEITAI_TRUSTED_PROXIES)")
	period, err := time.ParseDuration(envOr("LEITAI_HALL_CODE_PERIOD", "30s"))
	if err != nil {
		return c, fmt.Errorf("LEITAI_HALL_CODE_PERIOD: %w", err)
	}
	fs.DurationVar(&c.HallCodePeriod, "hall-code-period", period, "how long the big screen shows one hall code (现场码); a code admits new phones for two such `periods` (LEITAI_HALL_CODE_PERIOD)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", envOr("LEITAI_METRICS_ADDR", DefaultMetricsAddr), "`address` that serves /metrics (Prometheus), apart from --addr; empty: not served (LEITAI_METRICS_ADDR)")
	err = parseRest(fs, &c, args)
	return c, err
}

// parseRest parses args with fs and checks the result.
func parseRest(fs *flag.FlagSet, c *Config, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	return c.Validate()
}

// Validate reports the first problem with the configuration.
func (c *Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("--addr %q: want host:port or :port", c.Addr)
	}
	if c.RedisURL != "" {
		u, err := url.Parse(c.RedisURL)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			return fmt.Errorf("--redis %q: want redis://host:port[/db] (or rediss:// for TLS), or redis://host1:port1,host2:port2,... for a cluster", c.RedisURL)
		}
		if _, err := redisOptions(c.RedisURL); err != nil {
			return fmt.Errorf("--redis: %w", err)
		}
	}
	if c.DataDir == "" {
		return errors.New("--data must name a directory")
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--public-url %q: want http(s)://host[:port]", c.PublicURL)
		}
	}
	if c.HostKey != "" && len(c.HostKey) < MinHostKeyLength {
		return fmt.Errorf("--host-key: use at least %d characters (a short key can be guessed)", MinHostKeyLength)
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return fmt.Errorf("--metrics-addr %q: want host:port, or empty for none", c.MetricsAddr)
		}
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("--log-format %q: want text or json", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	if c.VoterRate < 0.1 || c.VoterRate > 100000 {
		return errors.New("--voter-rate: between 0.1 and 100000 per second")
	}
	if _, err := c.Proxies(); err != nil {
		return err
	}
	if c.PprofAddr != "" {
		host, _, err := net.SplitHostPort(c.PprofAddr)
		if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
			return fmt.Errorf("--pprof %q: want a loopback host:port (profiles must not be public)", c.PprofAddr)
		}
	}
	if c.HallCodePeriod != 0 && (c.HallCodePeriod < time.Second || c.HallCodePeriod > 10*time.Minute) {
		return errors.New("--hall-code-period: between 1s and 10m")
	}
	if c.StandingsInterval < 10*time.Millisecond || c.StandingsInterval > 10*time.Second {
		return errors.New("--standings-interval: between 10ms and 10s")
	}
	return nil
}

// hostKeyFile is where the generated host key is kept in the data directory.
func hostKeyFile(dir string) string { return filepath.Join(dir, "host-key") }

// loadHostKey returns the key kept in the data directory ("" if none).
func loadHostKey(dir string) (string, error) {
	b, err := os.ReadFile(hostKeyFile(dir))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read host key: %w", err)
	}
	k := strings.TrimSpace(string(b))
	if k != "" && len(k) < MinHostKeyLength {
		return "", fmt.Errorf("the host key in %s has fewer than %d characters: replace it (or delete the file to have one made)", hostKeyFile(dir), MinHostKeyLength)
	}
	return k, nil
}

// loadOrCreateHostKey returns the key kept in the data directory, making
// one (160 random bits) the first time; generated says it was made now.
func loadOrCreateHostKey(dir string) (key string, generated bool, err error) {
	if k, err := loadHostKey(dir); err != nil || k != "" {
		return k, false, err
	}
	key, err = newHostKeyFile(dir)
	return key, err == nil, err
}

func newHostKeyFile(dir string) (string, error) {
	path := hostKeyFile(dir)
	raw := make([]byte, 20)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	key := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create data directory: %w", err)
	}
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write host key: %w", err)
	}
	return key, nil
}
