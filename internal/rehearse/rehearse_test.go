package rehearse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"leitai/voting"
	"leitai/voting/votingtest"
)

func TestHistogram(t *testing.T) {
	t.Parallel()
	var h histogram
	if got := h.Summary(); got.Samples != 0 || got.P99 != 0 {
		t.Fatalf("empty histogram: %+v", got)
	}
	for us := 1; us <= 10000; us++ {
		h.Observe(time.Duration(us) * time.Microsecond)
	}
	s := h.Summary()
	check := func(name string, got, want float64) {
		t.Helper()
		if got < want || got > want*1.02 {
			t.Errorf("%s = %v ms, want %v ms (within +2%%)", name, got, want)
		}
	}
	check("p50", s.P50, 5)
	check("p95", s.P95, 9.5)
	check("p99", s.P99, 9.9)
	if s.Max != 10 || s.Samples != 10000 {
		t.Errorf("max %v samples %d, want 10 and 10000", s.Max, s.Samples)
	}
	h.Observe(-time.Second) // counts as zero
	h.Observe(1000 * time.Hour)
	if h.Summary().Max != float64(1000*time.Hour/time.Millisecond) {
		t.Errorf("max after a huge sample: %v", h.Summary().Max)
	}
	for v := int64(0); v < 1<<20; v = v*3/2 + 1 {
		if i := histIndex(v); histUpper(i) < v || (i > 0 && histUpper(i-1) >= v) {
			t.Fatalf("value %d in bucket %d (upper %d, previous upper %d)", v, i, histUpper(i), histUpper(i-1))
		}
	}
}

func TestParseMetrics(t *testing.T) {
	t.Parallel()
	text := `# HELP go_goroutines Number of goroutines.
# TYPE go_goroutines gauge
go_goroutines 42
process_resident_memory_bytes 2.5165824e+07
leitai_connections{role="screen"} 2
leitai_connections{role="voter"} 300
leitai_ballots_total{result="accepted"} 1234 1700000000000

process_cpu_seconds_total 1.5
`
	m, err := parseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"go_goroutines": 42, "process_resident_memory_bytes": 25165824, `leitai_connections{role="voter"}`: 300,
		`leitai_connections{role="screen"}`: 2, `leitai_ballots_total{result="accepted"}`: 1234, "process_cpu_seconds_total": 1.5,
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if _, err := parseMetrics(strings.NewReader("broken{ 1\n")); err == nil {
		t.Error("a malformed line was accepted")
	}
}

func TestParseSourceIPs(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][]string{
		"":                        nil,
		"127.0.0.1":               {"127.0.0.1"},
		"127.0.0.1-127.0.0.3":     {"127.0.0.1", "127.0.0.2", "127.0.0.3"},
		"127.0.0.7-8, 10.0.0.1":   {"127.0.0.7", "127.0.0.8", "10.0.0.1"},
		"127.0.0.255-127.0.1.0":   {"127.0.0.255", "127.0.1.0"},
		"::1":                     {"::1"},
		" 127.0.0.2 , 127.0.0.3 ": {"127.0.0.2", "127.0.0.3"},
	} {
		got, err := ParseSourceIPs(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		var s []string
		for _, ip := range got {
			s = append(s, ip.String())
		}
		if strings.Join(s, " ") != strings.Join(want, " ") {
			t.Errorf("%q → %v, want %v", in, s, want)
		}
	}
	for _, bad := range []string{"localhost", "127.0.0.5-127.0.0.1", "127.0.0.1-300", "10.0.0.0-10.1.0.0", "::1-::5"} {
		if _, err := ParseSourceIPs(bad); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}

func TestParseRange(t *testing.T) {
	t.Parallel()
	lo, hi, err := parseRange("100ms-2s")
	if err != nil || lo != 100*time.Millisecond || hi != 2*time.Second {
		t.Errorf("100ms-2s → %v %v %v", lo, hi, err)
	}
	lo, hi, err = parseRange("3s")
	if err != nil || lo != 3*time.Second || hi != 3*time.Second {
		t.Errorf("3s → %v %v %v", lo, hi, err)
	}
	for _, bad := range []string{"2s-1s", "x", "1s-y", "-1s"} {
		if _, _, err := parseRange(bad); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}

func TestDiffBallots(t *testing.T) {
	t.Parallel()
	b := func(id, c string, units int64) voting.CountedBallot {
		return voting.CountedBallot{Ballot: voting.Ballot{ID: id, Contestant: c, Panel: "audience"}, Units: units}
	}
	want := []voting.CountedBallot{b("a", "c1", 800000), b("b", "c2", 900000), b("c", "c3", 700000)}
	got := []voting.CountedBallot{b("a", "c1", 800000), b("x", "c2", 900000), b("d", "c4", 600000)}
	lost, extra := diffBallots(want, got)
	if lost != 2 || extra != 2 { // b replaced by x, c missing; x and d unexpected
		t.Errorf("lost %d extra %d, want 2 and 2", lost, extra)
	}
	if lost, extra := diffBallots(want, want); lost != 0 || extra != 0 {
		t.Errorf("identical: lost %d extra %d", lost, extra)
	}
}

func TestCompareStandings(t *testing.T) {
	t.Parallel()
	ev := votingtest.Event("e", votingtest.AudienceOnly)
	var ballots []voting.CountedBallot
	for i, u := range []int64{800000, 850000, 900000, 700000} {
		ballots = append(ballots, voting.CountedBallot{Ballot: voting.Ballot{
			ID: string(rune('a' + i)), Voter: string(rune('p' + i)), Contestant: ev.Contestants[i%2].ID, Panel: "audience",
		}, Units: u})
	}
	want := voting.Tally(&ev, ballots)
	same := voting.Tally(&ev, ballots)
	if d := compareStandings(&same, &want); len(d) != 0 {
		t.Fatalf("equal standings differ: %v", d)
	}
	got := voting.Tally(&ev, ballots[:3])
	if d := compareStandings(&got, &want); len(d) == 0 || countRowDiffs(&got, &want) == 0 {
		t.Errorf("a missing ballot went unnoticed")
	}
	got = voting.Tally(&ev, ballots)
	got.Rows[0].Panels[0].Average += 1e-6
	if countRowDiffs(&got, &want) != 1 {
		t.Errorf("a changed average went unnoticed")
	}
}

func TestMainUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	ctx := context.Background()
	if code := Main(ctx, []string{"--help"}, &out, &errOut); code != 0 {
		t.Errorf("--help: exit %d", code)
	}
	for _, args := range [][]string{
		{"--voters", "0", "--host-key", "k"},
		{"--think", "5s-1s", "--host-key", "k"},
		{"--source-ips", "nonsense", "--host-key", "k"},
		{"--url", "ftp://x", "--host-key", "k"},
		{"--host-key", "k", "extra"},
		{"--change", "2", "--host-key", "k"},
		{"--no-such-flag"},
	} {
		errOut.Reset()
		if code := Main(ctx, args, &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errOut.String())
		}
	}
	t.Setenv("LEITAI_HOST_KEY", "")
	if code := Main(ctx, []string{"--url", "http://127.0.0.1:1"}, &out, &errOut); code != 2 {
		t.Errorf("without a host key: exit %d, want 2", code)
	}
}

// A server that cannot be reached is a failed rehearsal (1), not a usage
// error.
func TestMainUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), []string{"--url", "http://" + addr, "--host-key", "some-key", "--quiet"}, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "create the rehearsal event") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}

func TestDropCause(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{websocket.CloseError{Code: websocket.StatusPolicyViolation, Reason: "too slow"}, "close 1008"},
		{fmt.Errorf("read: %w", websocket.CloseError{Code: websocket.StatusGoingAway}), "close 1001"},
		{io.EOF, "EOF without close"},
		{fmt.Errorf("failed to read frame header: %w", io.ErrUnexpectedEOF), "EOF without close"},
		{&net.OpError{Op: "read", Err: syscall.ECONNRESET}, "connection reset"},
		{&net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, "timeout"},
		{errors.New("something else"), "other error"},
		{nil, "unknown"},
	}
	for _, tc := range tests {
		if got := dropCause(tc.err); got != tc.want {
			t.Errorf("dropCause(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
