package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/google/uuid"

	"leitai/voting"
)

// TestEndedEventSurvivesRestart: an ended event stays on disk, ended and
// with its ballots, across a restart that loads the same event file (which
// must not stop the server from starting).
func TestEndedEventSurvivesRestart(t *testing.T) {
	t.Parallel()
	const key = "restart-host-key"
	dir := t.TempDir()
	cfg := Config{
		Addr: "127.0.0.1:0", DataDir: dir, HostKey: key, LogFormat: "text", LogLevel: "error",
		StandingsInterval: 50 * time.Millisecond, EventFiles: []string{"../../examples/gongshu-2020.yaml"},
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := func() (*Main, string) {
		m := NewMain(cfg, io.Discard, io.Discard)
		if err := m.Run(ctx); err != nil {
			t.Fatalf("start: %v", err)
		}
		return m, "http://" + m.Addr
	}
	m, base := start()
	const id = "gongshu-2020"
	for _, a := range []voting.Action{voting.ActionNext, voting.ActionOpen} {
		resultsAPI(t, base, "POST", "/api/events/"+id+"/stage", key, voting.Command{Action: a}, nil)
	}
	resultsAPI(t, base, "POST", "/api/events/"+id+"/ballots", "", map[string]any{
		"id": uuid.NewString(), "credential": m.Credentials.For("phone-1"), "contestant": "u01", "score": 90,
	}, nil)
	resultsAPI(t, base, "POST", "/api/events/"+id+"/stage", key, voting.Command{Action: voting.ActionEnd}, nil)
	resultsAPI(t, base, "POST", "/api/events/"+id+"/clone", key, map[string]string{"id": "gongshu-2021", "title": "2021年度擂台赛"}, nil)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	m, base = start()
	defer m.Close()
	var st voting.Stage
	resultsAPI(t, base, "GET", "/api/events/"+id+"/stage", "", nil, &st)
	var sd voting.Standings
	resultsAPI(t, base, "GET", "/api/events/"+id+"/standings", key, nil, &sd)
	if st.Phase != voting.PhaseEnded || sd.Ballots != 1 {
		t.Errorf("after a restart: phase %s, %d ballots; want ended with 1", st.Phase, sd.Ballots)
	}
	var list struct {
		Events []voting.Event `json:"events"`
	}
	resultsAPI(t, base, "GET", "/api/events", key, nil, &list)
	if len(list.Events) != 2 || list.Events[1].ID != "gongshu-2021" {
		t.Errorf("events after a restart: %+v", list.Events)
	}
}
