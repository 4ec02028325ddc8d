package rehearse

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/pprof"
	"strings"
	"time"
)

// Main is `leitai rehearse`: it parses args, runs the rehearsal and writes
// the report to stdout (a table, or JSON with --json) and the progress
// line to stderr. It returns the exit status: 0 when nothing was lost or
// miscounted, 1 when something was (or the rehearsal could not run), 2 for
// a usage error.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, opts, err := ParseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "leitai rehearse:", err)
		return 2
	}
	if opts.CPUProfile != "" {
		f, err := os.Create(opts.CPUProfile)
		if err != nil {
			fmt.Fprintln(stderr, "leitai rehearse:", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "leitai rehearse:", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "leitai rehearse:", err)
		return 1
	}
	if opts.JSON {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "leitai rehearse:", err)
		return 1
	}
	if !rep.OK {
		return 1
	}
	return 0
}

type urlList []string

func (u *urlList) String() string { return strings.Join(*u, ",") }
func (u *urlList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*u = append(*u, s)
		}
	}
	return nil
}

// Options are the flags of `leitai rehearse` that are not part of Config.
type Options struct {
	JSON       bool   // --json: print the report as JSON
	CPUProfile string // --cpuprofile: profile the load generator itself
}

// ParseFlags reads the command line of `leitai rehearse`.
func ParseFlags(args []string, stderr io.Writer) (cfg Config, opts Options, err error) {
	fs := flag.NewFlagSet("leitai rehearse", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `leitai rehearse — simulated phones and screens against a running leitai server

Usage:
  leitai rehearse --url http://SERVER:8080 --host-key KEY [flags]

Creates a fresh event (deleted afterwards unless --keep-event), connects the
voters and screens, runs every contestant through next → open → close as a
host would, and checks at the end that the server's standings are exactly
those of the acknowledged ballots. Exit status 0: nothing lost or
miscounted; 1: something was (or the run failed); 2: bad flags.

`)
		fs.PrintDefaults()
	}
	var urls urlList
	fs.Var(&urls, "url", "base `URL` of the server (repeatable or comma-separated: voters and screens are spread over several instances; the host drives the first).\nDefault $LEITAI_URL or http://127.0.0.1:8080")
	fs.StringVar(&cfg.HostKey, "host-key", os.Getenv("LEITAI_HOST_KEY"), "the server's host `key` (LEITAI_HOST_KEY)")
	fs.Var((*urlList)(&cfg.MetricsURLs), "metrics-url", "base `URL` of each server's /metrics (its --metrics-addr, e.g. http://127.0.0.1:9180), in the order of --url;\nwithout it the report has no server figures")
	fs.IntVar(&cfg.Voters, "voters", 200, "simulated phones")
	fs.IntVar(&cfg.Screens, "screens", 1, "simulated big screens")
	fs.IntVar(&cfg.Judges, "judges", 0, "of the voters, how many vote in a keyed judges panel (0: one panel)")
	fs.IntVar(&cfg.Contestants, "contestants", 8, "contestants, one stage round each")
	fs.IntVar(&cfg.Groups, "groups", 2, "groups the contestants are spread over (0: none)")
	fs.Float64Var(&cfg.Ramp, "ramp", 500, "connections opened per second (0: all at once)")
	think := fs.String("think", "1s-5s", "a voter's think time before each ballot: `min-max` (or one duration)")
	fs.Float64Var(&cfg.ChangeProb, "change", 0.2, "chance that a voter changes an acknowledged ballot (0–1)")
	fs.IntVar(&cfg.MaxChanges, "max-changes", 2, "at most this many changes per voter and contestant")
	fs.DurationVar(&cfg.Present, "present", time.Second, "pause between putting a contestant on stage and opening voting")
	fs.DurationVar(&cfg.Window, "window", 0, "how long voting stays open per contestant (0: think max + 1s, twice the think max with changes)")
	fs.BoolVar(&cfg.Countdown, "countdown", false, "start a countdown of the window when voting opens")
	fs.Float64Var(&cfg.Rate, "rate", 0, "open loop: ballots a second, Poisson arrivals on random connected phones, sent whether or not earlier ones were acknowledged (0: closed loop, think times)")
	fs.DurationVar(&cfg.Duration, "duration", 0, "open loop: how long ballots are sent per contestant (the voting window)")
	fs.DurationVar(&cfg.Settle, "settle", 2*time.Second, "pause once every client is connected, before the first contestant (idle memory is read then)")
	sources := fs.String("source-ips", "", "local `addresses` to connect from, round-robin, e.g. 127.0.0.1-127.0.0.8 or 10.0.0.5,10.0.0.6\n(one address runs out of ports past ~28,000 connections to one server)")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "random seed for think times and scores (0: random; the report names it)")
	fs.StringVar(&cfg.EventID, "event", "", "`id` of the event to create (default rehearsal-<random>); it must not exist")
	fs.BoolVar(&cfg.KeepEvent, "keep-event", false, "leave the rehearsal event on the server afterwards")
	fs.BoolVar(&cfg.SkipVoterCheck, "skip-voter-check", false, "skip reading every voter's ballots back at the end (one GET per voter)")
	fs.DurationVar(&cfg.GiveUp, "give-up", time.Minute, "a client that cannot (re)connect for this long counts as failed")
	fs.DurationVar(&cfg.Timeout, "timeout", 0, "stop the whole run after this long (0: computed from the other flags)")
	fs.BoolVar(&opts.JSON, "json", false, "print the report as JSON")
	fs.StringVar(&opts.CPUProfile, "cpuprofile", "", "write a CPU profile of the load generator itself to `file` (go tool pprof)")
	progress := fs.Duration("progress", 0, "progress line interval on stderr (0: 1s on a terminal, else 5s)")
	quiet := fs.Bool("quiet", false, "no progress line")
	if err := fs.Parse(args); err != nil {
		return cfg, opts, err
	}
	if fs.NArg() > 0 {
		return cfg, opts, fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	if len(urls) == 0 {
		_ = urls.Set(cmp.Or(os.Getenv("LEITAI_URL"), "http://127.0.0.1:8080"))
	}
	cfg.URLs = urls
	if len(cfg.MetricsURLs) > len(urls) {
		return cfg, opts, errors.New("--metrics-url: at most one per --url, in the same order")
	}
	if cfg.ThinkMin, cfg.ThinkMax, err = parseRange(*think); err != nil {
		return cfg, opts, fmt.Errorf("--think: %w", err)
	}
	if cfg.SourceIPs, err = ParseSourceIPs(*sources); err != nil {
		return cfg, opts, fmt.Errorf("--source-ips: %w", err)
	}
	if !*quiet {
		cfg.Progress = stderr
		cfg.ProgressTTY = isTerminal(stderr)
		cfg.ProgressInterval = *progress
		if cfg.ProgressInterval <= 0 {
			cfg.ProgressInterval = 5 * time.Second
			if cfg.ProgressTTY {
				cfg.ProgressInterval = time.Second
			}
		}
	}
	if cfg.Voters <= 0 {
		return cfg, opts, errors.New("--voters: at least 1")
	}
	if cfg.Contestants <= 0 {
		return cfg, opts, errors.New("--contestants: at least 1")
	}
	if cfg.Groups > cfg.Contestants {
		cfg.Groups = cfg.Contestants
	}
	if cfg.Settle <= 0 {
		cfg.Settle = time.Millisecond
	}
	if cfg.GiveUp <= 0 {
		return cfg, opts, errors.New("--give-up: above 0")
	}
	if cfg.Window < 0 || cfg.Timeout < 0 {
		return cfg, opts, errors.New("--window and --timeout: 0 or more")
	}
	check := cfg
	check.setDefaults()
	return cfg, opts, check.Validate()
}

// parseRange reads "min-max" or a single duration.
func parseRange(s string) (lo, hi time.Duration, err error) {
	a, b, found := strings.Cut(s, "-")
	if lo, err = time.ParseDuration(strings.TrimSpace(a)); err != nil {
		return 0, 0, err
	}
	hi = lo
	if found {
		if hi, err = time.ParseDuration(strings.TrimSpace(b)); err != nil {
			return 0, 0, err
		}
	}
	if lo < 0 || hi < lo {
		return 0, 0, fmt.Errorf("%q: want min-max with 0 ≤ min ≤ max", s)
	}
	if hi == 0 {
		hi = time.Nanosecond // a think time of zero: cast at once
	}
	return lo, hi, nil
}

// ParseSourceIPs reads a comma-separated list of IPv4 or IPv6 addresses
// and IPv4 ranges (127.0.0.1-127.0.0.8, or 127.0.0.1-8), at most 1024.
func ParseSourceIPs(s string) ([]net.IP, error) {
	var out []net.IP
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		a, b, isRange := strings.Cut(item, "-")
		first := net.ParseIP(a)
		if first == nil {
			return nil, fmt.Errorf("%q is not an IP address", a)
		}
		if !isRange {
			out = append(out, first)
			continue
		}
		f4 := first.To4()
		if f4 == nil {
			return nil, fmt.Errorf("%q: ranges are for IPv4 addresses", item)
		}
		last := net.ParseIP(b).To4()
		if last == nil && !strings.Contains(b, ".") {
			var n int
			if _, err := fmt.Sscanf(b, "%d", &n); err != nil || n < 0 || n > 255 {
				return nil, fmt.Errorf("%q: the range's end is not an address or a last byte", item)
			}
			last = net.IPv4(f4[0], f4[1], f4[2], byte(n)).To4()
		}
		if last == nil {
			return nil, fmt.Errorf("%q: the range's end is not an IPv4 address", item)
		}
		lo := uint32(f4[0])<<24 | uint32(f4[1])<<16 | uint32(f4[2])<<8 | uint32(f4[3])
		hi := uint32(last[0])<<24 | uint32(last[1])<<16 | uint32(last[2])<<8 | uint32(last[3])
		if hi < lo || hi-lo >= 1024 {
			return nil, fmt.Errorf("%q: a range goes upwards and holds at most 1024 addresses", item)
		}
		for x := lo; ; x++ {
			out = append(out, net.IPv4(byte(x>>24), byte(x>>16), byte(x>>8), byte(x)))
			if x == hi {
				break
			}
		}
	}
	if len(out) > 1024 {
		return nil, errors.New("at most 1024 addresses")
	}
	return out, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
