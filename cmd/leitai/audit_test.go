package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"leitai/voting"
	"leitai/voting/redistest"
)

// castHTTP casts a ballot through the HTTP API as a voter and returns the
// receipt.
func castHTTP(t *testing.T, m *Main, event, voter, contestant string, score float64) voting.Receipt {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"id": uuid.NewString(), "contestant": contestant, "score": score})
	req, _ := http.NewRequest("POST", "http://"+m.Addr+"/api/events/"+event+"/ballots", bytes.NewReader(body))
	req.Header.Set("X-Leitai-Credential", m.Credentials.For(voter))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r voting.Receipt
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != 200 {
		t.Fatalf("ballot: %d %v", resp.StatusCode, err)
	}
	return r
}

// runAudit runs `leitai audit verify` in process and returns its status
// and output.
func runAudit(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := run(ctx, append([]string{"audit", "verify"}, args...), &out, &errOut)
	return code, out.String() + errOut.String()
}

// TestAuditVerify: `leitai audit verify` passes on an honest event (from
// Redis, from the server's API, from a stopped embedded store), finds
// receipts, and exits non-zero when standings or the log are tampered with.
func TestAuditVerify(t *testing.T) {
	redistest.Parallel(t)
	srv := redistest.MustStart(t, redistest.Options{})
	m := startMain(t, func(c *Config) { c.RedisURL = srv.URL() })
	ev := voting.Event{ID: "audited", Title: "审计", VotingScope: voting.ScopeAll,
		Contestants: []voting.Contestant{{ID: "c1", Name: "一"}, {ID: "c2", Name: "二"}}}
	apiCall(t, m, "POST", "/api/events", ev, &ev)
	apiCall(t, m, "POST", "/api/events/audited/stage", voting.Command{Action: voting.ActionOpen}, &voting.Stage{})
	var receipts []voting.Receipt
	for i, v := range []string{"a", "b", "c", "b", "a"} {
		receipts = append(receipts, castHTTP(t, m, "audited", v, []string{"c1", "c2"}[i%2], float64(5+i)))
	}
	apiCall(t, m, "POST", "/api/events/audited/contestants/c2/reset", map[string]string{"confirm": "c2"}, &map[string]any{})
	castHTTP(t, m, "audited", "c", "c2", 9)

	code, out := runAudit(t, "--redis", srv.URL(), "--event", "audited", "--receipt", receipts[0].Code, "--receipt", strings.ToLower(receipts[3].Code))
	if code != 0 || !strings.Contains(out, "OK audited") || !strings.Contains(out, "7 entries (6 ballots, 2 of them replacements, 1 resets)") ||
		strings.Count(out, "receipt ") != 2 {
		t.Fatalf("verify from Redis: %d\n%s", code, out)
	}
	code, out = runAudit(t, "--server", "http://"+m.Addr, "--host-key", m.Config.HostKey, "--event", "audited")
	if code != 0 || !strings.Contains(out, "OK audited") {
		t.Fatalf("verify through the API: %d\n%s", code, out)
	}
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"unknown receipt", []string{"--redis", srv.URL(), "--event", "audited", "--receipt", "DEADBEEF"}, 1},
		{"wrong host key", []string{"--server", "http://" + m.Addr, "--host-key", "nope", "--event", "audited"}, 2},
		{"no source", []string{"--event", "audited"}, 2},
		{"no event", []string{"--redis", srv.URL()}, 2},
		{"missing event", []string{"--redis", srv.URL(), "--event", "nope"}, 2},
	} {
		if code, out := runAudit(t, tc.args...); code != tc.want {
			t.Errorf("%s: exit %d, want %d\n%s", tc.name, code, tc.want, out)
		}
	}

	// Someone with access to Redis raises c1's score: the standings no
	// longer follow from the log.
	key := "leitai:{audited}:"
	redisDo(t, srv, "HSET", key+"agg:c1", "final", "9.5")
	redisDo(t, srv, "ZADD", key+"ranking", "9.5", "c1")
	if code, out := runAudit(t, "--redis", srv.URL(), "--event", "audited"); code != 1 || !strings.Contains(out, "differ") {
		t.Fatalf("verify after raising a score: %d\n%s", code, out)
	}
	// Removing an entry from the log breaks the chain.
	redisDo(t, srv, "XDEL", key+"audit", "2-0")
	if code, out := runAudit(t, "--redis", srv.URL(), "--event", "audited"); code != 1 || !strings.Contains(out, "broken") {
		t.Fatalf("verify after deleting an entry: %d\n%s", code, out)
	}
}

// TestAuditVerifyEmbedded reads a stopped server's data directory.
func TestAuditVerifyEmbedded(t *testing.T) {
	t.Parallel()
	m := startMain(t, func(*Config) {})
	ev := voting.Event{ID: "local", Title: "本地", Contestants: []voting.Contestant{{ID: "c1", Name: "一"}}}
	apiCall(t, m, "POST", "/api/events", ev, &ev)
	apiCall(t, m, "POST", "/api/events/local/stage", voting.Command{Action: voting.ActionNext}, &voting.Stage{})
	apiCall(t, m, "POST", "/api/events/local/stage", voting.Command{Action: voting.ActionOpen}, &voting.Stage{})
	r := castHTTP(t, m, "local", "a", "c1", 7)
	castHTTP(t, m, "local", "b", "c1", 8)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	code, out := runAudit(t, "--data", m.Config.DataDir, "--event", "local", "--receipt", r.Code)
	if code != 0 || !strings.Contains(out, "OK local") || !strings.Contains(out, "receipt "+r.Code) {
		t.Fatalf("verify from the data directory: %d\n%s", code, out)
	}
}

func redisDo(t *testing.T, srv *redistest.Server, args ...string) {
	t.Helper()
	if out, err := srv.Do(args...); err != nil {
		t.Fatalf("redis-cli %v: %v %s", args, err, out)
	}
}

// TestAuditVerifyHead: a log edited at one entry and re-hashed from there
// on still verifies as a chain, but not through the head that was printed
// before (results page, 规则 sheet, control page): `--head N:HASH` fails.
func TestAuditVerifyHead(t *testing.T) {
	redistest.Parallel(t)
	srv := redistest.MustStart(t, redistest.Options{})
	m := startMain(t, func(c *Config) { c.RedisURL = srv.URL() })
	ev := voting.Event{ID: "anchored", Title: "链头", VotingScope: voting.ScopeAll,
		Contestants: []voting.Contestant{{ID: "c1", Name: "一"}, {ID: "c2", Name: "二"}}}
	apiCall(t, m, "POST", "/api/events", ev, &ev)
	apiCall(t, m, "POST", "/api/events/anchored/stage", voting.Command{Action: voting.ActionOpen}, &voting.Stage{})
	for i, v := range []string{"a", "b", "a", "c"} {
		castHTTP(t, m, "anchored", v, "c1", float64(5+i))
	}
	var head struct {
		Count int64
		Hash  string
		Head  string
	}
	apiCall(t, m, "GET", "/api/events/anchored/audit/head", nil, &head)
	var log struct{ Entries []voting.AuditEntry }
	apiCall(t, m, "GET", "/api/events/anchored/audit", nil, &log)
	if head.Count != 4 || head.Hash != log.Entries[3].Hash || head.Head != "4:"+head.Hash {
		t.Fatalf("head %+v, log ends %+v", head, log.Entries[3])
	}
	// The results (JSON, and so the page and the 规则 sheet) print it.
	var rep struct {
		AuditHead voting.AuditHead `json:"auditHead"`
		Rules     []struct{ Item, Text string }
	}
	apiCall(t, m, "GET", "/api/events/anchored/results", nil, &rep)
	if rep.AuditHead.Count != 4 || rep.AuditHead.Hash != head.Hash || !strings.Contains(rep.Rules[len(rep.Rules)-1].Text, head.Head) {
		t.Fatalf("results: %+v", rep)
	}
	if code, out := runAudit(t, "--redis", srv.URL(), "--event", "anchored", "--head", head.Head, "--head", "2:"+log.Entries[1].Hash[:16]); code != 0 || strings.Count(out, "OK head") != 2 {
		t.Fatalf("verify through the heads: %d\n%s", code, out)
	}

	// Entry 2 (a ballot replaced later, so the standings stay) gets another
	// time, and every entry from there on is re-hashed.
	entries := log.Entries
	entries[1].At++
	for i := 1; i < len(entries); i++ {
		entries[i].Prev = entries[i-1].Hash
		entries[i].Hash = voting.AuditHash("anchored", &entries[i])
	}
	key := "leitai:{anchored}:audit"
	redisDo(t, srv, "DEL", key)
	for _, e := range entries {
		redisDo(t, srv, "XADD", key, fmt.Sprintf("%d-0", e.Seq), "at", fmt.Sprint(e.At), "kind", string(e.Kind), "ballot", e.Ballot,
			"voter", e.Voter, "contestant", e.Contestant, "panel", e.Panel, "units", fmt.Sprint(e.Units), "prev", e.Prev, "hash", e.Hash)
	}
	if code, out := runAudit(t, "--redis", srv.URL(), "--event", "anchored"); code != 0 || !strings.Contains(out, "chain intact") {
		t.Fatalf("the resealed log should still verify as a chain (the weakness a head closes): %d\n%s", code, out)
	}
	if code, out := runAudit(t, "--redis", srv.URL(), "--event", "anchored", "--head", head.Head); code != 1 || !strings.Contains(out, "FAIL head") {
		t.Fatalf("verify through the printed head after the edit: %d\n%s", code, out)
	}
	if code, out := runAudit(t, "--redis", srv.URL(), "--event", "anchored", "--head", "4:xyz"); code != 2 {
		t.Errorf("a malformed head: %d\n%s", code, out)
	}
}
