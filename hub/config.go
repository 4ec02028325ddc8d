package hub

import (
	"log/slog"
	"time"

	"github.com/google/uuid"

	"leitai/hub/access"
	"leitai/voting"
)

// Config configures a Hub. Zero values take the defaults below.
type Config struct {
	Service *voting.Service
	Broker  Broker
	// Access checks who opens a socket (the host key, voter credentials,
	// the screens per address); required.
	Access *access.Guard
	// MaxVoterConnections caps one voter's open sockets on this instance
	// (default 4: a phone with a few tabs, not a script).
	MaxVoterConnections int
	Logger              *slog.Logger
	// Instance names this process among those serving the same events.
	Instance string
	// StandingsInterval is the shortest time between two standings
	// messages of one event (default 100 ms).
	StandingsInterval time.Duration
	// VoterStandingsInterval is the shortest time between two standings
	// frames to a phone (default 1 s); hosts and screens get every one.
	VoterStandingsInterval time.Duration
	// VoterStandingsBudget bounds the periodic standings frames to one
	// event's phones on this instance, per second (default 4,000): with
	// more phones than that, each gets them less often than every
	// VoterStandingsInterval (19,000 phones: every 4.75 s), so that the
	// turnout counter does not take the CPU that acks and stage changes
	// need. Changes of what the audience may see (ranking shown or
	// hidden, a place revealed) still reach every phone at once.
	VoterStandingsBudget int
	// SendQueue bounds each connection's queue of frames (default 64).
	SendQueue int
	// WriteTimeout bounds every write to a connection (default 5 s).
	WriteTimeout time.Duration
	// PingInterval is how often connections are pinged (default 20 s).
	PingInterval time.Duration
	// VoterReadLimit and HostReadLimit bound incoming frames (defaults
	// 4 KiB and 64 KiB); a bigger frame closes the connection (1009).
	VoterReadLimit int64
	HostReadLimit  int64
	// MessageRate and MessageBurst bound the messages one connection may
	// send (defaults 10 per second, burst 30: a phone sends a ballot every
	// few seconds). Messages beyond are refused; FloodClose refused
	// messages close the connection with 1008 (default 100).
	MessageRate  float64
	MessageBurst int
	FloodClose   int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Metrics, when set, are the metrics to count into (default: new).
	Metrics *Metrics
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Instance == "" {
		c.Instance = uuid.NewString()
	}
	if c.StandingsInterval <= 0 {
		c.StandingsInterval = 100 * time.Millisecond
	}
	if c.MaxVoterConnections <= 0 {
		c.MaxVoterConnections = 4
	}
	if c.VoterStandingsInterval <= 0 {
		c.VoterStandingsInterval = time.Second
	}
	if c.VoterStandingsBudget <= 0 {
		c.VoterStandingsBudget = 4000
	}
	if c.SendQueue <= 0 {
		c.SendQueue = 64
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 5 * time.Second
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 20 * time.Second
	}
	if c.VoterReadLimit <= 0 {
		c.VoterReadLimit = 4 << 10
	}
	if c.MessageRate <= 0 {
		c.MessageRate = 10
	}
	if c.MessageBurst <= 0 {
		c.MessageBurst = 30
	}
	if c.FloodClose <= 0 {
		c.FloodClose = 100
	}
	if c.HostReadLimit <= 0 {
		c.HostReadLimit = 64 << 10
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics()
	}
}
