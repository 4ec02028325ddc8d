package voting_test

import (
	"context"
	"testing"
	"time"

	"leitai/voting"
	"leitai/voting/embedded"
)

// TestCloseExpired: the countdown's end closes voting once; a stage that
// has moved on (another instance closed it) is not touched.
func TestCloseExpired(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	clock := time.UnixMilli(1_000_000)
	svc := voting.NewService(st, func() time.Time { return clock })
	ev := voting.Event{ID: "cd", Title: "countdown", Rules: voting.Rules{Min: 1, Max: 10, Step: 1},
		Contestants: []voting.Contestant{{ID: "a", Name: "A"}}}
	if _, err := svc.CreateEvent(ctx, ev); err != nil {
		t.Fatal(err)
	}
	for _, a := range []voting.Action{voting.ActionNext, voting.ActionOpen} {
		if _, err := svc.Command(ctx, "cd", voting.Command{Action: a}); err != nil {
			t.Fatal(err)
		}
	}
	stage, err := svc.Command(ctx, "cd", voting.Command{Action: voting.ActionCountdown, Seconds: 30})
	if err != nil {
		t.Fatal(err)
	}
	if _, closed, err := svc.CloseExpired(ctx, "cd", stage); closed || err != nil {
		t.Fatalf("before the deadline: closed %v, err %v", closed, err)
	}
	clock = clock.Add(30 * time.Second)
	next, closed, err := svc.CloseExpired(ctx, "cd", stage)
	if !closed || err != nil || next.Phase != voting.PhaseClosed || next.Version <= stage.Version {
		t.Fatalf("at the deadline: %+v closed %v err %v", next, closed, err)
	}
	if _, closed, err := svc.CloseExpired(ctx, "cd", stage); closed || err == nil {
		t.Errorf("again with the old stage: closed %v err %v, want a refusal", closed, err)
	}
}
