package api_test

import (
	"fmt"
	"testing"

	"leitai/voting"
)

// TestAuditHeadAPI: GET /api/events/{event}/audit/head (host only) is the
// last entry of the log, found without reading the log, for every length.
func TestAuditHeadAPI(t *testing.T) {
	t.Parallel()
	e := newEmbeddedEnv(t, envOptions{})
	ev := testEvent("head", 2)
	ev.VotingScope = voting.ScopeAll
	e.CreateEvent(ev)
	e.Command("head", voting.Command{Action: voting.ActionOpen})
	status, data := e.Do("GET", "/api/events/head/audit/head", "", nil)
	wantAPIError(t, status, data, 403, voting.CodeForbidden)
	type head struct {
		Count int64
		Hash  string
		Head  string
	}
	var h head
	e.Must("GET", "/api/events/head/audit/head", nil, &h)
	if h.Count != 0 || h.Hash != "" {
		t.Fatalf("empty log: %+v", h)
	}
	cast := 0
	for _, n := range []int{1, 2, 3, 5, 8, 13, 21} {
		for cast < n {
			e.CastHTTP("head", fmt.Sprintf("v%d", cast), "c1", "audience", 60+float64(cast))
			cast++
		}
		var log struct{ Entries []voting.AuditEntry }
		e.Must("GET", "/api/events/head/audit", nil, &log)
		last := log.Entries[len(log.Entries)-1]
		e.Must("GET", "/api/events/head/audit/head", nil, &h)
		if h.Count != int64(n) || h.Count != last.Seq || h.Hash != last.Hash || h.Head != fmt.Sprintf("%d:%s", n, last.Hash) {
			t.Fatalf("after %d ballots: head %+v, last entry %d %s", n, h, last.Seq, last.Hash)
		}
	}
	status, data = e.Do("GET", "/api/events/nope/audit/head", hostKey, nil)
	wantAPIError(t, status, data, 404, voting.CodeNotFound)
}
