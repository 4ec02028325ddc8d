// Command leitai runs the leitai server: the vote page, the big screen, the
// control page, the WebSocket hub and the HTTP API, on the embedded store or
// on Redis.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"leitai/hub"
	"leitai/hub/access"
	"leitai/hub/api"
	"leitai/hub/redisbroker"
	"leitai/internal/rehearse"
	"leitai/static"
	"leitai/static/qrcode"
	"leitai/voting"
	"leitai/voting/embedded"
	"leitai/voting/redisstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches subcommands and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "serve":
			args = args[1:]
		case "health":
			return health(ctx, args[1:], stderr)
		case "rehearse":
			return rehearse.Main(ctx, args[1:], stdout, stderr)
		case "audit":
			return audit(ctx, args[1:], stdout, stderr)
		case "control-link":
			return controlLink(args[1:], stdout, stderr)
		}
	}
	cfg, err := ParseFlags("leitai", args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "leitai:", err)
		return 2
	}
	m := NewMain(cfg, stdout, stderr)
	// go-redis logs through a process-wide logger; route it into ours so
	// that --log-format json stays JSON during a Redis outage.
	redis.SetLogger(redisLogger{m.Logger})
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "leitai:", err)
		m.Close()
		return 1
	}
	<-ctx.Done()
	m.Logger.Info("shutting down")
	if err := m.Close(); err != nil {
		fmt.Fprintln(stderr, "leitai: shutdown:", err)
		return 1
	}
	return 0
}

// Main is the running server: built from Config by Run, stopped by Close.
type Main struct {
	Config Config
	Logger *slog.Logger
	Out    io.Writer // where the start banner goes

	// Set by Run.
	Addr        string // the address actually listened on (useful with :0)
	MetricsAddr string // where /metrics is served ("" if not)
	PublicURL   string
	Service     *voting.Service
	Hub         *hub.Hub
	// Credentials sign voter credentials (tests mint named voters with it).
	Credentials *access.Credentials

	reach   publicReach // the public URL, and whether phones can open it
	store   voting.Store
	broker  hub.Broker
	metrics *hub.Metrics
	rdb     redis.UniversalClient
	ln      net.Listener
	server  *http.Server
	pprof   *http.Server
	metricz *http.Server
	served  chan error
	// keyGenerated: the host key was made at this start (the banner
	// prints the control link this once).
	keyGenerated bool
}

// NewMain returns a Main for cfg, logging to stderr.
func NewMain(cfg Config, stdout, stderr io.Writer) *Main {
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(stderr, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(stderr, opts)
	}
	return &Main{Config: cfg, Logger: slog.New(h), Out: stdout}
}

// Run opens the store, starts the hub and the HTTP server, and returns
// once the server listens.
func (m *Main) Run(ctx context.Context) error {
	if m.Config.VoterRate == 0 {
		m.Config.VoterRate = 20 // the flag's default, for configs built in code
	}
	if err := m.Config.Validate(); err != nil {
		return err
	}
	if m.Config.HostKey == "" {
		key, generated, err := loadOrCreateHostKey(m.Config.DataDir)
		if err != nil {
			return err
		}
		m.Config.HostKey, m.keyGenerated = key, generated
	}
	if broad := m.Config.broadProxies(); len(broad) > 0 {
		m.Logger.Warn("--trusted-proxies names wide ranges: any client inside them chooses its own rate-limit bucket with X-Forwarded-For; name the proxies' own addresses", "ranges", broad)
	}
	m.metrics = hub.NewMetrics()
	if err := m.openStore(ctx); err != nil {
		return err
	}
	m.Service = voting.NewService(m.store, nil)
	for _, load := range eventFileLoads(&m.Config) {
		if err := loadEventFile(ctx, m.Service, load, m.Logger); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", m.Config.Addr, err)
	}
	m.ln = ln
	m.Addr = ln.Addr().String()
	m.reach = choosePublicURL(m.Config.PublicURL, m.Addr, interfaceAddrs())
	m.PublicURL = m.reach.URL

	guard, h, a, err := m.newHub(ctx)
	if err != nil {
		return err
	}
	m.Hub = h

	mux, err := m.routes(h, a)
	if err != nil {
		return err
	}

	m.server = &http.Server{
		Handler:           guard.Protect(mux),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelDebug),
	}
	m.served = make(chan error, 1)
	go func() { m.served <- m.server.Serve(ln) }()
	if m.Config.PprofAddr != "" {
		if err := m.servePprof(); err != nil {
			return err
		}
	}
	if m.Config.MetricsAddr != "" {
		if err := m.serveMetrics(); err != nil {
			return err
		}
	}
	m.printBanner(ctx)
	return nil
}

// routes are the server's routes: the sockets, the HTTP API, the pages and
// the health checks.
func (m *Main) routes(h *hub.Hub, a *api.API) (*http.ServeMux, error) {
	mux := http.NewServeMux()
	h.Routes(mux) // the sockets
	a.Routes(mux) // the HTTP API
	pages, err := static.New(static.Config{PublicURL: m.PublicURL, PublicURLProblem: m.reach.Problem, PublicURLFix: m.reach.Fix, EventExists: func(ctx context.Context, id string) (bool, error) {
		_, err := m.Service.Event(ctx, id)
		if errors.Is(err, voting.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	}})
	if err != nil {
		return nil, err
	}
	pages.Routes(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", m.ready)
	return mux, nil
}

// newHub makes the doors (voter credentials, whose secret is in the store,
// and the host key), the hub over them and the API over both.
func (m *Main) newHub(ctx context.Context) (*access.Guard, *hub.Hub, *api.API, error) {
	secret, err := m.store.Secret(ctx, "voter-credentials")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("voter credential secret: %w", err)
	}
	proxies, err := m.Config.Proxies()
	if err != nil {
		return nil, nil, nil, err
	}
	m.Credentials = access.NewCredentials(secret, strings.HasPrefix(m.PublicURL, "https://"), rate.Limit(m.Config.VoterRate)).
		TrustProxies(proxies).WithHallCode(m.Config.HallCodePeriod, nil)
	guard, err := access.NewGuard(access.Config{
		HostKey: m.Config.HostKey, Keys: m.Service, Credentials: m.Credentials, PublicURL: m.Config.PublicURL,
		Logger: m.Logger, Metrics: m.metrics.Doors,
	})
	if err != nil {
		return nil, nil, nil, err
	}
	h, err := hub.New(hub.Config{
		Service: m.Service, Broker: m.broker, Access: guard, Logger: m.Logger,
		StandingsInterval: m.Config.StandingsInterval, Metrics: m.metrics,
	})
	if err != nil {
		return nil, nil, nil, err
	}
	a, err := api.New(api.Config{Service: m.Service, Hub: h, Access: guard, Logger: m.Logger})
	if err != nil {
		h.Close()
		return nil, nil, nil, err
	}
	return guard, h, a, nil
}

// servePprof serves net/http/pprof on its own loopback listener, apart
// from the public mux.
func (m *Main) servePprof() error {
	ln, err := net.Listen("tcp", m.Config.PprofAddr)
	if err != nil {
		return fmt.Errorf("--pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	m.pprof = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = m.pprof.Serve(ln) }()
	m.Logger.Info("serving profiles", "addr", ln.Addr().String())
	return nil
}

// serveMetrics serves /metrics on its own listener (--metrics-addr), so
// that the hall, which reaches --addr, does not read it.
func (m *Main) serveMetrics() error {
	ln, err := net.Listen("tcp", m.Config.MetricsAddr)
	if err != nil {
		return fmt.Errorf("--metrics-addr: %w", err)
	}
	m.MetricsAddr = ln.Addr().String()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.metrics.Registry, promhttp.HandlerOpts{}))
	m.metricz = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = m.metricz.Serve(ln) }()
	if ip, ok := ln.Addr().(*net.TCPAddr); ok && !ip.IP.IsLoopback() {
		m.Logger.Warn("serving /metrics on a non-loopback address: whoever reaches it reads them", "addr", m.MetricsAddr)
	}
	return nil
}

func (m *Main) openStore(ctx context.Context) error {
	if m.Config.RedisURL == "" {
		st, err := embedded.Open(m.Config.DataDir, embedded.WithLogger(m.Logger))
		if err != nil {
			return fmt.Errorf("open the embedded store in %s: %w", m.Config.DataDir, err)
		}
		m.store, m.broker = st, hub.NewMemoryBroker()
		m.Logger.Info("using the embedded store", "dir", m.Config.DataDir)
		return nil
	}
	opt, err := redisOptions(m.Config.RedisURL)
	if err != nil {
		return fmt.Errorf("--redis: %w", err)
	}
	m.rdb = redis.NewUniversalClient(opt)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := m.rdb.Ping(pctx).Err(); err != nil {
		return fmt.Errorf("connect to Redis at %s: %w", strings.Join(opt.Addrs, ","), err)
	}
	m.store = redisstore.New(m.rdb)
	m.broker = redisbroker.New(m.rdb, redisbroker.Options{Logger: m.Logger, OnReconnect: m.metrics.PubSubReconnected})
	m.Logger.Info("using Redis", "addrs", opt.Addrs, "cluster", len(opt.Addrs) > 1)
	return nil
}

// ready answers /readyz: 200 while the store answers, 503 otherwise.
func (m *Main) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := m.store.Ping(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "store unavailable\n")
		return
	}
	_, _ = io.WriteString(w, "ready\n")
}

// Close stops accepting, tells clients to reconnect (going away), flushes
// and closes the store. It returns within about 10 s.
func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	var errs []error
	if m.server != nil {
		// Shutdown closes the listener and waits for plain requests;
		// hijacked WebSockets are closed by the hub meanwhile.
		done := make(chan error, 1)
		go func() { done <- m.server.Shutdown(ctx) }()
		if m.Hub != nil {
			m.Hub.Close()
		}
		if err := <-done; err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
	} else if m.Hub != nil {
		m.Hub.Close()
	}
	if m.pprof != nil {
		_ = m.pprof.Close()
	}
	if m.metricz != nil {
		_ = m.metricz.Close()
	}
	if m.broker != nil {
		errs = append(errs, m.broker.Close())
	}
	if m.store != nil {
		errs = append(errs, m.store.Close())
	}
	if m.rdb != nil {
		if err := m.rdb.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// printBanner prints, for each event, the links a host needs. The control
// link carries the host key: it is printed only when the key was made at
// this start (logs are kept); otherwise the banner says where the key is.
// Phones join from the big screen's QR code, which carries the hall code;
// for an event without the hall code a QR code of the vote link is printed
// too, so that whoever starts the server can test with a phone at once.
func (m *Main) printBanner(ctx context.Context) {
	evs, err := m.store.Events(ctx)
	if err != nil {
		m.Logger.Warn("could not list events", "err", err)
		return
	}
	base := strings.TrimRight(m.PublicURL, "/")
	fmt.Fprintf(m.Out, "\nleitai is listening on %s (public URL %s)\n", m.Addr, base)
	if m.MetricsAddr != "" {
		fmt.Fprintf(m.Out, "metrics: http://%s/metrics\n", m.MetricsAddr)
	}
	if m.reach.Problem != "" {
		// Said where the person starting the server looks, and logged.
		why, fix := reachText(m.reach, m.Addr)
		fmt.Fprintf(m.Out, "\nWARN  phones cannot open %s: %s.\n      To fix: %s.\n", base, why, fix)
		m.Logger.Warn("phones cannot open the public URL", "url", base, "why", why, "fix", fix)
	}
	if len(evs) == 0 {
		fmt.Fprintf(m.Out, "No events yet: start with --event examples/gongshu-2020.yaml, or create one through the API (see README).\n")
	}
	for _, ev := range evs {
		m.printEventLinks(base, ev)
	}
	if !m.keyGenerated && len(evs) > 0 {
		fmt.Fprintf(m.Out, "\nThe host key is %s; `leitai control-link EVENT` prints a control link with it.\n", m.keyWhere())
	}
	fmt.Fprintf(m.Out, "\nServing. Ctrl-C stops the server gracefully.\n")
}

// printEventLinks prints one event's links (see printBanner).
func (m *Main) printEventLinks(base string, ev voting.Event) {
	vote := base + "/e/" + ev.ID
	fmt.Fprintf(m.Out, "\n%s  %s\n  vote:    %s\n", ev.ID, ev.Title, vote)
	if !ev.NoHallCode {
		fmt.Fprintf(m.Out, "           phones join from the big screen's QR code (it adds the hall code 现场码)\n")
	}
	fmt.Fprintf(m.Out, "  screen:  open it from the control page (大屏): that link carries the screen key\n")
	if m.keyGenerated {
		fmt.Fprintf(m.Out, "  control: %s/control#key=%s   (printed once: the key was just made)\n", vote, m.Config.HostKey)
	} else {
		fmt.Fprintf(m.Out, "  control: %s/control\n", vote)
	}
	if ev.NoHallCode {
		if qr, err := qrcode.Terminal(vote); err == nil {
			fmt.Fprintf(m.Out, "\n%s", qr)
		}
	}
}

// keyWhere says where the host key in force comes from, without it.
func (m *Main) keyWhere() string {
	if m.Config.HostKey == envOr("LEITAI_HOST_KEY", "") && m.Config.HostKey != "" {
		return "the one configured (--host-key or LEITAI_HOST_KEY)"
	}
	if k, err := loadHostKey(m.Config.DataDir); err == nil && k == m.Config.HostKey {
		return "in " + hostKeyFile(m.Config.DataDir)
	}
	return "the one configured (--host-key or LEITAI_HOST_KEY)"
}

// health is the container health check: GET /readyz on the local server.
// Distroless images have no curl, so the binary checks itself.
func health(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("leitai health", flag.ContinueOnError)
	addr := envOr("LEITAI_ADDR", ":8080")
	if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	u := fs.String("url", "http://"+addr+"/readyz", "`URL` to check")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *u, nil)
	if err != nil {
		fmt.Fprintln(stderr, "health:", err)
		return 2
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "health:", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(stderr, "health:", resp.Status)
		return 1
	}
	return 0
}

// redisOptions reads --redis: a redis:// URL for one server, or one with
// several comma-separated host:port pairs (or addr= parameters) for the
// nodes of a Redis Cluster.
func redisOptions(raw string) (*redis.UniversalOptions, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if strings.Contains(u.Host, ",") {
		hosts := strings.Split(u.Host, ",")
		u.Host = hosts[0]
		q := u.Query()
		for _, h := range hosts[1:] {
			q.Add("addr", h)
		}
		u.RawQuery = q.Encode()
		raw = u.String()
	}
	if u.Query().Has("addr") {
		if u.Path != "" && u.Path != "/" && u.Path != "/0" {
			return nil, errors.New("a Redis Cluster has only database 0")
		}
		u.Path = ""
		copt, err := redis.ParseClusterURL(u.String())
		if err != nil {
			return nil, err
		}
		return &redis.UniversalOptions{
			Addrs: copt.Addrs, Username: copt.Username, Password: copt.Password, TLSConfig: copt.TLSConfig,
			IsClusterMode: true, ContextTimeoutEnabled: true,
		}, nil
	}
	opt, err := redis.ParseURL(raw)
	if err != nil {
		return nil, err
	}
	return &redis.UniversalOptions{
		Addrs: []string{opt.Addr}, DB: opt.DB, Username: opt.Username, Password: opt.Password, TLSConfig: opt.TLSConfig,
		ContextTimeoutEnabled: true,
	}, nil
}

// redisLogger adapts slog to go-redis's logger.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}
