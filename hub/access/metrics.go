package access

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus metrics of the doors (docs/security.md).
type Metrics struct {
	hostKeyFailures    prometheus.Counter
	hostKeyLimited     prometheus.Counter
	credentialsIssued  *prometheus.CounterVec
	credentialRefused  *prometheus.CounterVec
	credentialsBusiest prometheus.Gauge
	credentialsFlagged prometheus.Counter
	requestsRefused    prometheus.Counter

	issued *IssueWatch
}

// NewMetrics makes the doors' metrics and registers them with reg (nil: a
// registry of their own, for tests and tools).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &Metrics{issued: &IssueWatch{Threshold: IssueWatchThreshold}}
	m.hostKeyFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "leitai_host_key_failures_total", Help: "Requests and sockets refused for a wrong host key (each is logged with the client address).",
	})
	m.hostKeyLimited = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "leitai_host_key_limited_total", Help: "Host-key attempts refused unchecked (429) because their address had tried too many wrong keys.",
	})
	m.credentialsIssued = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "leitai_voter_credentials_issued_total",
		Help: "New voter credentials, by proof: hall_code (the screen's QR code), panel_key, ticket, open (the event has the hall code off).",
	}, []string{"proof"})
	m.credentialRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "leitai_voter_credentials_refused_total",
		Help: "Requests for a new voter credential refused, by reason: hall_code (no current code), forbidden (wrong panel key), rate (the address's limit).",
	}, []string{"reason"})
	m.credentialsBusiest = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "leitai_voter_credentials_busiest_address",
		Help: "New voter credentials issued to the busiest client address in the current minute (addresses over 50 are logged).",
	})
	m.credentialsFlagged = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "leitai_voter_credentials_flagged_addresses_total", Help: "Times an address reached 50 new voter credentials within a minute (logged with the address).",
	})
	m.requestsRefused = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "leitai_http_requests_refused_total", Help: "HTTP requests refused (429) because their address had too many in flight.",
	})
	reg.MustRegister(m.hostKeyFailures, m.hostKeyLimited, m.credentialsIssued, m.credentialRefused,
		m.credentialsBusiest, m.credentialsFlagged, m.requestsRefused)
	for _, p := range []string{"hall_code", "panel_key", "ticket", "open"} {
		m.credentialsIssued.WithLabelValues(p)
	}
	for _, r := range []string{"hall_code", "forbidden", "rate"} {
		m.credentialRefused.WithLabelValues(r)
	}
	return m
}

// CredentialRefused counts a refused request for a new credential, by
// reason (an error code, or "rate").
func (m *Metrics) CredentialRefused(reason string) {
	m.credentialRefused.WithLabelValues(reason).Inc()
}

// CredentialIssued counts a new credential by its proof and reports
// whether addr has just reached IssueWatchThreshold within a minute (the
// caller logs it), with its count: per-address metric labels would let a
// script with many addresses grow /metrics without bound.
func (m *Metrics) CredentialIssued(addr, proof string, now time.Time) (reached bool, count int) {
	m.credentialsIssued.WithLabelValues(proof).Inc()
	reached, count, busiest := m.issued.Add(addr, now)
	m.credentialsBusiest.Set(float64(busiest))
	if reached {
		m.credentialsFlagged.Inc()
	}
	return reached, count
}
