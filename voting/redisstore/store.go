// Package redisstore is the Redis implementation of voting.Store, the
// production store and the one that lets several server instances share an
// event.
//
// # Key layout
//
// Every key of one event carries the hash tag {<event id>}, so that the event
// lives on one Redis Cluster slot and every script touches one slot only:
//
//	leitai:{e}:event                  hash: json (the event), rev, and what cast.lua
//	                                  reads: scope, trim, decimals, panels (ids in
//	                                  order, space-separated), weights, trims and sums
//	                                  (each panel's voting.PanelRule; likewise), top
//	                                  (the top of the scale in units, which
//	                                  standings.lua counts), ticketed (panels that
//	                                  need tickets); aseq and
//	                                  ahead: number and hash of the last audit entry
//	leitai:{e}:stage                  hash: json (the stage), version, phase, current, endsAt
//	leitai:{e}:ballots                hash: voter|contestant|panel → CountedBallot JSON
//	leitai:{e}:receipts               hash: ballot id → "at|replaced|receipt code|fingerprint"
//	leitai:{e}:audit                  stream: the audit log, entry n at id n-0
//	leitai:{e}:tickets                hash: code → "panel|issued|voter|claimed|revoked",
//	                                  then "|seat" for a judges' seat
//	leitai:{e}:holders                hash: voter|panel → code ("-code" once revoked)
//	leitai:{e}:voter:<voter>          set of contestant|panel with a live ballot
//	leitai:{e}:scores:<c>:<panel>     sorted set: voter → score in units (1/10000 point)
//	leitai:{e}:agg:<c>                hash: n:<panel> count, s:<panel> sum of units,
//	                                  a:<panel> the panel's result (voting.PanelResult),
//	                                  final (as %.17g)
//	leitai:{e}:ranking                sorted set: contestant → final score
//	leitai:events                     set of event ids (not under a hash tag)
//	leitai:hostkeys                   hash: seed, current (host key digests)
//
// Scores in the sorted sets are whole units (voting.ScoreUnits per point), so
// sums are exact integers in Lua as in Go. Ballot ids live as fields of one
// receipts hash rather than one key each: one key per event is cheaper in
// memory and is deleted with the event in one step.
//
// The set of event ids is a superset of the events: CreateEvent adds the id
// before it creates the event, DeleteEvent removes it after, and Events skips
// ids whose event is missing. So a crash between the two steps never hides an
// event. The set lives on another slot, so no script touches it.
//
// Every write is one Lua script (embedded .lua files, run with EVALSHA and
// EVAL after a NOSCRIPT), so a ballot, a stage change and an event update
// serialise in Redis: a ballot counts before a close or is judged after it.
// The scripts start with a #!lua line (Redis 7.0 or later): that makes Redis
// refuse, in a cluster, any key outside the slot of the script's first key,
// and refuse a writing script under OOM before it writes anything.
// Durability is Redis's: run it with appendonly yes and appendfsync always.
package redisstore

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"leitai/voting"
)

var (
	//go:embed cast.lua
	castSrc string
	//go:embed create.lua
	createSrc string
	//go:embed update.lua
	updateSrc string
	//go:embed stage.lua
	stageSrc string
	//go:embed reset.lua
	resetSrc string
	//go:embed delete.lua
	deleteSrc string
	//go:embed voter.lua
	voterSrc string
	//go:embed standings.lua
	standingsSrc string
	//go:embed tickets_create.lua
	ticketsCreateSrc string
	//go:embed tickets_claim.lua
	ticketsClaimSrc string
	//go:embed tickets_revoke.lua
	ticketsRevokeSrc string
	//go:embed tickets_release.lua
	ticketsReleaseSrc string
	//go:embed hostkeys.lua
	hostKeysSrc string
)

// eventsKey is the set of event ids.
const eventsKey = "leitai:events"

// unavailableMessage is what a person sees when Redis cannot be reached.
const unavailableMessage = "the vote store is unavailable; try again"

// Store is a voting.Store on Redis. It is safe for concurrent use.
type Store struct {
	client redis.UniversalClient

	cast, create, update, stage, reset, delete, voter, standings *redis.Script

	ticketsCreate, ticketsClaim, ticketsRevoke, ticketsRelease, hostKeys *redis.Script

	batch *batcher // nil with Options.NoBatch
}

var _ voting.Store = (*Store)(nil)

// Options tune a Store. The zero value is the recommended setting.
type Options struct {
	// NoBatch sends each ballot in its own round trip. By default the
	// ballots of concurrent callers share pipelines (see batch.go): with
	// AOF fsync always that took 1.5× (64 callers) to 1.75× (256) as many
	// ballots per second in BenchmarkCastBallot, and the same with one or
	// 16 callers (docs/performance.md).
	NoBatch bool
}

// New returns a Store on client, with the default options. The Store owns
// the client: Close closes it. A *redis.ClusterClient works as well as a
// *redis.Client.
func New(client redis.UniversalClient) *Store {
	return NewWithOptions(client, Options{})
}

// NewWithOptions is New with options.
func NewWithOptions(client redis.UniversalClient, opts Options) *Store {
	s := &Store{
		client:    client,
		cast:      redis.NewScript(castSrc),
		create:    redis.NewScript(createSrc),
		update:    redis.NewScript(updateSrc),
		stage:     redis.NewScript(stageSrc),
		reset:     redis.NewScript(resetSrc),
		delete:    redis.NewScript(deleteSrc),
		voter:     redis.NewScript(voterSrc),
		standings: redis.NewScript(standingsSrc),

		ticketsCreate:  redis.NewScript(ticketsCreateSrc),
		ticketsClaim:   redis.NewScript(ticketsClaimSrc),
		ticketsRevoke:  redis.NewScript(ticketsRevokeSrc),
		ticketsRelease: redis.NewScript(ticketsReleaseSrc),
		hostKeys:       redis.NewScript(hostKeysSrc),
	}
	if !opts.NoBatch {
		s.batch = newBatcher(client, s.cast)
	}
	return s
}

// Open connects to the Redis at url (redis://[user:pass@]host:port[/db] or
// rediss://), checks that it answers and returns a Store that owns the
// connection.
func Open(ctx context.Context, url string) (*Store, error) {
	return OpenWithOptions(ctx, url, Options{})
}

// OpenWithOptions is Open with options.
func OpenWithOptions(ctx context.Context, url string, opts Options) (*Store, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		// Not wrapped: url.Parse errors quote the URL, password and all.
		return nil, voting.Errorf(voting.CodeInvalid, "the Redis URL is malformed (want redis://[user:password@]host:port[/db])")
	}
	// Let callers' deadlines bound socket reads and writes too, not only
	// the client's ReadTimeout and WriteTimeout.
	o.ContextTimeoutEnabled = true
	client := redis.NewClient(o)
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, voting.Wrap(voting.CodeUnavailable, err, unavailableMessage)
	}
	return NewWithOptions(client, opts), nil
}

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.fail(s.client.Ping(ctx).Err())
}

// Close closes the client. Redis itself makes acknowledged writes durable
// (AOF), so there is nothing to flush here; calls still in flight fail as
// unavailable.
func (s *Store) Close() error {
	if err := s.client.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
		return s.fail(err)
	}
	return nil
}

// keys names the keys of one event.
type keys string

func keysOf(event string) keys { return keys("leitai:{" + event + "}:") }

func (k keys) prefix() string        { return string(k) }
func (k keys) event() string         { return string(k) + "event" }
func (k keys) stage() string         { return string(k) + "stage" }
func (k keys) ballots() string       { return string(k) + "ballots" }
func (k keys) receipts() string      { return string(k) + "receipts" }
func (k keys) ranking() string       { return string(k) + "ranking" }
func (k keys) audit() string         { return string(k) + "audit" }
func (k keys) tickets() string       { return string(k) + "tickets" }
func (k keys) holders() string       { return string(k) + "holders" }
func (k keys) voter(v string) string { return string(k) + "voter:" + v }
func (k keys) agg(c string) string   { return string(k) + "agg:" + c }
func (k keys) scores(c, panel string) string {
	return string(k) + "scores:" + c + ":" + panel
}

// fail turns an error from go-redis into a *voting.Error: unavailable when
// Redis cannot be reached or says it cannot serve now (the caller may retry
// with the same ballot id), internal otherwise. *voting.Error passes as is.
func (s *Store) fail(err error) error {
	if err == nil {
		return nil
	}
	var ve *voting.Error
	if errors.As(err, &ve) {
		return err
	}
	if unavailable(err) {
		return voting.Wrap(voting.CodeUnavailable, err, unavailableMessage)
	}
	return voting.Wrap(voting.CodeInternal, err, "the vote store failed")
}

// unavailable reports whether err means that Redis cannot serve right now.
// Anything that is not a reply from Redis (refused or reset connections,
// timeouts, a closed client, a cancelled context) is such an error; so are
// the replies of a Redis that is loading, failing over or busy.
func unavailable(err error) bool {
	var re redis.Error
	if !errors.As(err, &re) {
		return true
	}
	msg := strings.TrimPrefix(re.Error(), "ERR ")
	for _, p := range []string{"LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY", "BUSY", "NOREPLICAS", "OOM", "max number of clients"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

func notFound(event string) error {
	if !voting.ValidID(event) { // don't echo arbitrary input
		return voting.Errorf(voting.CodeNotFound, "no such event")
	}
	return voting.Errorf(voting.CodeNotFound, "no event %q", event)
}

// eventFields are the fields of the event hash, as name/value pairs: the
// event JSON and what cast.lua reads, so that the script never trusts its
// caller for the rules.
func eventFields(ev *voting.Event) ([]any, error) {
	data, err := json.Marshal(ev)
	if err != nil {
		return nil, voting.Wrap(voting.CodeInternal, err, "the event could not be encoded")
	}
	ids := make([]string, len(ev.Panels))
	weights := make([]string, len(ev.Panels))
	trims := make([]string, len(ev.Panels))
	sums := make([]string, len(ev.Panels))
	for i, p := range ev.Panels {
		ids[i] = p.ID
		// Shortest text that parses back to the same double, in Lua too.
		weights[i] = strconv.FormatFloat(p.Weight, 'g', -1, 64)
		rule := ev.PanelRule(i)
		trims[i], sums[i] = strconv.Itoa(rule.Trim), "0"
		if rule.Sum {
			sums[i] = "1"
		}
	}
	return []any{
		"json", string(data),
		"rev", strconv.FormatInt(ev.Revision, 10),
		"scope", string(ev.VotingScope),
		"trim", strconv.Itoa(ev.Rules.Trim),
		"decimals", strconv.Itoa(ev.Rules.Decimals),
		"panels", strings.Join(ids, " "),
		"weights", strings.Join(weights, " "),
		"trims", strings.Join(trims, " "),
		"sums", strings.Join(sums, " "),
		"top", strconv.FormatInt(voting.TopUnits(&ev.Rules), 10),
		"ticketed", strings.Join(ev.TicketedPanels(), " "),
	}, nil
}

// stageFields are the fields of the stage hash: the stage JSON and what
// cast.lua reads.
func stageFields(st *voting.Stage) ([]any, error) {
	data, err := json.Marshal(st)
	if err != nil {
		return nil, voting.Wrap(voting.CodeInternal, err, "the stage could not be encoded")
	}
	return []any{
		"json", string(data),
		"version", strconv.FormatInt(st.Version, 10),
		"phase", string(st.Phase),
		"current", st.Current,
		"endsAt", strconv.FormatInt(st.EndsAt, 10),
	}, nil
}

// CreateEvent stores a new event with Revision 1 and the initial stage.
func (s *Store) CreateEvent(ctx context.Context, ev voting.Event) (voting.Event, error) {
	if err := ev.Validate(); err != nil {
		return voting.Event{}, err
	}
	ev.Revision = 1
	evf, err := eventFields(&ev)
	if err != nil {
		return voting.Event{}, err
	}
	st := voting.InitialStage()
	stf, err := stageFields(&st)
	if err != nil {
		return voting.Event{}, err
	}
	// The id goes into the set first: see the package comment.
	if err := s.client.SAdd(ctx, eventsKey, ev.ID).Err(); err != nil {
		return voting.Event{}, s.fail(err)
	}
	k := keysOf(ev.ID)
	args := append(append([]any{len(evf)}, evf...), stf...)
	created, err := s.create.Run(ctx, s.client, []string{k.event(), k.stage()}, args...).Int()
	if err != nil {
		return voting.Event{}, s.fail(err)
	}
	if created == 0 {
		return voting.Event{}, voting.Errorf(voting.CodeConflict, "an event with id %q already exists", ev.ID)
	}
	return ev, nil
}

// UpdateEvent replaces the event if its stored revision is ev.Revision.
func (s *Store) UpdateEvent(ctx context.Context, ev voting.Event) (voting.Event, error) {
	if err := ev.Validate(); err != nil {
		return voting.Event{}, err
	}
	old, err := s.Event(ctx, ev.ID)
	if err != nil {
		return voting.Event{}, err
	}
	if old.Revision != ev.Revision {
		return voting.Event{}, staleEvent(old.Revision)
	}
	// update.lua checks that the revision is still the one compared here,
	// so the comparison holds when the script runs.
	unchanged := "0"
	if old.ScoringUnchanged(&ev) {
		unchanged = "1"
	}
	next := ev
	next.Revision = ev.Revision + 1
	fields, err := eventFields(&next)
	if err != nil {
		return voting.Event{}, err
	}
	k := keysOf(ev.ID)
	args := append([]any{strconv.FormatInt(ev.Revision, 10), unchanged}, fields...)
	res, err := s.update.Run(ctx, s.client, []string{k.event(), k.ballots()}, args...).Text()
	if err != nil {
		return voting.Event{}, s.fail(err)
	}
	switch res {
	case "ok":
		return next, nil
	case "noevent":
		return voting.Event{}, notFound(ev.ID)
	case "stale":
		return voting.Event{}, staleEvent(-1)
	case "scoring":
		return voting.Event{}, voting.Errorf(voting.CodeConflict,
			"the event has ballots: its rules, panels, weights and voting scope cannot change and no contestant can be removed (reset the ballots first)")
	}
	return voting.Event{}, unexpected("update.lua", res)
}

func staleEvent(stored int64) error {
	if stored > 0 {
		return voting.Errorf(voting.CodeConflict, "the event was changed by someone else (now at revision %d); reload it and try again", stored)
	}
	return voting.Errorf(voting.CodeConflict, "the event was changed by someone else; reload it and try again")
}

func unexpected(script string, reply any) error {
	return voting.Errorf(voting.CodeInternal, "the vote store gave an unexpected answer (%s: %v)", script, reply)
}

// Event returns the event with its panel keys.
func (s *Store) Event(ctx context.Context, id string) (voting.Event, error) {
	if !voting.ValidID(id) {
		return voting.Event{}, notFound(id)
	}
	vals, err := s.client.HMGet(ctx, keysOf(id).event(), "json", "rev").Result()
	if err != nil {
		return voting.Event{}, s.fail(err)
	}
	return decodeEvent(id, vals[0], vals[1])
}

// decodeEvent turns the json and rev fields of an event hash into an event.
func decodeEvent(id string, jsonField, revField any) (voting.Event, error) {
	data, ok := jsonField.(string)
	if !ok {
		return voting.Event{}, notFound(id)
	}
	var ev voting.Event
	if err := json.Unmarshal([]byte(data), &ev); err != nil {
		return voting.Event{}, voting.Wrap(voting.CodeInternal, err, "a stored event could not be read")
	}
	revText, _ := revField.(string)
	rev, err := strconv.ParseInt(revText, 10, 64)
	if err != nil {
		return voting.Event{}, voting.Wrap(voting.CodeInternal, err, "a stored event has no revision")
	}
	ev.Revision = rev
	return ev, nil
}

// Events returns every event, ordered by id.
func (s *Store) Events(ctx context.Context) ([]voting.Event, error) {
	ids, err := s.client.SMembers(ctx, eventsKey).Result()
	if err != nil {
		return nil, s.fail(err)
	}
	slices.Sort(ids)
	// One pipeline; a ClusterClient splits it per node.
	pipe := s.client.Pipeline()
	cmds := make([]*redis.SliceCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HMGet(ctx, keysOf(id).event(), "json", "rev")
	}
	if len(ids) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, s.fail(err)
		}
	}
	events := make([]voting.Event, 0, len(ids))
	for i, id := range ids {
		vals := cmds[i].Val()
		if vals[0] == nil {
			continue // left over from a create or delete that stopped halfway
		}
		ev, err := decodeEvent(id, vals[0], vals[1])
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
	return events, nil
}

// DeleteEvent removes the event with its stage, ballots and ballot ids.
func (s *Store) DeleteEvent(ctx context.Context, id string) error {
	if !voting.ValidID(id) {
		return notFound(id)
	}
	k := keysOf(id)
	keys := []string{k.event(), k.stage(), k.ballots(), k.receipts(), k.ranking(), k.audit(), k.tickets(), k.holders()}
	deleted, err := s.delete.Run(ctx, s.client, keys, k.prefix()).Int()
	if err != nil {
		return s.fail(err)
	}
	if err := s.client.SRem(ctx, eventsKey, id).Err(); err != nil {
		return s.fail(err)
	}
	if deleted == 0 {
		return notFound(id)
	}
	return nil
}

// Stage returns the event's stage.
func (s *Store) Stage(ctx context.Context, event string) (voting.Stage, error) {
	if !voting.ValidID(event) {
		return voting.Stage{}, notFound(event)
	}
	data, err := s.client.HGet(ctx, keysOf(event).stage(), "json").Result()
	if errors.Is(err, redis.Nil) {
		return voting.Stage{}, notFound(event)
	}
	if err != nil {
		return voting.Stage{}, s.fail(err)
	}
	var st voting.Stage
	if err := json.Unmarshal([]byte(data), &st); err != nil {
		return voting.Stage{}, voting.Wrap(voting.CodeInternal, err, "a stored stage could not be read")
	}
	return st, nil
}

// SetStage stores next if the stored version is next.Version-1.
func (s *Store) SetStage(ctx context.Context, event string, next voting.Stage) error {
	if !voting.ValidID(event) {
		return notFound(event)
	}
	fields, err := stageFields(&next)
	if err != nil {
		return err
	}
	k := keysOf(event)
	args := append([]any{strconv.FormatInt(next.Version-1, 10)}, fields...)
	res, err := s.stage.Run(ctx, s.client, []string{k.event(), k.stage()}, args...).Text()
	if err != nil {
		return s.fail(err)
	}
	switch res {
	case "ok":
		return nil
	case "noevent":
		return notFound(event)
	case "conflict":
		return voting.Errorf(voting.CodeConflict, "the stage was changed by someone else; look again and retry")
	}
	return unexpected("stage.lua", res)
}
