package main

// A simulated phone for the fault tests: what the vote page does on the
// wire, without a browser. It connects as a voter, casts ballots with fresh
// ids, keeps every ballot that has no final answer yet, and after a dropped
// connection reconnects with backoff (to the same server, or to the next of
// a list) and resends those ballots with their original ids.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"leitai/hub/access"
	"leitai/voting"
)

// voterQuery returns the query parameters that tell the server who a phone
// is: on the WebSocket handshake (the caller adds role=voter) and on
// GET /api/events/{event}/ballots. It is the one place that knows how a
// phone proves its identity; when the server issues credentials, get (and
// cache) one here — base and event say from where.
func voterQuery(base, event, voter string) (url.Values, error) {
	_ = event
	c, ok := serverCreds.Load(base)
	if !ok {
		return nil, fmt.Errorf("no credentials known for %s", base)
	}
	return url.Values{"credential": {c.(*access.Credentials).For(voter)}}, nil
}

// Reconnect and retry pacing of the simulated phone. The vote page waits
// 0.5 s doubling to 10 s, and 1.5–3 s before resending a ballot refused as
// "unavailable"; the tests use shorter waits, with the same shape.
const (
	phoneBackoffMin       = 50 * time.Millisecond
	phoneBackoffMax       = time.Second
	phoneRetryUnavailable = 300 * time.Millisecond
)

// phoneBallot is a ballot as the phone keeps it until it is answered.
type phoneBallot struct {
	ID         string
	Contestant string
	Score      float64
}

// phoneAck is one answer the phone got.
type phoneAck struct {
	Ballot  phoneBallot
	OK      bool
	Receipt voting.Receipt // when OK
	Code    voting.Code    // when refused
	Message string
}

// phonePending is a ballot without a final answer.
type phonePending struct {
	b       phoneBallot
	done    chan phoneAck // gets the final answer (buffered)
	sentOn  int           // the connection it was last sent on; 0: none
	retryAt time.Time     // after an "unavailable" answer: when to send it again
}

// phoneFrame is the part of a server frame a phone looks at.
type phoneFrame struct {
	Type    string          `json:"type"`
	Seq     int64           `json:"seq"`
	Stage   *voting.Stage   `json:"stage"`
	ID      string          `json:"id"`
	OK      bool            `json:"ok"`
	Receipt *voting.Receipt `json:"receipt"`
	Error   *struct {
		Code    voting.Code `json:"code"`
		Message string      `json:"message"`
	} `json:"error"`
}

type phone struct {
	voter   string
	event   string
	servers func() []string // where to connect, in order of preference

	castMu sync.Mutex // one ballot in flight: answers come in cast order
	notify chan struct{}

	mu          sync.Mutex
	pending     []*phonePending
	acks        []phoneAck // every answer, in the order received
	stray       int        // answers to ballots that were not pending
	resent      int        // sends of a ballot already sent on an earlier connection
	stage       voting.Stage
	conn        int            // connections made so far (the current one's number)
	ready       int            // the connection whose snapshot has arrived
	base        string         // server of the current connection; "" between connections
	sessions    map[string]int // connections per server
	snapshots   int
	lastDialErr error
}

func newPhone(event, voter string, servers func() []string) *phone {
	return &phone{voter: voter, event: event, servers: servers, notify: make(chan struct{}, 1), sessions: make(map[string]int)}
}

func (p *phone) wake() {
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

// run keeps the phone connected until ctx ends.
func (p *phone) run(ctx context.Context) {
	backoff, next := phoneBackoffMin, 0
	for ctx.Err() == nil {
		servers := p.servers()
		for i := range servers {
			k := (next + i) % len(servers)
			conn, err := p.dial(ctx, servers[k])
			if err != nil {
				p.mu.Lock()
				p.lastDialErr = err
				p.mu.Unlock()
				continue
			}
			next = k
			if p.session(ctx, servers[k], conn) {
				backoff = phoneBackoffMin
			}
			break
		}
		d := backoff/2 + rand.N(backoff/2+1)
		backoff = min(2*backoff, phoneBackoffMax)
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
	}
}

func faultWSURL(base, event string, q url.Values) string {
	return "ws" + strings.TrimPrefix(base, "http") + "/e/" + event + "/ws?" + q.Encode()
}

func (p *phone) dial(ctx context.Context, base string) (*websocket.Conn, error) {
	q, err := voterQuery(base, p.event, p.voter)
	if err != nil {
		return nil, err
	}
	q.Set("role", "voter")
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(dctx, faultWSURL(base, p.event, q), nil)
	return c, err
}

// session serves one connection until it drops; it reports whether the
// snapshot arrived on it.
func (p *phone) session(ctx context.Context, base string, c *websocket.Conn) (gotSnapshot bool) {
	p.mu.Lock()
	p.conn++
	id := p.conn
	p.base = base
	p.sessions[base]++
	p.mu.Unlock()
	sctx, cancel := context.WithCancel(ctx)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer cancel()
		p.read(sctx, c, id)
	}()
	defer func() {
		cancel()
		c.CloseNow()
		<-readDone
		p.mu.Lock()
		gotSnapshot = p.ready == id
		p.base = ""
		p.mu.Unlock()
	}()
	for {
		wait, err := p.sendDue(sctx, c, id)
		if err != nil {
			return
		}
		var retry <-chan time.Time
		if wait > 0 {
			retry = time.After(wait)
		}
		select {
		case <-sctx.Done():
			return
		case <-p.notify:
		case <-retry:
		}
	}
}

// sendDue sends, once the connection's snapshot has arrived, each pending
// ballot not yet sent on it and each whose retry time has come. It returns
// how long until the next retry is due (0: none).
func (p *phone) sendDue(ctx context.Context, c *websocket.Conn, id int) (time.Duration, error) {
	now := time.Now()
	var due []phoneBallot
	var wait time.Duration
	p.mu.Lock()
	if p.ready != id {
		p.mu.Unlock()
		return 0, nil
	}
	for _, e := range p.pending {
		switch {
		case e.sentOn != id:
			if e.sentOn != 0 {
				p.resent++
			}
		case !e.retryAt.IsZero() && !now.Before(e.retryAt):
		default:
			if !e.retryAt.IsZero() {
				if w := e.retryAt.Sub(now); wait == 0 || w < wait {
					wait = w
				}
			}
			continue
		}
		e.sentOn, e.retryAt = id, time.Time{}
		due = append(due, e.b)
	}
	p.mu.Unlock()
	for _, b := range due {
		msg, _ := json.Marshal(map[string]any{"type": "ballot", "id": b.ID, "contestant": b.Contestant, "score": b.Score})
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := c.Write(wctx, websocket.MessageText, msg)
		cancel()
		if err != nil {
			return 0, err
		}
	}
	return wait, nil
}

var phoneSkipPrefix = []byte(`{"type":"standings"`)

func (p *phone) read(ctx context.Context, c *websocket.Conn, id int) {
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		if bytes.HasPrefix(data, phoneSkipPrefix) {
			continue // the ranking: phones here don't look at it
		}
		var f phoneFrame
		if err := json.Unmarshal(data, &f); err != nil {
			continue
		}
		switch f.Type {
		case "snapshot":
			p.mu.Lock()
			p.ready = id
			p.snapshots++
			p.setStageLocked(f.Stage)
			p.mu.Unlock()
			p.wake() // resend what is pending
		case "stage":
			p.mu.Lock()
			p.setStageLocked(f.Stage)
			p.mu.Unlock()
		case "ack":
			p.onAck(f)
		}
	}
}

func (p *phone) setStageLocked(st *voting.Stage) {
	if st != nil && st.Version >= p.stage.Version {
		p.stage = *st
	}
}

func (p *phone) onAck(f phoneFrame) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := slices.IndexFunc(p.pending, func(e *phonePending) bool { return e.b.ID == f.ID })
	if i < 0 {
		p.stray++
		return
	}
	e := p.pending[i]
	a := phoneAck{Ballot: e.b, OK: f.OK}
	if f.Receipt != nil {
		a.Receipt = *f.Receipt
	}
	if f.Error != nil {
		a.Code, a.Message = f.Error.Code, f.Error.Message
	}
	p.acks = append(p.acks, a)
	if !f.OK && a.Code == voting.CodeUnavailable {
		// Like the page: the same ballot, same id, a little later.
		e.retryAt = time.Now().Add(phoneRetryUnavailable/2 + rand.N(phoneRetryUnavailable))
		p.wake()
		return
	}
	p.pending = slices.Delete(p.pending, i, i+1)
	e.done <- a
}

// cast casts a new ballot (a fresh id) and waits for its final answer: ok,
// or a refusal other than "unavailable" (which the phone retries). Casts of
// one phone run one at a time, so its answers come in the order of its
// casts, which is the order the server recorded them in.
func (p *phone) cast(ctx context.Context, contestant string, score float64) (phoneAck, error) {
	p.castMu.Lock()
	defer p.castMu.Unlock()
	e := &phonePending{b: phoneBallot{ID: uuid.NewString(), Contestant: contestant, Score: score}, done: make(chan phoneAck, 1)}
	p.mu.Lock()
	p.pending = append(p.pending, e)
	p.mu.Unlock()
	p.wake()
	select {
	case a := <-e.done:
		return a, nil
	case <-ctx.Done():
		p.mu.Lock()
		base, dialErr := p.base, p.lastDialErr
		p.mu.Unlock()
		return phoneAck{}, fmt.Errorf("voter %s: no final answer for ballot %s (connected to %q; last dial error %v): %w",
			p.voter, e.b.ID, base, dialErr, ctx.Err())
	}
}

// phoneCounts is what a phone (or a fleet) has seen so far.
type phoneCounts struct {
	OK          int
	Refused     map[voting.Code]int
	Pending     int
	Stray       int
	Resent      int
	Snapshots   int
	Unavailable []string // messages of the "unavailable" answers (the first few)
}

func (p *phone) counts() phoneCounts {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := phoneCounts{Refused: map[voting.Code]int{}, Pending: len(p.pending), Stray: p.stray, Resent: p.resent, Snapshots: p.snapshots}
	for _, a := range p.acks {
		if a.OK {
			c.OK++
			continue
		}
		c.Refused[a.Code]++
		if a.Code == voting.CodeUnavailable && len(c.Unavailable) < 3 {
			c.Unavailable = append(c.Unavailable, a.Message)
		}
	}
	return c
}

func (p *phone) okCount() int { return p.counts().OK }

func (p *phone) currentBase() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.base
}

func (p *phone) sessionsOn(base string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sessions[base]
}

func (p *phone) dialErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastDialErr
}

func (p *phone) currentStage() voting.Stage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stage
}

// acknowledged returns the ballots answered ok, in the order cast.
func (p *phone) acknowledged() []phoneAck {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []phoneAck
	for _, a := range p.acks {
		if a.OK {
			out = append(out, a)
		}
	}
	return out
}

// phoneFleet is a set of phones running until the test ends.
type phoneFleet struct {
	phones []*phone
	ctx    context.Context
	wg     sync.WaitGroup
}

// startPhones connects n phones (voters prefix0 … prefix{n-1}) to the
// event; servers(i) says where phone i connects.
func startPhones(t *testing.T, event string, n int, prefix string, servers func(i int) func() []string) *phoneFleet {
	ctx, cancel := context.WithCancel(context.Background())
	f := &phoneFleet{ctx: ctx}
	for i := range n {
		f.add(newPhone(event, fmt.Sprintf("%s%d", prefix, i), servers(i)))
	}
	t.Cleanup(func() {
		cancel()
		f.wg.Wait()
	})
	return f
}

func (f *phoneFleet) add(p *phone) {
	f.phones = append(f.phones, p)
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		p.run(f.ctx)
	}()
}

// total sums the counts of the phones.
func (f *phoneFleet) total() phoneCounts {
	t := phoneCounts{Refused: map[voting.Code]int{}}
	for _, p := range f.phones {
		c := p.counts()
		t.OK += c.OK
		t.Pending += c.Pending
		t.Stray += c.Stray
		t.Resent += c.Resent
		t.Snapshots += c.Snapshots
		for k, v := range c.Refused {
			t.Refused[k] += v
		}
		if len(t.Unavailable) < 3 {
			t.Unavailable = append(t.Unavailable, c.Unavailable...)
		}
	}
	return t
}

func (f *phoneFleet) okCounts() []int {
	out := make([]int, len(f.phones))
	for i, p := range f.phones {
		out[i] = p.okCount()
	}
	return out
}

// connected reports how many phones have had the snapshot of at least
// want connections.
func (f *phoneFleet) connected(want int) int {
	n := 0
	for _, p := range f.phones {
		if p.counts().Snapshots >= want {
			n++
		}
	}
	return n
}

// seeing counts the phones whose latest stage has the phase.
func (f *phoneFleet) seeing(phase voting.Phase) int {
	n := 0
	for _, p := range f.phones {
		if p.currentStage().Phase == phase {
			n++
		}
	}
	return n
}

// castEach has every phone cast one ballot (scores from rng per phone) at
// once and fails unless every one is accepted.
func (f *phoneFleet) castEach(t *testing.T, contestant string, seed uint64) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(f.phones))
	for i, p := range f.phones {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			ctx, cancel := context.WithTimeout(f.ctx, 45*time.Second)
			defer cancel()
			score := 60 + float64(rng.IntN(81))*0.5
			a, err := p.cast(ctx, contestant, score)
			if err == nil && !a.OK {
				err = fmt.Errorf("voter %s: ballot %s refused: %s %q", p.voter, a.Ballot.ID, a.Code, a.Message)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// castContinuously makes every phone cast ballots for contestant one after
// another, with a new score each time, until the returned stop is called;
// stop waits until every phone's last ballot has its final answer.
func (f *phoneFleet) castContinuously(contestant string, seed uint64) (stop func(t *testing.T)) {
	quit := make(chan struct{})
	errs := make(chan error, len(f.phones))
	var wg sync.WaitGroup
	for i, p := range f.phones {
		wg.Add(1)
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			for {
				select {
				case <-quit:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(f.ctx, 60*time.Second)
				_, err := p.cast(ctx, contestant, 60+float64(rng.IntN(81))*0.5)
				cancel()
				if err != nil {
					errs <- err
					return
				}
				// Pacing only (a person takes a moment); nothing is timed.
				select {
				case <-quit:
					return
				case <-time.After(time.Duration(5+rng.IntN(20)) * time.Millisecond):
				}
			}
		}()
	}
	return func(t *testing.T) {
		t.Helper()
		close(quit)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if t.Failed() {
			t.FailNow()
		}
	}
}

// faultAPI is one HTTP request to a server at base (http://host:port). With
// into, a 2xx answer is decoded into it and anything else fails the test.
func faultAPI(t *testing.T, base, method, path, key string, body, into any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	client := &http.Client{Timeout: 20 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if into != nil {
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, out)
		}
		if err := json.Unmarshal(out, into); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, out)
		}
	}
	return resp.StatusCode, out
}

// faultWait polls cond until it holds, failing the test after timeout.
// Deadlines only bound a wait; nothing asserts how long anything took.
func faultWait(t *testing.T, timeout time.Duration, what func() string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for %s", timeout, what())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func faultSay(s string) func() string { return func() string { return s } }

// faultVerify is what a test knows beyond the phones' answers.
type faultVerify struct {
	skip  map[string]bool        // acknowledged ballots the test destroyed on purpose
	extra []voting.CountedBallot // ballots accepted outside the phones (HTTP), in order
}

// verifyExactlyOnce compares the server's ballots with what the phones were
// told: every voter's live ballot for each contestant is the latest one
// acknowledged to it, each contestant has one ballot per voter that got an
// acknowledgement, and the standings are exactly voting.Tally of the
// acknowledged ballots. It returns the expected standings as JSON.
func verifyExactlyOnce(t *testing.T, base string, ev voting.Event, phones []*phone, opts faultVerify) []byte {
	t.Helper()
	type vc struct{ voter, contestant string }
	var acked []voting.CountedBallot
	latest := make(map[vc]voting.CountedBallot)
	voters := make(map[string]map[string]bool) // contestant → voters acknowledged
	add := func(cb voting.CountedBallot) {
		acked = append(acked, cb)
		latest[vc{cb.Voter, cb.Contestant}] = cb
		if voters[cb.Contestant] == nil {
			voters[cb.Contestant] = make(map[string]bool)
		}
		voters[cb.Contestant][cb.Voter] = true
	}
	for _, p := range phones {
		for _, a := range p.acknowledged() {
			if a.Receipt.Score != a.Ballot.Score || a.Receipt.BallotID != a.Ballot.ID || a.Receipt.Contestant != a.Ballot.Contestant {
				t.Errorf("voter %s: receipt %+v for ballot %+v", p.voter, a.Receipt, a.Ballot)
			}
			if opts.skip[a.Ballot.ID] {
				continue
			}
			add(voting.CountedBallot{
				Ballot: voting.Ballot{ID: a.Ballot.ID, Event: ev.ID, Voter: p.voter, Contestant: a.Ballot.Contestant, Panel: ev.Panels[0].ID},
				Units:  int64(math.Round(a.Receipt.Score * voting.ScoreUnits)),
			})
		}
	}
	for _, cb := range opts.extra {
		add(cb)
	}
	want := voting.Tally(&ev, acked)
	wantJSON, _ := json.Marshal(want)
	var got voting.Standings
	faultAPI(t, base, "GET", "/api/events/"+ev.ID+"/standings", faultKey, nil, &got)
	gotJSON, _ := json.Marshal(got)
	for _, c := range ev.Contestants {
		row, _ := got.Row(c.ID)
		if row.Ballots != len(voters[c.ID]) {
			t.Errorf("contestant %s: the server counts %d ballots; %d voters were acknowledged", c.ID, row.Ballots, len(voters[c.ID]))
		}
	}
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Errorf("standings differ from the tally of the acknowledged ballots:\n got %s\nwant %s", gotJSON, wantJSON)
	}

	// Every voter's live ballots, as the server has them.
	live := make(map[vc]voting.CountedBallot)
	seen := make(map[string]bool)
	check := func(voter string) {
		if seen[voter] {
			return
		}
		seen[voter] = true
		q, err := voterQuery(base, ev.ID, voter)
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Ballots []voting.CountedBallot `json:"ballots"`
		}
		faultAPI(t, base, "GET", "/api/events/"+ev.ID+"/ballots?"+q.Encode(), "", nil, &out)
		for _, b := range out.Ballots {
			live[vc{voter, b.Contestant}] = b
		}
	}
	for _, p := range phones {
		check(p.voter)
	}
	for _, cb := range opts.extra {
		check(cb.Voter)
	}
	bad := 0
	for k, w := range latest {
		g, ok := live[k]
		if !ok || g.ID != w.ID || g.Units != w.Units {
			if bad++; bad <= 10 {
				t.Errorf("voter %s, contestant %s: live ballot %s (%d units, present %v); the latest acknowledged is %s (%d units)",
					k.voter, k.contestant, g.ID, g.Units, ok, w.ID, w.Units)
			}
		}
	}
	for k, g := range live {
		if _, ok := latest[k]; !ok {
			if bad++; bad <= 10 {
				t.Errorf("voter %s, contestant %s: the server has ballot %s (%d units), but none was acknowledged", k.voter, k.contestant, g.ID, g.Units)
			}
		}
	}
	if bad > 10 {
		t.Errorf("… %d live ballots differ in all", bad)
	}
	verifyAuditLog(t, base, ev, phones, opts)
	if t.Failed() {
		t.FailNow()
	}
	return wantJSON
}

// verifyAuditLog checks the audit log after a fault: every acknowledged
// ballot has its entry, under the receipt code its phone was given, and
// `leitai audit verify` (the binary, against the running server) finds
// the chain intact and the standings equal to the log's.
func verifyAuditLog(t *testing.T, base string, ev voting.Event, phones []*phone, opts faultVerify) {
	t.Helper()
	var log []voting.AuditEntry
	for {
		var page struct {
			Entries []voting.AuditEntry `json:"entries"`
		}
		faultAPI(t, base, "GET", fmt.Sprintf("/api/events/%s/audit?after=%d", ev.ID, len(log)), faultKey, nil, &page)
		if len(page.Entries) == 0 {
			break
		}
		log = append(log, page.Entries...)
	}
	byBallot := make(map[string]voting.AuditEntry, len(log))
	for _, e := range log {
		if e.Kind == voting.AuditBallot {
			if _, dup := byBallot[e.Ballot]; dup {
				t.Errorf("ballot %s has two audit entries", e.Ballot)
			}
			byBallot[e.Ballot] = e
		}
	}
	var sample []string
	missing := 0
	for _, p := range phones {
		for _, a := range p.acknowledged() {
			if opts.skip[a.Ballot.ID] {
				continue
			}
			e, ok := byBallot[a.Ballot.ID]
			if !ok || voting.ReceiptCode(e.Hash) != a.Receipt.Code || e.Voter != voting.VoterDigest(p.voter) {
				if missing++; missing <= 5 {
					t.Errorf("voter %s: acknowledged ballot %s (receipt %q) has no matching audit entry (%+v)", p.voter, a.Ballot.ID, a.Receipt.Code, e)
				}
			} else if len(sample) < 3 {
				sample = append(sample, a.Receipt.Code)
			}
		}
	}
	args := []string{"audit", "verify", "--server", base, "--event", ev.ID}
	for _, c := range sample {
		args = append(args, "--receipt", c)
	}
	cmd := exec.Command(leitaiBinary(t), args...)
	cmd.Env = append(os.Environ(), "LEITAI_HOST_KEY="+faultKey)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK "+ev.ID) || strings.Count(string(out), "receipt ") != len(sample) {
		t.Errorf("leitai audit verify: %v\n%s", err, out)
	}
}

// faultScreen follows the screen of an event and keeps its latest standings.
type faultScreen struct {
	mu        sync.Mutex
	standings []byte // JSON of the latest standings seen
	stage     voting.Stage
	turnout   faultTurnout
	err       error
}

type faultTurnout struct {
	Voters int `json:"voters"`
	Voted  int `json:"voted"`
}

func watchFaultScreen(t *testing.T, base, event string) *faultScreen {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dctx, dcancel := context.WithTimeout(ctx, 20*time.Second)
	defer dcancel()
	c, _, err := websocket.Dial(dctx, faultWSURL(base, event, url.Values{"role": {"screen"}}), nil)
	if err != nil {
		cancel()
		t.Fatalf("screen: %v", err)
	}
	c.SetReadLimit(1 << 20)
	s := &faultScreen{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				s.mu.Lock()
				s.err = err
				s.mu.Unlock()
				return
			}
			var f wsFrame
			var tf struct {
				Turnout *faultTurnout `json:"turnout"`
			}
			if json.Unmarshal(data, &f) != nil || json.Unmarshal(data, &tf) != nil {
				continue
			}
			s.mu.Lock()
			if tf.Turnout != nil {
				s.turnout = *tf.Turnout
			}
			if f.Stage != nil && f.Stage.Version >= s.stage.Version {
				s.stage = *f.Stage
			}
			if f.Standings != nil {
				s.standings, _ = json.Marshal(f.Standings)
			}
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		c.CloseNow()
		<-done
	})
	return s
}

// waitStandings waits until the screen shows exactly want.
func (s *faultScreen) waitStandings(t *testing.T, want []byte) {
	t.Helper()
	var last []byte
	var err error
	faultWait(t, 30*time.Second, func() string {
		return fmt.Sprintf("the screen to show the reference standings (screen error %v):\n got %s\nwant %s", err, last, want)
	}, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		last, err = s.standings, s.err
		return bytes.Equal(last, want)
	})
}

// waitTurnout waits until the screen's turnout shows voters connected and
// voted for the contestant on stage.
func (s *faultScreen) waitTurnout(t *testing.T, voters, voted int) {
	t.Helper()
	var last faultTurnout
	faultWait(t, 30*time.Second, func() string {
		return fmt.Sprintf("the screen's turnout to be %d connected, %d voted: it is %+v", voters, voted, last)
	}, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		last = s.turnout
		return last == faultTurnout{Voters: voters, Voted: voted}
	})
}
