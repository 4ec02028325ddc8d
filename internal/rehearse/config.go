package rehearse

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/url"
	"time"

	"leitai/voting"
)

// Config describes one rehearsal. Zero values take the defaults of
// (*Config).setDefaults.
type Config struct {
	// URLs are the base URLs of the server instances (http://host:port).
	// Voters and screens are spread over them round-robin; the host
	// commands go to the first.
	URLs        []string
	HostKey     string
	MetricsURLs []string // each instance's /metrics (its --metrics-addr), in the order of URLs

	Voters  int // simulated phones
	Screens int // simulated big screens
	// Judges of the Voters vote in a second, keyed panel (weight 40 to the
	// audience's 60). 0: one panel.
	Judges      int
	Contestants int // stage rounds: one per contestant
	Groups      int // contestants are spread over this many groups (0: none)

	// Ramp is the rate at which connections are opened, per second;
	// 0 opens them as fast as possible.
	Ramp float64
	// ThinkMin and ThinkMax bound a voter's random think time before each
	// ballot.
	ThinkMin, ThinkMax time.Duration
	// ChangeProb is the chance that a voter, after a ballot is
	// acknowledged, changes it (a new ballot with a new id) after another
	// think time, at most MaxChanges times per contestant.
	ChangeProb float64
	MaxChanges int
	// Present is the pause between putting a contestant on stage and
	// opening voting; Window how long voting stays open (0: twice ThinkMax
	// plus a second, or ThinkMax plus a second without changes).
	Present time.Duration
	Window  time.Duration
	// Countdown starts a countdown of Window when voting opens, as a host
	// who uses the timer would.
	Countdown bool
	// Settle is the pause after every connection is open and before the
	// first contestant, when the server's idle memory is read.
	Settle time.Duration
	// Rate, when above 0, runs the open loop: for Duration in each
	// contestant's window (Window is Duration), ballots arrive at Rate a
	// second (Poisson) on random connected phones, whether or not earlier
	// ones were acknowledged; think times and changes do not apply.
	Rate     float64
	Duration time.Duration

	// SourceIPs are local addresses to dial from, round-robin (e.g.
	// 127.0.0.1 … 127.0.0.8 on loopback, past ~28,000 connections from one
	// address). Empty: the system's choice.
	SourceIPs []net.IP
	// Seed makes think times and scores repeatable (0: random).
	Seed uint64
	// EventID is the id of the event the rehearsal creates (default
	// rehearsal-<random>); KeepEvent leaves it on the server afterwards.
	EventID   string
	KeepEvent bool
	// SkipVoterCheck leaves out the per-voter comparison of live ballots
	// (one GET per voter) at the end.
	SkipVoterCheck bool
	// GiveUp is how long a client keeps trying to connect before it counts
	// as failed (default 1 min).
	GiveUp time.Duration
	// Timeout bounds the whole run (0: computed from the other settings).
	Timeout time.Duration

	// Progress, when set, receives a progress line every ProgressInterval;
	// ProgressTTY rewrites one line in place (\r) instead.
	Progress         io.Writer
	ProgressInterval time.Duration
	ProgressTTY      bool
}

func (c *Config) setDefaults() {
	if c.Voters == 0 {
		c.Voters = 200
	}
	if c.Contestants == 0 {
		c.Contestants = 8
	}
	if c.ThinkMax == 0 {
		c.ThinkMin, c.ThinkMax = time.Second, 5*time.Second
	}
	if c.Present == 0 {
		c.Present = time.Second
	}
	if c.Rate > 0 && c.Window == 0 {
		c.Window = c.Duration
	}
	if c.Window == 0 {
		c.Window = c.ThinkMax + time.Second
		if c.ChangeProb > 0 && c.MaxChanges > 0 {
			c.Window += c.ThinkMax
		}
	}
	if c.Settle == 0 {
		c.Settle = 2 * time.Second
	}
	if c.GiveUp == 0 {
		c.GiveUp = time.Minute
	}
	if c.ProgressInterval == 0 {
		c.ProgressInterval = time.Second
	}
	if c.Seed == 0 {
		c.Seed = mrand.Uint64()
	}
	if c.EventID == "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		c.EventID = "rehearsal-" + hex.EncodeToString(b)
	}
	if c.Timeout == 0 {
		ramp := time.Duration(0)
		if c.Ramp > 0 {
			ramp = time.Duration(float64(c.Voters+c.Screens) / c.Ramp * float64(time.Second))
		}
		c.Timeout = ramp + c.GiveUp + c.Settle + time.Duration(c.Contestants)*(c.Present+c.Window+20*time.Second) + 3*time.Minute
	}
}

// Validate reports the first problem with the configuration.
func (c *Config) Validate() error {
	if len(c.URLs) == 0 {
		return errors.New("give the server's URL")
	}
	for _, u := range c.URLs {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || (p.Path != "" && p.Path != "/") {
			return fmt.Errorf("server URL %q: want http(s)://host:port", u)
		}
	}
	if c.HostKey == "" {
		return errors.New("give the server's host key (--host-key or LEITAI_HOST_KEY)")
	}
	switch {
	case c.Voters < 1 || c.Voters > 1_000_000:
		return errors.New("voters: 1 to 1,000,000")
	case c.Screens < 0 || c.Screens > 1000:
		return errors.New("screens: 0 to 1000")
	case c.Judges < 0 || c.Judges > c.Voters:
		return errors.New("judges: 0 to the number of voters")
	case c.Contestants < 1 || c.Contestants > voting.MaxContestants:
		return fmt.Errorf("contestants: 1 to %d", voting.MaxContestants)
	case c.Groups < 0 || c.Groups > c.Contestants:
		return errors.New("groups: 0 to the number of contestants")
	case c.Ramp < 0:
		return errors.New("ramp: connections per second, 0 or more")
	case c.ThinkMin < 0 || c.ThinkMax < c.ThinkMin:
		return errors.New("think time: min ≤ max, both 0 or more")
	case c.ChangeProb < 0 || c.ChangeProb > 1:
		return errors.New("change probability: 0 to 1")
	case c.MaxChanges < 0 || c.MaxChanges > 10_000_000:
		return errors.New("max changes: 0 to 10,000,000")
	case c.Present < 0 || c.Window <= 0 || c.Window > 24*time.Hour:
		return errors.New("voting window: above 0, at most 24h; presenting pause 0 or more")
	case c.Rate < 0 || c.Rate > 1_000_000:
		return errors.New("rate: 0 (closed loop) to 1,000,000 ballots a second")
	case c.Rate > 0 && (c.Duration <= 0 || c.Window != c.Duration):
		return errors.New("rate: give --duration (the time ballots are sent, which is the voting window) and no --window")
	case !voting.ValidID(c.EventID):
		return fmt.Errorf("event id %q: lower-case letters, digits, '-' and '_'", c.EventID)
	}
	return nil
}
