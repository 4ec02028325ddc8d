package main

import (
	"context"
	"testing"
	"time"

	"leitai/internal/rehearse"
)

// The open loop (rehearse --rate) against a real server: ballots go out on
// schedule whatever the acks, every due ballot is sent and answered, the
// report has the achieved rate and the server's CPU per ballot, and the
// verification still finds nothing lost or counted twice. Counts only.
func TestRehearseOpenLoop(t *testing.T) {
	t.Parallel()
	m := rehearseServer(t, nil)
	cfg := shortRehearsal("http://" + m.Addr)
	cfg.MetricsURLs = []string{"http://" + m.MetricsAddr}
	cfg.Voters, cfg.Judges, cfg.Contestants = 200, 0, 2
	cfg.Rate, cfg.Duration, cfg.Window = 300, 1500*time.Millisecond, 0
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := rehearse.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ol := rep.OpenLoop
	if ol == nil {
		t.Fatal("no open-loop figures in the report")
	}
	v := rep.Verification
	if !rep.OK || rep.Lost != 0 || rep.Miscounted != 0 || !v.StandingsEqual || v.VotersChecked != cfg.Voters {
		t.Errorf("rehearsal failed: ok=%v lost=%d miscounted=%d standingsEqual=%v voters checked %d problems=%v",
			rep.OK, rep.Lost, rep.Miscounted, v.StandingsEqual, v.VotersChecked, rep.Problems)
	}
	b := rep.Ballots
	sent := ol.Due - ol.NoFreePhone
	if ol.Due == 0 || sent != b.Sent-b.Resent || b.Acknowledged+refusedTotal(b) != sent || b.Unresolved != 0 {
		t.Errorf("due %d, no free phone %d, sent %d (resent %d), acknowledged %d, refused %v", ol.Due, ol.NoFreePhone, b.Sent, b.Resent, b.Acknowledged, b.Refused)
	}
	// 2 contestants × 1.5 s at 300/s: 900 due on average (Poisson: ± 120
	// is four standard deviations; the seed fixes it anyway).
	if ol.Due < 780 || ol.Due > 1020 || ol.Seconds < 3 {
		t.Errorf("%d ballots due over %.1f s; want about 900 over 3 s", ol.Due, ol.Seconds)
	}
	if b.Replacements == 0 {
		t.Error("no phone changed its ballot; 900 ballots over 200 phones must")
	}
	if ol.SentPerSecond <= 0 || ol.AckedPerSecond <= 0 || ol.CPUPerBallotMs <= 0 || rep.AckLatency.Samples != b.Acknowledged || ol.Lag.Samples != sent {
		t.Errorf("figures: %+v, ack latency samples %d", ol, rep.AckLatency.Samples)
	}
	if len(rep.Commands) != 3*cfg.Contestants {
		t.Errorf("%d host commands, want %d", len(rep.Commands), 3*cfg.Contestants)
	}
}

func refusedTotal(b rehearse.Ballots) int64 {
	var n int64
	for _, v := range b.Refused {
		n += v
	}
	return n
}
