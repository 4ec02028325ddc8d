package rehearse

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// histogram records durations (in microseconds) in log-linear buckets: 64
// sub-buckets per power of two, so a reported percentile is within about
// 1.6% of the true value. It is safe for concurrent use and its memory is
// fixed however many samples it takes.
type histogram struct {
	counts [histBuckets]atomic.Int64
	n      atomic.Int64
	max    atomic.Int64
}

const (
	histSubBits = 6
	histSub     = 1 << histSubBits // 64
	histShifts  = 40               // up to 2^46 µs, about 2 years
	histBuckets = histSub + histShifts*histSub
)

func histIndex(v int64) int {
	if v < histSub {
		if v < 0 {
			return 0
		}
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - histSubBits - 1
	if shift >= histShifts {
		return histBuckets - 1
	}
	return histSub + shift*histSub + int(v>>shift) - histSub
}

// histUpper is the largest value that falls into bucket i.
func histUpper(i int) int64 {
	if i < histSub {
		return int64(i)
	}
	shift := (i - histSub) / histSub
	sub := (i-histSub)%histSub + histSub
	return (int64(sub)+1)<<shift - 1
}

// Observe records one duration; negative durations count as zero.
func (h *histogram) Observe(d time.Duration) {
	us := d.Microseconds()
	if us < 0 {
		us = 0
	}
	h.counts[histIndex(us)].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			return
		}
	}
}

// Count returns the number of samples.
func (h *histogram) Count() int64 { return h.n.Load() }

// quantile returns the value (µs) below or at which a fraction q of the
// samples fall, capped at the largest sample.
func (h *histogram) quantile(q float64) int64 {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(n)))
	if rank < 1 {
		rank = 1
	}
	var seen int64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return min(histUpper(i), h.max.Load())
		}
	}
	return h.max.Load()
}

// Latency summarises a histogram in milliseconds.
type Latency struct {
	Samples int64   `json:"samples"`
	P50     float64 `json:"p50Ms"`
	P95     float64 `json:"p95Ms"`
	P99     float64 `json:"p99Ms"`
	Max     float64 `json:"maxMs"`
}

func (h *histogram) Summary() Latency {
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Latency{
		Samples: h.Count(),
		P50:     ms(h.quantile(0.50)),
		P95:     ms(h.quantile(0.95)),
		P99:     ms(h.quantile(0.99)),
		Max:     ms(h.max.Load()),
	}
}

// counters are the live figures that the progress line shows.
type counters struct {
	connected      atomic.Int64 // voters and screens connected now
	opened         atomic.Int64 // connections that reached their snapshot, counting each reconnection
	connectErrors  atomic.Int64 // dial or handshake failures (each attempt)
	reconnects     atomic.Int64 // connections lost and opened again
	sent           atomic.Int64 // ballot frames written, counting resends
	acked          atomic.Int64 // ballots acknowledged (ok)
	refused        atomic.Int64 // ballots refused (any code)
	resent         atomic.Int64 // ballots resent with their original id
	pending        atomic.Int64 // ballots sent and not yet answered
	errors         atomic.Int64 // error frames, unexpected acks, write failures
	standingsRecvd atomic.Int64 // standings frames received by voters and screens
	replacements   atomic.Int64 // acknowledged ballots that replaced the voter's earlier one
	retried        atomic.Int64 // "unavailable" answers, each followed by a resend
	resolvedHTTP   atomic.Int64 // ballots answered only by the final resend over HTTP
	unresolved     atomic.Int64 // ballots without any answer
}
