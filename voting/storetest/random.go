package storetest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"leitai/voting"
)

// SeedEnv names the environment variable that fixes the seed of the random
// test, to replay a failure: LEITAI_STORETEST_SEED=1234 go test ...
const SeedEnv = "LEITAI_STORETEST_SEED"

// randomCase is one generated ballot: new, or a retry of an earlier one.
type randomCase struct {
	b     voting.CountedBallot
	retry bool
}

// testRandomAgainstTally casts a few thousand random ballots (with
// replacements, retries and a reset) and checks that the store's standings
// and ballots are those of voting.Tally.
func testRandomAgainstTally(t *testing.T, s voting.Store) {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(SeedEnv); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("%s=%q: %v", SeedEnv, v, err)
		}
	}
	t.Logf("seed %d (replay with %s=%d)", seed, SeedEnv, seed)
	defer func() {
		if t.Failed() {
			t.Logf("failed with seed %d (replay with %s=%d)", seed, SeedEnv, seed)
		}
	}()
	rng := rand.New(rand.NewPCG(seed, 0x1ea17a1))

	ev := voting.Event{
		ID:    "random",
		Title: "随机擂台",
		Panels: []voting.Panel{
			{ID: "audience", Name: "大众评审", Weight: 0.55},
			{ID: "judges", Name: "专家评委", Weight: 0.35, Key: "k"},
			{ID: "guests", Name: "嘉宾", Weight: 0.1},
		},
		Rules: voting.Rules{
			Min: 60, Max: 100, Step: 0.5,
			Criteria: []voting.Criterion{{ID: "measures", Name: "举措", Weight: 0.7}, {ID: "results", Name: "成绩", Weight: 0.3}},
			Trim:     1 + rng.IntN(2),
			Decimals: rng.IntN(3), // 0 decimals make ties likely
		},
		VotingScope: voting.ScopeAll,
	}
	// Random scoring modes and tie-breaks: every store ranks as Tally does.
	modes := []voting.ScoringMode{"", voting.ModeTrimmed, voting.ModeAverage, voting.ModeSum}
	for i := range ev.Panels {
		ev.Panels[i].Mode = modes[rng.IntN(len(modes))]
		if ev.Panels[i].Mode == voting.ModeTrimmed {
			ev.Panels[i].Trim = rng.IntN(3)
		}
	}
	breaks := []voting.TieBreak{"unrounded", "panel:judges", "panel:guests", "top", "top:audience"}
	rng.Shuffle(len(breaks), func(i, j int) { breaks[i], breaks[j] = breaks[j], breaks[i] })
	ev.Rules.TieBreaks = breaks[:rng.IntN(len(breaks)+1)]
	groups := []string{"专项组牵头单位", "街道和园区"}
	nContestants := 7 + rng.IntN(4)
	for i := range nContestants {
		c := voting.Contestant{ID: fmt.Sprintf("c%d", i+1), Name: fmt.Sprintf("参赛单位%d", i+1), Group: groups[i%2]}
		if i == nContestants-2 {
			c.Group = "" // one contestant outside the groups
		}
		ev.Contestants = append(ev.Contestants, c)
	}
	ev.Normalize()
	if err := ev.Validate(); err != nil {
		t.Fatalf("test bug: %v", err)
	}
	ev = mustCreate(t, s, ev)
	openVoting(t, s, ev.ID, "")
	t.Logf("%d contestants, trim %d, decimals %d, panels %+v, tie-breaks %v", nContestants, ev.Rules.Trim, ev.Rules.Decimals, ev.Panels, ev.Rules.TieBreaks)

	// 300 voters: 280 in the audience, 16 judges, 4 guests (few enough that
	// their panel is often not trimmed). The last contestant gets no ballots,
	// the one before it only the audience's.
	type voter struct{ id, panel string }
	var voters []voter
	for i := range 300 {
		switch {
		case i < 280:
			voters = append(voters, voter{fmt.Sprintf("a%03d", i), "audience"})
		case i < 296:
			voters = append(voters, voter{fmt.Sprintf("j%02d", i-280), "judges"})
		default:
			voters = append(voters, voter{fmt.Sprintf("g%d", i-296), "guests"})
		}
	}
	base := make([]float64, nContestants) // each contestant's "quality"
	for i := range base {
		base[i] = 70 + 20*rng.Float64()
	}
	grid := func(x float64) float64 {
		x = math.Max(ev.Rules.Min, math.Min(ev.Rules.Max, x))
		return ev.Rules.Min + math.Round((x-ev.Rules.Min)/ev.Rules.Step)*ev.Rules.Step
	}
	at := baseTime
	var generated []randomCase
	generate := func(n int) []randomCase {
		out := make([]randomCase, 0, n)
		for len(out) < n {
			at += 1 + rng.Int64N(5)
			if len(generated) > 0 && rng.IntN(20) == 0 {
				// A retry (same id, same content) of any earlier ballot.
				old := generated[rng.IntN(len(generated))].b
				old.At = at
				c := randomCase{b: old, retry: true}
				out, generated = append(out, c), append(generated, c)
				continue
			}
			v := voters[rng.IntN(len(voters))]
			ci := rng.IntN(nContestants - 1)
			if ci == nContestants-2 && v.panel != "audience" {
				continue
			}
			raw := voting.Ballot{
				ID: fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", rng.Uint32(), rng.Uint32()&0xffff,
					rng.Uint32()&0xfff, rng.Uint32()&0xfff, rng.Uint64()&0xffffffffffff),
				Event: ev.ID, Voter: v.id, Contestant: ev.Contestants[ci].ID, Panel: v.panel,
				Scores: map[string]float64{
					"measures": grid(base[ci] + rng.NormFloat64()*8),
					"results":  grid(base[ci] + rng.NormFloat64()*8),
				},
			}
			c := randomCase{b: count(t, &ev, raw, at)}
			out, generated = append(out, c), append(generated, c)
		}
		return out
	}

	// Expected state, advanced in generated order. Ballots of one voter go
	// through one worker in that order, so the order per voter, contestant
	// and panel is the same in the store.
	live := liveSet{}
	receipts := map[string]voting.Receipt{}
	var castOrder []voting.CountedBallot // new ballots, in order, for Tally
	expect := func(cases []randomCase) {
		for _, c := range cases {
			if c.retry {
				continue
			}
			receipts[c.b.ID] = receiptFor(c.b, live.put(c.b))
			castOrder = append(castOrder, c.b)
		}
	}
	run := func(phase string, cases []randomCase) {
		t.Helper()
		expect(cases)
		const workers = 8
		lanes := make([][]randomCase, workers)
		for _, c := range cases {
			w := laneOf(c.b.Voter, workers)
			lanes[w] = append(lanes[w], c)
		}
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []string
		)
		for _, lane := range lanes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, c := range lane {
					cx, cancel := context.WithTimeout(context.Background(), callTimeout)
					r, err := s.CastBallot(cx, c.b, ev.Revision)
					cancel()
					want := receipts[c.b.ID]
					if err == nil && r.BallotID == want.BallotID && r.Contestant == want.Contestant &&
						r.Panel == want.Panel && r.Replaced == want.Replaced && r.At == want.At && near(r.Score, want.Score) {
						continue
					}
					mu.Lock()
					if len(errs) < 10 {
						errs = append(errs, fmt.Sprintf("%s (retry %v): receipt %+v, err %v; want %+v", fmtBallot(c.b), c.retry, r, err, want))
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("%s: %d+ ballots got an unexpected answer, e.g.:\n%v", phase, len(errs), errs)
		}
		checkTally(t, phase, s, &ev, live.list())
		if d := diffStandings(voting.Tally(&ev, castOrder), mustStandings(t, s, ev.ID)); d != "" {
			t.Fatalf("%s: standings differ from Tally over every ballot in cast order:\n%s", phase, d)
		}
	}

	total := 2000 + rng.IntN(500)
	first := total * 3 / 5
	run("first ballots", generate(first))

	// Reset one contestant: its ballots go, their ids stay used.
	reset := ev.Contestants[rng.IntN(nContestants-2)].ID
	n, err := s.ResetContestant(ctx(t), ev.ID, reset)
	if err != nil {
		t.Fatalf("ResetContestant(%s): %v", reset, err)
	}
	if want := live.reset(reset); n != want {
		t.Fatalf("ResetContestant(%s) = %d, want %d", reset, n, want)
	}
	kept := castOrder[:0:0]
	for _, b := range castOrder {
		if b.Contestant != reset {
			kept = append(kept, b)
		}
	}
	castOrder = kept
	checkTally(t, "after resetting "+reset, s, &ev, live.list())

	run("remaining ballots", generate(total-first))
	t.Logf("%d ballots cast (%d new), %d live", len(generated), len(receipts), len(live))

	// A sample of voters sees exactly their live ballots.
	for _, v := range []string{"a000", "a137", "a279", "j00", "j15", "g0", "g3"} {
		checkBallots(t, "VoterBallots("+v+")", mustVoterBallots(t, s, ev.ID, v), live.voter(v))
	}
}

// laneOf assigns a voter to one of n workers.
func laneOf(voter string, n int) int {
	h := uint32(2166136261)
	for i := 0; i < len(voter); i++ {
		h = (h ^ uint32(voter[i])) * 16777619
	}
	return int(h % uint32(n))
}
