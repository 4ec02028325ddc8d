// Package hubtest runs leitai instances for the tests of hub and hub/api:
// an httptest server with the sockets (hub), the HTTP API (hub/api) and the
// guard (hub/access) over a store and a broker, and a WebSocket client that
// records every frame it receives.
package hubtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"leitai/hub"
	"leitai/hub/access"
	"leitai/hub/api"
	"leitai/hub/redisbroker"
	"leitai/voting"
	"leitai/voting/embedded"
	"leitai/voting/redisstore"
	"leitai/voting/redistest"
)

// HostKey is the host key of every test instance.
const HostKey = "test-host-key-0123"

// Wait bounds every wait for a condition. Generous: tests wait for states,
// they never assert how long something took.
const Wait = 30 * time.Second

// Context is a context that ends after Wait or with the test.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	t.Cleanup(cancel)
	return ctx
}

// Env is one leitai instance: a Hub and an API over a Service over a
// store, served by an httptest server behind the guard.
type Env struct {
	T      testing.TB
	Hub    *hub.Hub
	Guard  *access.Guard
	Svc    *voting.Service
	Store  voting.Store
	Broker hub.Broker
	Srv    *httptest.Server
	HTTP   *http.Client
}

// Options tune an Env.
type Options struct {
	Hub hub.Config // Service, Broker and Access are filled in
	// Access configures the doors (HostKey, Keys and, unless set,
	// Credentials, Logger and Metrics are filled in); API the HTTP API
	// (Service, Hub and Access are filled in).
	Access access.Config
	API    api.Config
	// Listener, when set, wraps the server's listener (e.g. small buffers).
	Listener func(net.Listener) net.Listener
	// BrokerNow is the Redis broker's clock (presence), when set.
	BrokerNow func() time.Time
}

// NewEmbedded is a single instance on the embedded store (in a temp dir)
// with the MemoryBroker.
func NewEmbedded(t testing.TB, opts Options) *Env {
	t.Helper()
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatalf("embedded.Open: %v", err)
	}
	return Start(t, st, hub.NewMemoryBroker(), opts)
}

// NewRedis is one instance on a shared Redis: its own client, Redis
// store and Redis broker, as a separate process would have.
func NewRedis(t testing.TB, srv *redistest.Server, opts Options) *Env {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: srv.Addr})
	st := redisstore.New(client) // owns and closes the client
	br := redisbroker.New(client, redisbroker.Options{Now: opts.BrokerNow})
	return Start(t, st, br, opts)
}

// Start serves an instance over st and br until the test ends.
func Start(t testing.TB, st voting.Store, br hub.Broker, opts Options) *Env {
	t.Helper()
	// Cleanups run last-registered first: hub, server, broker, store.
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("store Close: %v", err)
		}
	})
	t.Cleanup(func() { _ = br.Close() })
	svc := voting.NewService(st, nil)
	acfg := opts.Access
	acfg.HostKey, acfg.Keys = HostKey, svc
	if acfg.Credentials == nil {
		acfg.Credentials = Creds
	}
	if acfg.Logger == nil {
		acfg.Logger = opts.Hub.Logger
	}
	if acfg.Metrics == nil && opts.Hub.Metrics == nil {
		opts.Hub.Metrics = hub.NewMetrics()
	}
	if acfg.Metrics == nil {
		acfg.Metrics = opts.Hub.Metrics.Doors
	}
	guard, err := access.NewGuard(acfg)
	if err != nil {
		t.Fatalf("access.NewGuard: %v", err)
	}
	cfg := opts.Hub
	cfg.Service, cfg.Broker, cfg.Access = svc, br, guard
	h, err := hub.New(cfg)
	if err != nil {
		t.Fatalf("hub.New: %v", err)
	}
	apiCfg := opts.API
	apiCfg.Service, apiCfg.Hub, apiCfg.Access = svc, h, guard
	if apiCfg.Logger == nil {
		apiCfg.Logger = cfg.Logger
	}
	a, err := api.New(apiCfg)
	if err != nil {
		h.Close()
		t.Fatalf("api.New: %v", err)
	}
	mux := http.NewServeMux()
	h.Routes(mux)
	a.Routes(mux)
	srv := httptest.NewUnstartedServer(guard.Protect(mux))
	if opts.Listener != nil {
		srv.Listener = opts.Listener(srv.Listener)
	}
	srv.Start()
	e := &Env{T: t, Hub: h, Guard: guard, Svc: svc, Store: st, Broker: br, Srv: srv,
		HTTP: &http.Client{Transport: &http.Transport{}, Timeout: Wait}}
	t.Cleanup(func() {
		e.HTTP.CloseIdleConnections()
		srv.Close()
	})
	closeOnce := sync.OnceFunc(h.Close)
	t.Cleanup(closeOnce)
	return e
}

// Event is an event with n contestants c1…cn in two groups, an
// audience panel (60) and a judges panel with a key (40), 60–100 step 0.5,
// trimming one at each end.
func Event(id string, n int) voting.Event {
	ev := voting.Event{
		ID:    id,
		Title: "拱墅区擂台赛 " + id,
		Panels: []voting.Panel{
			{ID: "audience", Name: "大众评审", Weight: 60},
			{ID: "judges", Name: "专家评委", Weight: 40, Key: "judge-key"},
		},
		Rules: voting.Rules{Min: 60, Max: 100, Step: 0.5, Trim: 1, Decimals: 2},
	}
	for i := range n {
		g := "专项组牵头单位"
		if i%2 == 1 {
			g = "街道和园区"
		}
		ev.Contestants = append(ev.Contestants, voting.Contestant{ID: fmt.Sprintf("c%d", i+1), Name: fmt.Sprintf("单位%d", i+1), Group: g})
	}
	return ev
}

// Do sends a request and returns the status and body. key "" sends none.
func (e *Env) Do(method, path, key string, body any) (int, []byte) {
	e.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.T.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(Context(e.T), method, e.Srv.URL+path, rd)
	if err != nil {
		e.T.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.HTTP.Do(req)
	if err != nil {
		e.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.T.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp.StatusCode, data
}

// Must sends a host request and decodes a successful answer into out.
func (e *Env) Must(method, path string, body, out any) {
	e.T.Helper()
	status, data := e.Do(method, path, HostKey, body)
	if status >= 300 {
		e.T.Fatalf("%s %s = %d %s", method, path, status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			e.T.Fatalf("%s %s: decoding %s: %v", method, path, data, err)
		}
	}
}

// CreateEvent creates ev with the host key.
func (e *Env) CreateEvent(ev voting.Event) voting.Event {
	e.T.Helper()
	var created voting.Event
	e.Must("POST", "/api/events", ev, &created)
	return created
}

// Command sends a host command.
func (e *Env) Command(event string, cmd voting.Command) voting.Stage {
	e.T.Helper()
	var st voting.Stage
	e.Must("POST", "/api/events/"+event+"/stage", cmd, &st)
	return st
}

// Standings reads the event's standings with the host key.
func (e *Env) Standings(event string) voting.Standings {
	e.T.Helper()
	var sd voting.Standings
	e.Must("GET", "/api/events/"+event+"/standings", nil, &sd)
	return sd
}

// WantAPIError checks an error answer: status, shape and code.
func WantAPIError(t testing.TB, status int, data []byte, wantStatus int, wantCode voting.Code) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("status %d, want %d (%s)", status, wantStatus, data)
	}
	var body struct {
		Error *access.ErrorBody `json:"error"`
	}
	if err := json.Unmarshal(data, &body); err != nil || body.Error == nil {
		t.Errorf("error body %s is not {\"error\": {...}}: %v", data, err)
		return
	}
	if body.Error.Code != wantCode || body.Error.Message == "" {
		t.Errorf("error %+v, want code %s with a message", *body.Error, wantCode)
	}
}

// Cred is the credential of a named test voter.
func Cred(voter string) string { return Creds.For(voter) }

// VoterQuery is the socket query of a named test voter.
func VoterQuery(voter string) string { return "role=voter&credential=" + url.QueryEscape(Cred(voter)) }

// NewID is a new ballot id.
func NewID() string { return uuid.NewString() }

// HallCode reads the event's current hall code with the host key.
func (e *Env) HallCode(event string) string {
	e.T.Helper()
	var info api.HallCodeInfo
	e.Must("GET", "/api/events/"+event+"/hall-code", nil, &info)
	if !info.On || info.Code == "" {
		e.T.Fatalf("hall code of %s: %+v", event, info)
	}
	return info.Code
}

// WantRefused checks a refusing ack.
func WantRefused(t testing.TB, ack Msg, code voting.Code) {
	t.Helper()
	if ack.OK || ack.Receipt != nil || ack.Error == nil || ack.Error.Code != code || ack.Error.Message == "" {
		t.Errorf("ack %s, want a refusal with code %s and a message", ack.Raw, code)
	}
}

// WantAccepted checks an accepting ack.
func WantAccepted(t testing.TB, ack Msg, contestant string, score float64, replaced bool) {
	t.Helper()
	if !ack.OK || ack.Error != nil || ack.Receipt == nil || ack.Receipt.BallotID != ack.ID ||
		ack.Receipt.Contestant != contestant || ack.Receipt.Score != score || ack.Receipt.Replaced != replaced {
		t.Errorf("ack %s, want accepted for %s with score %g, replaced %v", ack.Raw, contestant, score, replaced)
	}
}

// Eventually waits until cond holds (or fails the test after Wait),
// looking every 50 ms.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ScoreFor is a deterministic score on the 60–100 step 0.5 scale.
func ScoreFor(i, salt int) float64 { return 60 + 0.5*float64((i*37+salt*11)%81) }

// CastHTTP casts a ballot of a named test voter through the HTTP ballot
// endpoint (with the judges' key for "judges") and fails on refusal.
func (e *Env) CastHTTP(event, voter, contestant, panel string, score float64) {
	e.T.Helper()
	req := api.BallotRequest{ID: NewID(), Credential: Cred(voter), Contestant: contestant, Panel: panel, Score: &score}
	if panel == "judges" {
		req.PanelKey = "judge-key"
	}
	status, data := e.Do("POST", "/api/events/"+event+"/ballots", "", req)
	if status != http.StatusOK {
		e.T.Fatalf("ballot %s/%s/%s: %d %s", voter, contestant, panel, status, data)
	}
}

// JSONEqual reports whether a and b encode to the same JSON.
func JSONEqual(t testing.TB, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ja, jb)
}

// VotingOn creates an Event(id, 3) and opens voting on its first
// contestant.
func (e *Env) VotingOn(id string) voting.Event {
	e.T.Helper()
	ev := e.CreateEvent(Event(id, 3))
	e.Command(id, voting.Command{Action: voting.ActionNext})
	e.Command(id, voting.Command{Action: voting.ActionOpen})
	return ev
}
