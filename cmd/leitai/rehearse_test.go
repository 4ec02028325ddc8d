package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"leitai/internal/rehearse"
	"leitai/voting/redistest"
)

// The rehearsal tool against real servers in this process: a few hundred
// voters, a few seconds. Every assertion is a count or an equality, never
// a time.

const rehearseKey = "rehearse-test-host-key"

// rehearseServer runs an in-process server; edit may change its config.
func rehearseServer(t *testing.T, edit func(*Config)) *Main {
	t.Helper()
	return startMain(t, func(c *Config) {
		c.HostKey, c.StandingsInterval, c.MetricsAddr = rehearseKey, 50*time.Millisecond, "127.0.0.1:0"
		if edit != nil {
			edit(c)
		}
	})
}

// shortRehearsal is a rehearsal small enough for the test suite.
func shortRehearsal(urls ...string) rehearse.Config {
	return rehearse.Config{
		URLs: urls, HostKey: rehearseKey,
		Voters: 300, Screens: 2, Judges: 12, Contestants: 3, Groups: 2,
		Ramp: 0, ThinkMin: 10 * time.Millisecond, ThinkMax: 300 * time.Millisecond,
		ChangeProb: 0.5, MaxChanges: 2,
		Present: 50 * time.Millisecond, Window: 900 * time.Millisecond, Settle: 100 * time.Millisecond,
		Seed: 20200416, GiveUp: 20 * time.Second,
	}
}

// checkRehearsal asserts that nothing was lost or miscounted.
func checkRehearsal(t *testing.T, rep *rehearse.Report, voters, screens int) {
	t.Helper()
	v := rep.Verification
	if !rep.OK || rep.Lost != 0 || rep.Miscounted != 0 || !v.StandingsEqual {
		t.Errorf("rehearsal failed: ok=%v lost=%d miscounted=%d standingsEqual=%v differences=%v problems=%v",
			rep.OK, rep.Lost, rep.Miscounted, v.StandingsEqual, v.Differences, rep.Problems)
	}
	if rep.Connections.Opened != voters+screens || rep.Connections.Failed != 0 {
		t.Errorf("connections opened %d, failed %d; want %d, 0", rep.Connections.Opened, rep.Connections.Failed, voters+screens)
	}
	if rep.Ballots.Acknowledged == 0 || rep.Ballots.Unresolved != 0 {
		t.Errorf("ballots acknowledged %d, unresolved %d", rep.Ballots.Acknowledged, rep.Ballots.Unresolved)
	}
	if v.VotersChecked != voters || v.ExpectedBallots == 0 || v.ServerBallots != v.ExpectedBallots {
		t.Errorf("voters checked %d of %d; live ballots on the server %d, expected %d",
			v.VotersChecked, voters, v.ServerBallots, v.ExpectedBallots)
	}
	if v.ScreensInSync != screens {
		t.Errorf("%d of %d screens showed the final standings", v.ScreensInSync, screens)
	}
	if rep.Ballots.Replacements == 0 {
		t.Errorf("no voter changed a ballot; the rehearsal should exercise replacements")
	}
	if len(rep.Commands) != 3*rep.Contestants {
		t.Errorf("%d host commands, want %d", len(rep.Commands), 3*rep.Contestants)
	}
}

func TestRehearseEmbedded(t *testing.T) {
	t.Parallel()
	m := rehearseServer(t, nil)
	cfg := shortRehearsal("http://" + m.Addr)
	cfg.MetricsURLs = []string{"http://" + m.MetricsAddr}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := rehearse.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkRehearsal(t, rep, cfg.Voters, cfg.Screens)
	if len(rep.Servers) != 1 || rep.Servers[0].Error != "" || rep.Servers[0].IdleConnections != cfg.Voters+cfg.Screens {
		t.Errorf("server figures from /metrics: %+v", rep.Servers)
	}
	// The rehearsal deletes its event.
	resp, err := http.Get("http://" + m.Addr + "/api/events/" + rep.Event)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the rehearsal event is still there: GET → %d", resp.StatusCode)
	}
}

// Two instances sharing one Redis: voters and screens are spread over
// both, the host drives the first, ballots on one move screens on the other.
func TestRehearseTwoInstancesRedis(t *testing.T) {
	redistest.Parallel(t)
	srv := redistest.MustStart(t, redistest.Options{})
	a := rehearseServer(t, func(c *Config) { c.RedisURL = srv.URL() })
	b := rehearseServer(t, func(c *Config) { c.RedisURL = srv.URL() })
	cfg := shortRehearsal("http://"+a.Addr, "http://"+b.Addr)
	cfg.MetricsURLs = []string{"http://" + a.MetricsAddr, "http://" + b.MetricsAddr}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := rehearse.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkRehearsal(t, rep, cfg.Voters, cfg.Screens)
	if len(rep.Servers) != 2 {
		t.Fatalf("%d servers in the report, want 2", len(rep.Servers))
	}
	for _, s := range rep.Servers {
		if s.Error != "" || s.IdleConnections != (cfg.Voters+cfg.Screens)/2 {
			t.Errorf("server %s: %d idle connections (want %d), error %q", s.URL, s.IdleConnections, (cfg.Voters+cfg.Screens)/2, s.Error)
		}
	}
}

// The server restarts in the middle of voting (embedded store, same data
// directory, same address): every client reconnects and resends what was
// not acknowledged, and still nothing is lost or counted twice.
func TestRehearseServerRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m := rehearseServer(t, func(c *Config) { c.DataDir = dir })
	addr := m.Addr
	cfg := shortRehearsal("http://" + addr)
	cfg.Voters, cfg.Judges = 200, 0
	cfg.Window = 2 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	type result struct {
		rep *rehearse.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := rehearse.Run(ctx, cfg)
		done <- result{rep, err}
	}()
	// Restart once ballots are flowing.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if n := acceptedBallots(t, m); n >= 50 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no ballots arrived within 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m2 := rehearseServer(t, func(c *Config) { c.DataDir, c.Addr = dir, addr })
	_ = m2

	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	rep := res.rep
	checkRehearsal(t, rep, cfg.Voters, cfg.Screens)
	if rep.Connections.Reconnects < int64(cfg.Voters) {
		t.Errorf("%d reconnections after a restart; want at least one per voter (%d)", rep.Connections.Reconnects, cfg.Voters)
	}
	// Main.Close tells every client to reconnect (1001, going away).
	if n := rep.Connections.DropCauses["close 1001"]; n < int64(cfg.Voters) {
		t.Errorf("drops by cause %v; want every voter's drop as close 1001", rep.Connections.DropCauses)
	}
}

// acceptedBallots reads the server's count of accepted ballots.
func acceptedBallots(t *testing.T, m *Main) float64 {
	t.Helper()
	mfs, err := m.Hub.Metrics().Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "leitai_ballots_total" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == "accepted" {
					return mt.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
