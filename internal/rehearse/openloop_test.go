package rehearse

import (
	"bytes"
	"context"
	"math"
	"slices"
	"testing"
	"time"
)

// The open loop's schedule is a Poisson process: the number of arrivals
// in a span is its rate times the span, the gaps are exponential (mean
// 1/rate, as spread as they are long), counts per second vary as much as
// they average, and a seed repeats it exactly.
func TestArrivalsArePoisson(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rate float64
		span time.Duration
	}{
		{1000, 100 * time.Second},
		{15000, 10 * time.Second},
		{50, 2000 * time.Second},
	} {
		a := newArrivals(tc.rate, 42)
		var gaps []float64
		perSecond := make([]float64, int(tc.span/time.Second))
		last := time.Duration(0)
		for {
			at := a.next()
			if at >= tc.span {
				break
			}
			gaps = append(gaps, (at - last).Seconds())
			perSecond[at/time.Second]++
			last = at
		}
		n := float64(len(gaps))
		want := tc.rate * tc.span.Seconds()
		if math.Abs(n-want) > 4*math.Sqrt(want) {
			t.Errorf("rate %v: %v arrivals in %v, want %v ± %.0f", tc.rate, n, tc.span, want, 4*math.Sqrt(want))
		}
		mean, sd := meanSD(gaps)
		if math.Abs(mean*tc.rate-1) > 0.02 || math.Abs(sd/mean-1) > 0.03 {
			t.Errorf("rate %v: gaps mean %v s (want %v), coefficient of variation %.3f (want 1)", tc.rate, mean, 1/tc.rate, sd/mean)
		}
		// Kolmogorov–Smirnov against the exponential distribution.
		slices.Sort(gaps)
		var d float64
		for i, g := range gaps {
			cdf := 1 - math.Exp(-g*tc.rate)
			d = max(d, math.Abs(cdf-float64(i)/n), math.Abs(cdf-float64(i+1)/n))
		}
		if d > 1.63/math.Sqrt(n) { // 1% level
			t.Errorf("rate %v: KS distance %.4f to the exponential, above %.4f", tc.rate, d, 1.63/math.Sqrt(n))
		}
		m, s := meanSD(perSecond)
		if dispersion := s * s / m; dispersion < 0.8 || dispersion > 1.2 {
			t.Errorf("rate %v: arrivals per second mean %.1f variance %.1f: dispersion %.2f, want about 1", tc.rate, m, s*s, dispersion)
		}
	}
	a, b, c := newArrivals(100, 7), newArrivals(100, 7), newArrivals(100, 8)
	same, differ := true, false
	for range 1000 {
		x, y, z := a.next(), b.next(), c.next()
		same = same && x == y
		differ = differ || x != z
	}
	if !same || !differ {
		t.Errorf("same seed same schedule: %v; another seed another: %v", same, differ)
	}
}

func meanSD(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(xs)-1))
}

func TestOpenLoopFlags(t *testing.T) {
	t.Parallel()
	cfg, _, err := ParseFlags([]string{"--host-key", "k", "--rate", "2000", "--duration", "20s", "--contestants", "1"}, &bytes.Buffer{})
	if err != nil || cfg.Rate != 2000 || cfg.Duration != 20*time.Second {
		t.Fatalf("--rate 2000 --duration 20s: %+v %v", cfg, err)
	}
	cfg.setDefaults()
	if cfg.Window != cfg.Duration {
		t.Errorf("window %v, want the duration %v", cfg.Window, cfg.Duration)
	}
	for _, args := range [][]string{
		{"--rate", "100", "--host-key", "k"},
		{"--rate", "100", "--duration", "5s", "--window", "3s", "--host-key", "k"},
		{"--rate", "-1", "--duration", "5s", "--host-key", "k"},
		{"--rate", "2e6", "--duration", "5s", "--host-key", "k"},
	} {
		if code := Main(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{}); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
