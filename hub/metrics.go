package hub

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"leitai/hub/access"
	"leitai/voting"
)

// Metrics are the hub's Prometheus metrics. They live in their own
// registry (no global state); Registry serves them on /metrics.
type Metrics struct {
	Registry *prometheus.Registry

	connections  *prometheus.GaugeVec
	ballots      *prometheus.CounterVec
	accepted     prometheus.Counter // ballots{result="accepted"}, bound once
	ballotTime   prometheus.Histogram
	fanoutTime   prometheus.Histogram
	replaced     prometheus.Counter
	slowClosed   prometheus.Counter
	resyncs      prometheus.Counter
	floodRefused prometheus.Counter
	floodClosed  prometheus.Counter
	pubsubLost   prometheus.Counter
	framesOut    prometheus.Counter // data frames written to sockets
	socketWrites prometheus.Counter // socket writes of batches of frames
	writers      prometheus.Counter // writer goroutines started
	writerFailed *prometheus.CounterVec

	// Doors are the metrics of the doors, in the same registry.
	Doors *access.Metrics
}

// NewMetrics returns the metrics of one hub, in a registry of their own.
// Make them before the hub when the broker should count into them too.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "leitai_connections", Help: "Open WebSocket connections by role.",
		}, []string{"role"}),
		ballots: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leitai_ballots_total", Help: "Ballots answered, by result: accepted, or the refusal code.",
		}, []string{"result"}),
		ballotTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "leitai_ballot_store_seconds", Help: "Time to validate and durably store a ballot.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		fanoutTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "leitai_fanout_seconds", Help: "Time to queue one message for every client of a room on this instance.",
			Buckets: prometheus.ExponentialBuckets(0.00001, 2, 18),
		}),
		replaced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "leitai_queue_replaced_total", Help: "Queued standings frames replaced by newer ones before they were written.",
		}),
		slowClosed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "leitai_slow_clients_closed_total", Help: "Connections closed because their send queue overflowed.",
		}),
		resyncs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "leitai_resyncs_total", Help: "Rooms reloaded from the store after the broker may have lost messages.",
		}),
		floodRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "leitai_flood_refused_total", Help: "Client messages refused because the connection sent too fast.",
		}),
		floodClosed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "leitai_flood_closed_total", Help: "Connections closed (1008) for sending too many messages.",
		}),
	}
	m.pubsubLost = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "leitai_pubsub_reconnects_total", Help: "Times the broker lost its pub/sub connection and had to reconnect and resync.",
	})
	m.framesOut = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "leitai_frames_written_total", Help: "Data frames (and pings) written to WebSocket connections.",
	})
	m.socketWrites = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "leitai_socket_writes_total", Help: "Socket writes of batched frames: frames_written / socket_writes is the frames per system call.",
	})
	m.writers = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "leitai_writers_started_total", Help: "Writer goroutines started (one runs while a connection has frames queued or a ping due).",
	})
	m.writerFailed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "leitai_connections_dropped_total",
		Help: "Connections the server ended because writing to them failed, by cause: ping_timeout (no pong in time: closed without a close frame), write_error (a write failed or missed its deadline), slow (send queue overflowed: 1008).",
	}, []string{"cause"})
	m.Doors = access.NewMetrics(m.Registry)
	m.Registry.MustRegister(m.floodRefused, m.floodClosed, m.pubsubLost, m.framesOut, m.socketWrites, m.writers, m.writerFailed)
	m.Registry.MustRegister(m.connections, m.ballots, m.ballotTime, m.fanoutTime, m.replaced, m.slowClosed, m.resyncs,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.accepted = m.ballots.WithLabelValues("accepted")
	for _, r := range []Role{RoleVoter, RoleScreen, RoleHost} {
		m.connections.WithLabelValues(string(r))
	}
	return m
}

func (m *Metrics) connected(role Role, delta float64) {
	m.connections.WithLabelValues(string(role)).Add(delta)
}

func (m *Metrics) observeBallot(d time.Duration, err error) {
	m.ballotTime.Observe(d.Seconds())
	if err == nil {
		m.accepted.Inc() // bound once: this runs for every ballot
		return
	}
	m.ballots.WithLabelValues(string(voting.ErrorCode(err))).Inc()
}

func (m *Metrics) observeFanout(d time.Duration, clients int) {
	if clients > 0 {
		m.fanoutTime.Observe(d.Seconds())
	}
}

// dropped counts a connection the server ended because its writer failed.
func (m *Metrics) dropped(err error) {
	cause := "write_error"
	switch {
	case errors.Is(err, errPingTimeout):
		cause = "ping_timeout"
	case errors.Is(err, errSlowClient):
		cause = "slow"
	}
	m.writerFailed.WithLabelValues(cause).Inc()
}

// PubSubReconnected counts a lost pub/sub connection (the broker calls it).
func (m *Metrics) PubSubReconnected() { m.pubsubLost.Inc() }
