package hub_test

import (
	"bytes"
	"context"
	"encoding/base64"
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

	"github.com/coder/websocket"
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

const hostKey = "test-host-key-0123"

// wait bounds every wait for a condition. Generous: tests wait for states,
// they never assert how long something took.
const wait = 30 * time.Second

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

// env is one leitai instance: a Hub over a Service over a store, served by
// an httptest server with the hub's routes.
type env struct {
	t      testing.TB
	Hub    *hub.Hub
	Svc    *voting.Service
	Store  voting.Store
	Broker hub.Broker
	Srv    *httptest.Server
	http   *http.Client
}

// envOptions tune newEnv.
type envOptions struct {
	cfg hub.Config // Service, Broker and Access are filled in
	// access configures the doors (HostKey, Keys and, unless set,
	// Credentials are filled in); api the HTTP API.
	access access.Config
	api    api.Config
	// listener, when set, wraps the server's listener (e.g. small buffers).
	listener func(net.Listener) net.Listener
	// brokerNow is the Redis broker's clock (presence), when set.
	brokerNow func() time.Time
}

// newEmbeddedEnv is a single instance on the embedded store (in a temp dir)
// with the MemoryBroker.
func newEmbeddedEnv(t testing.TB, opts envOptions) *env {
	t.Helper()
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatalf("embedded.Open: %v", err)
	}
	return startEnv(t, st, hub.NewMemoryBroker(), opts)
}

// newRedisEnv is one instance on a shared Redis: its own client, Redis
// store and Redis broker, as a separate process would have.
func newRedisEnv(t testing.TB, srv *redistest.Server, opts envOptions) *env {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: srv.Addr})
	st := redisstore.New(client) // owns and closes the client
	br := redisbroker.New(client, redisbroker.Options{Now: opts.brokerNow})
	return startEnv(t, st, br, opts)
}

func startEnv(t testing.TB, st voting.Store, br hub.Broker, opts envOptions) *env {
	t.Helper()
	// Cleanups run last-registered first: hub, server, broker, store.
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("store Close: %v", err)
		}
	})
	t.Cleanup(func() { _ = br.Close() })
	svc := voting.NewService(st, nil)
	acfg := opts.access
	acfg.HostKey, acfg.Keys = hostKey, svc
	if acfg.Credentials == nil {
		acfg.Credentials = testCreds
	}
	if acfg.Logger == nil {
		acfg.Logger = opts.cfg.Logger
	}
	if acfg.Metrics == nil && opts.cfg.Metrics == nil {
		opts.cfg.Metrics = hub.NewMetrics()
	}
	if acfg.Metrics == nil {
		acfg.Metrics = opts.cfg.Metrics.Doors
	}
	guard, err := access.NewGuard(acfg)
	if err != nil {
		t.Fatalf("access.NewGuard: %v", err)
	}
	cfg := opts.cfg
	cfg.Service, cfg.Broker, cfg.Access = svc, br, guard
	h, err := hub.New(cfg)
	if err != nil {
		t.Fatalf("hub.New: %v", err)
	}
	apiCfg := opts.api
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
	if opts.listener != nil {
		srv.Listener = opts.listener(srv.Listener)
	}
	srv.Start()
	e := &env{t: t, Hub: h, Svc: svc, Store: st, Broker: br, Srv: srv,
		http: &http.Client{Transport: &http.Transport{}, Timeout: wait}}
	t.Cleanup(func() {
		e.http.CloseIdleConnections()
		srv.Close()
	})
	closeOnce := sync.OnceFunc(h.Close)
	t.Cleanup(closeOnce)
	return e
}

// testEvent is an event with n contestants c1…cn in two groups, an
// audience panel (60) and a judges panel with a key (40), 60–100 step 0.5,
// trimming one at each end.
func testEvent(id string, n int) voting.Event {
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

// api sends a request and returns the status and body. key "" sends none.
func (e *env) api(method, path, key string, body any) (int, []byte) {
	e.t.Helper()
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
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(testContext(e.t), method, e.Srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp.StatusCode, data
}

// must sends a host request and decodes a successful answer into out.
func (e *env) must(method, path string, body, out any) {
	e.t.Helper()
	status, data := e.api(method, path, hostKey, body)
	if status >= 300 {
		e.t.Fatalf("%s %s = %d %s", method, path, status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: decoding %s: %v", method, path, data, err)
		}
	}
}

func (e *env) createEvent(ev voting.Event) voting.Event {
	e.t.Helper()
	var created voting.Event
	e.must("POST", "/api/events", ev, &created)
	return created
}

func (e *env) command(event string, cmd voting.Command) voting.Stage {
	e.t.Helper()
	var st voting.Stage
	e.must("POST", "/api/events/"+event+"/stage", cmd, &st)
	return st
}

func (e *env) standings(event string) voting.Standings {
	e.t.Helper()
	var sd voting.Standings
	e.must("GET", "/api/events/"+event+"/standings", nil, &sd)
	return sd
}

// wantAPIError checks an error answer: status, shape and code.
func wantAPIError(t testing.TB, status int, data []byte, wantStatus int, wantCode voting.Code) {
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

// msg is any server frame, decoded loosely.
type msg struct {
	Type       string                  `json:"type"`
	Seq        int64                   `json:"seq"`
	Role       hub.Role                `json:"role"`
	Now        int64                   `json:"now"`
	ID         string                  `json:"id"`
	OK         bool                    `json:"ok"`
	Event      *voting.Event           `json:"event"`
	Stage      *voting.Stage           `json:"stage"`
	Standings  *voting.Standings       `json:"standings"`
	Ranking    []voting.RankingRow     `json:"ranking"`
	Turnout    *hub.Turnout            `json:"turnout"`
	Ballots    *[]voting.CountedBallot `json:"ballots"`
	Voter      string                  `json:"voter"`
	Panel      string                  `json:"panel"`
	Receipt    *voting.Receipt         `json:"receipt"`
	Error      *access.ErrorBody       `json:"error"`
	Contestant string                  `json:"contestant"`

	raw []byte
}

// wsClient is a test WebSocket client. Its reader goroutine records every
// frame; waits look at the record.
type wsClient struct {
	t    testing.TB
	name string
	conn *websocket.Conn

	mu       sync.Mutex
	frames   []msg
	readErr  error // why reading ended
	notify   chan struct{}
	done     chan struct{}
	started  bool
	cancel   context.CancelFunc
	readCtx  context.Context
	closeAll func()
}

// dialOptions tune dial.
type dialOptions struct {
	query   string // role=…&credential=…
	noRead  bool   // do not start reading (a client that stops reading)
	dialCtx func(ctx context.Context, network, addr string) (net.Conn, error)
	onPing  func() // called for every ping the client answers
	origin  string // the Origin header, as a browser page would send it
	// hostKey is sent as the control page sends it: in the leitai-key.
	// subprotocol.
	hostKey   string
	protocols []string    // subprotocols to offer (a page's credential)
	header    http.Header // more handshake headers
}

// dialHost opens a host socket with the host key.
func (e *env) dialHost(event string) *wsClient {
	e.t.Helper()
	return e.dialWith(event, dialOptions{query: "role=host", hostKey: hostKey})
}

// dial opens a socket to /e/{event}/ws?query and starts reading.
func (e *env) dial(event, query string) *wsClient {
	e.t.Helper()
	return e.dialWith(event, dialOptions{query: query})
}

func (e *env) dialWith(event string, o dialOptions) *wsClient {
	e.t.Helper()
	c, resp, err := e.tryDial(event, o)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		e.t.Fatalf("dial %s?%s: %v (HTTP %d)", event, o.query, err, status)
	}
	return c
}

func (e *env) tryDial(event string, o dialOptions) (*wsClient, *http.Response, error) {
	u := "ws" + strings.TrimPrefix(e.Srv.URL, "http") + "/e/" + event + "/ws?" + o.query
	tr := &http.Transport{}
	if o.dialCtx != nil {
		tr.DialContext = o.dialCtx
	}
	hc := &http.Client{Transport: tr}
	dctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	dopts := &websocket.DialOptions{HTTPClient: hc, HTTPHeader: http.Header{}}
	for k, v := range o.header {
		dopts.HTTPHeader[k] = v
	}
	if o.origin != "" {
		dopts.HTTPHeader.Set("Origin", o.origin)
	}
	dopts.Subprotocols = o.protocols
	if o.hostKey != "" {
		dopts.Subprotocols = []string{"leitai", "leitai-key." + base64.RawURLEncoding.EncodeToString([]byte(o.hostKey))}
	}
	if o.onPing != nil {
		dopts.OnPingReceived = func(context.Context, []byte) bool { o.onPing(); return true }
	}
	conn, resp, err := websocket.Dial(dctx, u, dopts)
	if err != nil {
		tr.CloseIdleConnections()
		return nil, resp, err
	}
	conn.SetReadLimit(1 << 22)
	ctx, stop := context.WithCancel(context.Background())
	c := &wsClient{t: e.t, name: o.query, conn: conn, notify: make(chan struct{}, 1), done: make(chan struct{}),
		cancel: stop, readCtx: ctx}
	c.closeAll = sync.OnceFunc(func() {
		_ = conn.CloseNow()
		stop()
		c.mu.Lock()
		started := c.started
		c.mu.Unlock()
		if started {
			<-c.done
		}
		tr.CloseIdleConnections()
	})
	e.t.Cleanup(c.closeAll)
	if !o.noRead {
		c.startReading()
	}
	return c, resp, nil
}

// startReading starts the reader goroutine.
func (c *wsClient) startReading() {
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return
	}
	c.started = true
	c.mu.Unlock()
	go func() {
		defer close(c.done)
		for {
			_, data, err := c.conn.Read(c.readCtx)
			c.mu.Lock()
			if err != nil {
				c.readErr = err
			} else {
				var m msg
				if jerr := json.Unmarshal(data, &m); jerr != nil {
					c.readErr = fmt.Errorf("undecodable frame %q: %w", data, jerr)
					err = jerr
				} else {
					m.raw = data
					c.frames = append(c.frames, m)
				}
			}
			c.mu.Unlock()
			select {
			case c.notify <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
}

// close closes the socket normally and waits for the reader.
func (c *wsClient) close() {
	_ = c.conn.Close(websocket.StatusNormalClosure, "bye")
	c.closeAll()
}

// send writes one text frame.
func (c *wsClient) send(v any) {
	c.t.Helper()
	var data []byte
	switch b := v.(type) {
	case string:
		data = []byte(b)
	case []byte:
		data = b
	default:
		var err error
		if data, err = json.Marshal(v); err != nil {
			c.t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, data); err != nil {
		c.t.Fatalf("%s: write: %v", c.name, err)
	}
}

// all returns a copy of the frames so far.
func (c *wsClient) all() []msg {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]msg(nil), c.frames...)
}

func (c *wsClient) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

// waitFor waits until pred holds for the frames so far (or fails the test
// after the deadline) and returns them.
func (c *wsClient) waitFor(what string, pred func([]msg) bool) []msg {
	c.t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		frames, rerr := c.frames, c.readErr
		ok := pred(frames)
		c.mu.Unlock()
		if ok {
			return c.all()
		}
		if rerr != nil {
			c.t.Fatalf("%s: waiting for %s: the connection ended: %v (after %d frames: %s)", c.name, what, rerr, len(frames), describe(frames))
		}
		select {
		case <-c.notify:
		case <-deadline.C:
			c.t.Fatalf("%s: waiting for %s: gave up after %d frames: %s", c.name, what, len(frames), describe(frames))
		}
	}
}

// waitClosed waits until the connection ended and returns why.
func (c *wsClient) waitClosed() error {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(wait):
		c.t.Fatalf("%s: still open", c.name)
	}
	return c.err()
}

func describe(frames []msg) string {
	var sb strings.Builder
	from := max(0, len(frames)-12)
	if from > 0 {
		fmt.Fprintf(&sb, "…%d earlier… ", from)
	}
	for _, m := range frames[from:] {
		sb.WriteString(clip(string(m.raw), 160))
		sb.WriteString(" | ")
	}
	return sb.String()
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// count is how many frames of a type there are.
func count(frames []msg, typ string) int {
	n := 0
	for _, m := range frames {
		if m.Type == typ {
			n++
		}
	}
	return n
}

// last returns the last frame of a type.
func last(frames []msg, typ string) (msg, bool) {
	for i := len(frames) - 1; i >= 0; i-- {
		if frames[i].Type == typ {
			return frames[i], true
		}
	}
	return msg{}, false
}

// view is what a client knows after applying the frames in order, as a
// page would: snapshots replace everything, stage and standings frames
// update their part.
type view struct {
	seq       int64
	stage     voting.Stage
	standings *voting.Standings
	ranking   []voting.RankingRow
	turnout   hub.Turnout
}

func viewOf(frames []msg) view {
	var v view
	for _, m := range frames {
		switch m.Type {
		case "snapshot":
			v = view{seq: m.Seq, stage: *m.Stage, standings: m.Standings, ranking: m.Ranking, turnout: *m.Turnout}
		case "stage":
			if m.Seq > v.seq {
				v.seq, v.stage = m.Seq, *m.Stage
			}
		case "standings":
			if m.Seq >= v.seq {
				v.seq, v.standings, v.ranking, v.turnout = m.Seq, m.Standings, m.Ranking, *m.Turnout
			}
		}
	}
	return v
}

// waitStage waits until the client's view has the stage at version v (or
// later) and returns that stage.
func (c *wsClient) waitStage(what string, pred func(voting.Stage) bool) voting.Stage {
	c.t.Helper()
	frames := c.waitFor(what, func(f []msg) bool { return len(f) > 0 && pred(viewOf(f).stage) })
	return viewOf(frames).stage
}

// waitSnapshot waits for the first frame, which must be a snapshot.
func (c *wsClient) waitSnapshot() msg {
	c.t.Helper()
	frames := c.waitFor("the snapshot", func(f []msg) bool { return len(f) > 0 })
	if frames[0].Type != "snapshot" {
		c.t.Fatalf("%s: first frame is %s, want snapshot", c.name, frames[0].raw)
	}
	return frames[0]
}

// ballot sends a ballot and waits for its ack.
func (c *wsClient) ballot(id, contestant string, score float64) msg {
	c.t.Helper()
	c.send(map[string]any{"type": "ballot", "id": id, "contestant": contestant, "score": score})
	return c.waitAck(id)
}

// waitAck waits for the ack with the given id.
func (c *wsClient) waitAck(id string) msg {
	c.t.Helper()
	frames := c.waitFor("ack "+id, func(f []msg) bool {
		for _, m := range f {
			if m.Type == "ack" && m.ID == id {
				return true
			}
		}
		return false
	})
	for _, m := range frames {
		if m.Type == "ack" && m.ID == id {
			return m
		}
	}
	panic("unreachable")
}

// testCreds sign the test voters' credentials (a fixed secret, a generous
// issuing rate).
var testCreds = access.NewCredentials(bytes.Repeat([]byte{42}, 32), false, 1000)

// cred is the credential of a named test voter.
func cred(voter string) string { return testCreds.For(voter) }

func voterQuery(voter string) string { return "role=voter&credential=" + url.QueryEscape(cred(voter)) }

func newID() string { return uuid.NewString() }

// hallCode reads the event's current hall code with the host key.
func (e *env) hallCode(event string) string {
	e.t.Helper()
	var info api.HallCodeInfo
	e.must("GET", "/api/events/"+event+"/hall-code", nil, &info)
	if !info.On || info.Code == "" {
		e.t.Fatalf("hall code of %s: %+v", event, info)
	}
	return info.Code
}

// wantRefused checks a refusing ack.
func wantRefused(t testing.TB, ack msg, code voting.Code) {
	t.Helper()
	if ack.OK || ack.Receipt != nil || ack.Error == nil || ack.Error.Code != code || ack.Error.Message == "" {
		t.Errorf("ack %s, want a refusal with code %s and a message", ack.raw, code)
	}
}

// wantAccepted checks an accepting ack.
func wantAccepted(t testing.TB, ack msg, contestant string, score float64, replaced bool) {
	t.Helper()
	if !ack.OK || ack.Error != nil || ack.Receipt == nil || ack.Receipt.BallotID != ack.ID ||
		ack.Receipt.Contestant != contestant || ack.Receipt.Score != score || ack.Receipt.Replaced != replaced {
		t.Errorf("ack %s, want accepted for %s with score %g, replaced %v", ack.raw, contestant, score, replaced)
	}
}
