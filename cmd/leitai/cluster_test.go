package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"leitai/voting"
	"leitai/voting/redistest"
	"leitai/voting/votingtest"
)

// startMain runs an in-process server with cfg changed by edit.
func startMain(t *testing.T, edit func(*Config)) *Main {
	t.Helper()
	cfg := Config{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), HostKey: "cluster-test-host-key",
		LogFormat: "text", LogLevel: "error", StandingsInterval: 20 * time.Millisecond,
	}
	edit(&cfg)
	m := NewMain(cfg, io.Discard, io.Discard)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	serverCreds.Store("http://"+m.Addr, m.Credentials)
	return m
}

func apiCall(t *testing.T, m *Main, method, path string, body, into any) int {
	t.Helper()
	status, _ := faultAPI(t, "http://"+m.Addr, method, path, m.Config.HostKey, body, into)
	return status
}

// wsFrame is the part of a server frame these tests look at.
type wsFrame struct {
	Type      string            `json:"type"`
	Seq       int64             `json:"seq"`
	Stage     *voting.Stage     `json:"stage"`
	Standings *voting.Standings `json:"standings"`
	OK        bool              `json:"ok"`
	ID        string            `json:"id"`
	Receipt   *voting.Receipt   `json:"receipt"`
}

func dialWS(t *testing.T, ctx context.Context, m *Main, event, query string) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(ctx, "ws://"+m.Addr+"/e/"+event+"/ws?"+query, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", query, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func readUntil(t *testing.T, ctx context.Context, c *websocket.Conn, what string, ok func(wsFrame) bool) wsFrame {
	t.Helper()
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		var f wsFrame
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatalf("bad frame %s: %v", data, err)
		}
		if ok(f) {
			return f
		}
	}
}

// TestRedisClusterTwoInstances runs a whole event through two leitai
// instances on a three-master Redis Cluster: the event is set up on A, the
// host drives the stage on B, voters cast on both, the screen on B sees the
// standings of every ballot, and both instances agree with the reference.
func TestRedisClusterTwoInstances(t *testing.T) {
	redistest.Parallel(t)
	if testing.Short() {
		t.Skip("starts a Redis Cluster")
	}
	cluster := redistest.MustStartCluster(t, 3)
	a := startMain(t, func(c *Config) { c.RedisURL = cluster.URL() })
	b := startMain(t, func(c *Config) { c.RedisURL = cluster.URL() })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	ev := votingtest.Event("cluster-event", votingtest.Title("集群"), votingtest.AudienceOnly, votingtest.First(3))
	var created voting.Event
	apiCall(t, a, "POST", "/api/events", ev, &created)

	screen := dialWS(t, ctx, b, created.ID, "role=screen")
	readUntil(t, ctx, screen, "snapshot", func(f wsFrame) bool { return f.Type == "snapshot" })
	voters := make([]*websocket.Conn, 10)
	for i := range voters {
		m := a
		if i%2 == 1 {
			m = b
		}
		voters[i] = dialWS(t, ctx, m, created.ID, "role=voter&credential="+url.QueryEscape(m.Credentials.For(fmt.Sprintf("v%d", i))))
		readUntil(t, ctx, voters[i], "snapshot", func(f wsFrame) bool { return f.Type == "snapshot" })
	}

	rng := rand.New(rand.NewPCG(1, 2))
	var acked []voting.CountedBallot
	for _, c := range created.Contestants {
		var st voting.Stage
		apiCall(t, b, "POST", "/api/events/"+created.ID+"/stage", voting.Command{Action: voting.ActionNext}, &st)
		apiCall(t, b, "POST", "/api/events/"+created.ID+"/stage", voting.Command{Action: voting.ActionOpen}, &st)
		for i, v := range voters {
			readUntil(t, ctx, v, "voting open", func(f wsFrame) bool {
				return f.Type == "stage" && f.Stage.Phase == voting.PhaseVoting && f.Stage.Current == c.ID
			})
			score := 60 + float64(rng.IntN(81))*0.5
			id := uuid.NewString()
			msg, _ := json.Marshal(map[string]any{"type": "ballot", "id": id, "contestant": c.ID, "score": score})
			if err := v.Write(ctx, websocket.MessageText, msg); err != nil {
				t.Fatal(err)
			}
			ack := readUntil(t, ctx, v, "ack", func(f wsFrame) bool { return f.Type == "ack" && f.ID == id })
			if !ack.OK || ack.Receipt.Score != score {
				t.Fatalf("ack %+v for score %v", ack, score)
			}
			acked = append(acked, voting.CountedBallot{Ballot: voting.Ballot{ID: id, Event: created.ID,
				Voter: fmt.Sprintf("v%d", i), Contestant: c.ID, Panel: "audience"}, Units: int64(score * voting.ScoreUnits)})
		}
		apiCall(t, b, "POST", "/api/events/"+created.ID+"/stage", voting.Command{Action: voting.ActionClose}, &st)
	}

	want := voting.Tally(&created, acked)
	wantJSON, _ := json.Marshal(want)
	// The screen on B converges to the reference standings.
	readUntil(t, ctx, screen, "final standings", func(f wsFrame) bool {
		if f.Standings == nil {
			return false
		}
		got, _ := json.Marshal(f.Standings)
		return bytes.Equal(got, wantJSON)
	})
	for _, m := range []*Main{a, b} {
		var got voting.Standings
		apiCall(t, m, "GET", "/api/events/"+created.ID+"/standings", nil, &got)
		if g, _ := json.Marshal(got); !bytes.Equal(g, wantJSON) {
			t.Fatalf("standings on %s:\n%s\nwant\n%s", m.Addr, g, wantJSON)
		}
	}
}
