package hub_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"

	"leitai/hub"
	"leitai/voting"
	"leitai/voting/embedded"
)

// downStore is a store that can be made unreachable, as Redis can be.
type downStore struct {
	voting.Store
	down atomic.Bool
}

func (s *downStore) err() error {
	if s.down.Load() {
		return voting.Errorf(voting.CodeUnavailable, "the vote store is unavailable; try again")
	}
	return nil
}

func (s *downStore) Event(ctx context.Context, id string) (voting.Event, error) {
	if err := s.err(); err != nil {
		return voting.Event{}, err
	}
	return s.Store.Event(ctx, id)
}

func (s *downStore) Stage(ctx context.Context, id string) (voting.Stage, error) {
	if err := s.err(); err != nil {
		return voting.Stage{}, err
	}
	return s.Store.Stage(ctx, id)
}

func (s *downStore) Standings(ctx context.Context, id string) (voting.Standings, error) {
	if err := s.err(); err != nil {
		return voting.Standings{}, err
	}
	return s.Store.Standings(ctx, id)
}

func (s *downStore) CastBallot(ctx context.Context, b voting.CountedBallot, rev int64) (voting.Receipt, error) {
	if err := s.err(); err != nil {
		return voting.Receipt{}, err
	}
	return s.Store.CastBallot(ctx, b, rev)
}

func (s *downStore) VoterBallots(ctx context.Context, id, voter string) ([]voting.CountedBallot, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.VoterBallots(ctx, id, voter)
}

// TestStoreUnavailable: while the store cannot be reached, requests get
// 503 with Retry-After and ballots a refusal with code unavailable (the
// phone retries with the same id); a room that cannot resynchronise
// closes its clients with 1013; once the store is back, all is well.
func TestStoreUnavailable(t *testing.T) {
	inner, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st := &downStore{Store: inner}
	e := startEnv(t, st, hub.NewMemoryBroker(), envOptions{})
	votingOn(e, "down")
	v := e.Dial("down", voterQuery("v1"))
	v.WaitSnapshot()
	sc := e.Dial("down", "role=screen")
	sc.WaitSnapshot()

	st.down.Store(true)
	req, _ := http.NewRequestWithContext(testContext(t), "GET", e.Srv.URL+"/api/events/down/standings", nil)
	req.Header.Set("Authorization", "Bearer "+hostKey)
	resp, err := e.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("standings with the store down: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	id := newID()
	wantRefused(t, v.Ballot(id, "c1", 80), voting.CodeUnavailable)
	status, data := e.Do("POST", "/api/events/down/ballots", "", map[string]any{"id": newID(), "credential": cred("w"), "contestant": "c1", "score": 80})
	wantAPIError(t, status, data, http.StatusServiceUnavailable, voting.CodeUnavailable)
	_, resp, err = e.TryDial("down", dialOptions{Query: voterQuery("v2")})
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("dial with the store down: %v, want 503", err)
	}

	// The room must reload (the broker says it may have lost messages) but
	// cannot: its clients are told to come back later.
	if _, err := e.Broker.Publish(testContext(t), "down", hub.Envelope{Kind: hub.KindResync}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*wsClient{v, sc} {
		if err := c.WaitClosed(); websocket.CloseStatus(err) != websocket.StatusTryAgainLater {
			t.Errorf("%s: %v, want close status 1013", c.Name, err)
		}
	}

	st.down.Store(false)
	v2 := e.Dial("down", voterQuery("v1"))
	if s := v2.WaitSnapshot(); s.Stage.Phase != voting.PhaseVoting {
		t.Errorf("snapshot after the store came back: %s", s.Raw)
	}
	// The phone resends its unacknowledged ballot with the same id.
	wantAccepted(t, v2.Ballot(id, "c1", 80), "c1", 80, false)
}
