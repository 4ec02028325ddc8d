package api_test

import (
	"testing"

	"leitai/hub"
	"leitai/hub/hubtest"
	"leitai/voting"
	"leitai/voting/redistest"
)

// The tests' instances and clients are hubtest's (shared with hub/api's
// tests); these short names keep the tests as they read before the split.
type (
	env         struct{ *hubtest.Env }
	envOptions  = hubtest.Options
	msg         = hubtest.Msg
	dialOptions = hubtest.DialOptions
)

const (
	hostKey = hubtest.HostKey
	wait    = hubtest.Wait
)

var (
	testContext  = hubtest.Context
	testEvent    = hubtest.Event
	testCreds    = hubtest.Creds
	cred         = hubtest.Cred
	voterQuery   = hubtest.VoterQuery
	newID        = hubtest.NewID
	wantAPIError = hubtest.WantAPIError
	wantRefused  = hubtest.WantRefused
	wantAccepted = hubtest.WantAccepted
	count        = hubtest.Count
	last         = hubtest.Last
	viewOf       = hubtest.ViewOf
	eventually   = hubtest.Eventually
	scoreFor     = hubtest.ScoreFor
	jsonEqual    = hubtest.JSONEqual
)

// votingOn creates an event and opens voting on its first contestant.
func votingOn(e *env, id string) voting.Event { return e.VotingOn(id) }

func newEmbeddedEnv(t testing.TB, opts envOptions) *env {
	t.Helper()
	return &env{hubtest.NewEmbedded(t, opts)}
}

func newRedisEnv(t testing.TB, srv *redistest.Server, opts envOptions) *env {
	t.Helper()
	return &env{hubtest.NewRedis(t, srv, opts)}
}

func startEnv(t testing.TB, st voting.Store, br hub.Broker, opts envOptions) *env {
	t.Helper()
	return &env{hubtest.Start(t, st, br, opts)}
}
