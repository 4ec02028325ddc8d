package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"leitai/voting"
	"leitai/voting/redisstore"
	"leitai/voting/redistest"
	"leitai/voting/votingtest"
)

// modes are the two ways a Store sends ballots; most tests run in both.
var modes = []struct {
	name string
	opts redisstore.Options
}{
	{"direct", redisstore.Options{NoBatch: true}},
	{"batch", redisstore.Options{}},
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func openStore(t testing.TB, srv *redistest.Server, opts redisstore.Options) *redisstore.Store {
	t.Helper()
	s, err := redisstore.OpenWithOptions(testContext(t), srv.URL(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// rawClient is a plain client for looking at keys behind the store's back.
func rawClient(t testing.TB, srv *redistest.Server) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// testEvent is votingtest's small event with n contestants (c1…cn), the
// first in a group and the others in none.
func testEvent(id string, n int) voting.Event {
	return votingtest.Event(id, votingtest.Numbered(n, "单位", ""),
		func(ev *voting.Event) { ev.Contestants[0].Group = votingtest.GroupLead })
}

func mustCreate(t testing.TB, s voting.Store, ev voting.Event) voting.Event {
	t.Helper()
	created, err := s.CreateEvent(testContext(t), ev)
	if err != nil {
		t.Fatalf("CreateEvent(%s): %v", ev.ID, err)
	}
	return created
}

// command applies host commands to the stored stage.
func command(t testing.TB, s voting.Store, ev *voting.Event, cmds ...voting.Command) voting.Stage {
	t.Helper()
	ctx := testContext(t)
	st, err := s.Stage(ctx, ev.ID)
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	for _, cmd := range cmds {
		next, err := st.Apply(ev, cmd, time.Now(), 0)
		if err != nil {
			t.Fatalf("Apply(%s): %v", cmd.Action, err)
		}
		if err := s.SetStage(ctx, ev.ID, next); err != nil {
			t.Fatalf("SetStage(%s): %v", cmd.Action, err)
		}
		st = next
	}
	return st
}

var (
	cmdNext  = voting.Command{Action: voting.ActionNext}
	cmdOpen  = voting.Command{Action: voting.ActionOpen}
	cmdClose = voting.Command{Action: voting.ActionClose}
)

// counted makes a counted ballot with a fresh id.
func counted(t testing.TB, ev *voting.Event, voter, contestant, panel string, score float64) voting.CountedBallot {
	t.Helper()
	return votingtest.MustCount(t, ev, votingtest.Ballot(ev, voter, contestant, panel, score), time.Now().UnixMilli())
}

func wantCode(t testing.TB, err error, code voting.Code) {
	t.Helper()
	if voting.ErrorCode(err) != code {
		t.Fatalf("error %v: code %q, want %q", err, voting.ErrorCode(err), code)
	}
}
