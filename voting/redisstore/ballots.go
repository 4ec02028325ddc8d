package redisstore

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"leitai/voting"
)

// CastBallot records b, validated against the event at revision, in one run
// of cast.lua: see the package comment and voting.Store for the guarantees.
func (s *Store) CastBallot(ctx context.Context, b voting.CountedBallot, revision int64) (voting.Receipt, error) {
	if !voting.ValidID(b.Event) {
		return voting.Receipt{}, notFound(b.Event)
	}
	// The ids become parts of keys and fields: whatever the caller
	// checked, only ids that are safe there go to Redis. (Whether they
	// name the event's contestant and panel the service checked against
	// the revision that cast.lua pins.)
	if b.ID == "" || !voting.ValidVoter(b.Voter) || (b.Device != "" && !voting.ValidVoter(b.Device)) || !voting.ValidID(b.Contestant) || !voting.ValidID(b.Panel) {
		return voting.Receipt{}, voting.Errorf(voting.CodeInvalid, "the ballot is malformed")
	}
	data, err := json.Marshal((*storedBallot)(&b))
	if err != nil {
		return voting.Receipt{}, voting.Wrap(voting.CodeInvalid, err, "the ballot could not be encoded")
	}
	k := keysOf(b.Event)
	keys := []string{
		k.event(), k.stage(), k.receipts(), k.ballots(), k.voter(b.Voter),
		k.scores(b.Contestant, b.Panel), k.agg(b.Contestant), k.ranking(), k.holders(), k.audit(),
	}
	args := []any{
		b.ID, b.Fingerprint(), strconv.FormatInt(revision, 10), strconv.FormatInt(b.At, 10),
		b.Voter, b.Contestant, b.Panel, strconv.FormatInt(b.Units, 10), string(data),
		voting.VoterDigest(b.Voter), b.Event, b.Device,
	}
	var reply []any
	if s.batch != nil {
		reply, err = s.batch.run(ctx, keys, args)
	} else {
		reply, err = s.cast.Run(ctx, s.client, keys, args...).Slice()
	}
	if err != nil {
		return voting.Receipt{}, s.fail(err)
	}
	return castReceipt(&b, reply)
}

// storedBallot is a ballot as the ballots hash keeps it: its fields only,
// without the "counted" that CountedBallot adds for clients.
type storedBallot voting.CountedBallot

// castReceipt turns the answer of cast.lua into a receipt or an error.
func castReceipt(b *voting.CountedBallot, reply []any) (voting.Receipt, error) {
	str := func(i int) string {
		if i < len(reply) {
			if s, ok := reply[i].(string); ok {
				return s
			}
		}
		return ""
	}
	r := voting.Receipt{
		BallotID:   b.ID,
		Contestant: b.Contestant,
		Panel:      b.Panel,
		Score:      b.Points(),
		Replaced:   str(1) == "1",
		At:         b.At,
	}
	switch str(0) {
	case "ok":
		r.Code = str(2)
		return r, nil
	case "dup":
		// Same fingerprint, so same voter, contestant, panel and units:
		// only the time of the first cast is stored.
		at, err := strconv.ParseInt(str(2), 10, 64)
		if err != nil {
			return voting.Receipt{}, unexpected("cast.lua", reply)
		}
		r.At = at
		r.Code = str(3)
		return r, nil
	case "reused":
		return voting.Receipt{}, voting.Errorf(voting.CodeConflict, "this ballot id was already used for another ballot")
	case "noevent":
		return voting.Receipt{}, notFound(b.Event)
	case "stale":
		return voting.Receipt{}, voting.ErrStaleRevision
	case "notopen":
		return voting.Receipt{}, voting.Errorf(voting.CodeClosed, "voting is not open for this contestant")
	case "ended":
		return voting.Receipt{}, voting.Errorf(voting.CodeClosed, "voting has closed")
	case "noticket":
		return voting.Receipt{}, voting.ErrNoTicket
	}
	return voting.Receipt{}, unexpected("cast.lua", reply)
}

// Ballots returns the live ballots of the event.
func (s *Store) Ballots(ctx context.Context, event string) ([]voting.CountedBallot, error) {
	if !voting.ValidID(event) {
		return nil, notFound(event)
	}
	var vals *redis.StringSliceCmd
	if err := s.readEvent(ctx, event, func(p redis.Pipeliner) { vals = p.HVals(ctx, keysOf(event).ballots()) }); err != nil {
		return nil, err
	}
	return decodeBallots(vals.Val())
}

// VoterBallots returns one voter's live ballots, read through the voter's
// index rather than by scanning the event's ballots.
func (s *Store) VoterBallots(ctx context.Context, event, voter string) ([]voting.CountedBallot, error) {
	if !voting.ValidID(event) {
		return nil, notFound(event)
	}
	if !voting.ValidVoter(voter) {
		return nil, voting.Errorf(voting.CodeInvalid, "voter id is malformed")
	}
	k := keysOf(event)
	vals, err := s.voter.Run(ctx, s.client, []string{k.event(), k.voter(voter), k.ballots()}, voter).StringSlice()
	if err == redis.Nil {
		return nil, notFound(event)
	}
	if err != nil {
		return nil, s.fail(err)
	}
	return decodeBallots(vals)
}

func decodeBallots(vals []string) ([]voting.CountedBallot, error) {
	out := make([]voting.CountedBallot, len(vals))
	for i, v := range vals {
		if err := json.Unmarshal([]byte(v), &out[i]); err != nil {
			return nil, voting.Wrap(voting.CodeInternal, err, "a stored ballot could not be read")
		}
	}
	return out, nil
}

// Standings reads the aggregates that cast.lua keeps and ranks them with the
// shared voting.Rank. Averages and final scores come from Redis as written
// there (%.17g, so the doubles are exact).
func (s *Store) Standings(ctx context.Context, event string) (voting.Standings, error) {
	if !voting.ValidID(event) {
		return voting.Standings{}, notFound(event)
	}
	k := keysOf(event)
	reply, err := s.standings.Run(ctx, s.client, []string{k.event(), k.ranking()}, k.prefix()).Slice()
	if err == redis.Nil {
		return voting.Standings{}, notFound(event)
	}
	if err != nil {
		return voting.Standings{}, s.fail(err)
	}
	if len(reply) < 2 || len(reply)%2 != 0 {
		return voting.Standings{}, unexpected("standings.lua", len(reply))
	}
	ev, err := decodeEvent(event, reply[0], reply[1])
	if err != nil {
		return voting.Standings{}, err
	}
	aggs := make(map[string]map[string]string, len(reply)/2-1)
	for i := 2; i < len(reply); i += 2 {
		c, _ := reply[i].(string)
		flat, _ := reply[i+1].([]any)
		m := make(map[string]string, len(flat)/2)
		for j := 0; j+1 < len(flat); j += 2 {
			f, _ := flat[j].(string)
			v, _ := flat[j+1].(string)
			m[f] = v
		}
		aggs[c] = m
	}
	rows := make([]voting.Standing, 0, len(ev.Contestants))
	for _, c := range ev.Contestants {
		row := voting.Standing{Contestant: c.ID, Group: c.Group, Panels: make([]voting.PanelScore, len(ev.Panels))}
		agg := aggs[c.ID]
		for i, p := range ev.Panels {
			ps := voting.PanelScore{Panel: p.ID}
			if n, _ := strconv.Atoi(agg["n:"+p.ID]); n > 0 {
				avg, err := strconv.ParseFloat(agg["a:"+p.ID], 64)
				if err != nil {
					return voting.Standings{}, voting.Wrap(voting.CodeInternal, err, "stored standings could not be read")
				}
				ps.Count, ps.Average, ps.Dropped = n, avg, voting.TrimDropped(n, ev.PanelRule(i).Trim)
				ps.Top, _ = strconv.Atoi(agg["t:"+p.ID])
			}
			row.Panels[i] = ps
			row.Ballots += ps.Count
		}
		if row.Ballots > 0 {
			final, err := strconv.ParseFloat(agg["final"], 64)
			if err != nil {
				return voting.Standings{}, voting.Wrap(voting.CodeInternal, err, "stored standings could not be read")
			}
			// The tie-breaks need the final score before rounding: the
			// same operations on the same doubles as Tally's.
			row.Final, row.Unrounded = final, voting.UnroundedFinal(&ev, row.Panels)
		}
		rows = append(rows, row)
	}
	return voting.Rank(&ev, rows), nil
}

// ResetContestant removes every live ballot of one contestant; their ids
// stay recorded.
func (s *Store) ResetContestant(ctx context.Context, event, contestant string) (int, error) {
	ev, err := s.Event(ctx, event)
	if err != nil {
		return 0, err
	}
	if _, _, ok := ev.Contestant(contestant); !ok {
		if !voting.ValidID(contestant) {
			return 0, voting.Errorf(voting.CodeNotFound, "no such contestant in this event")
		}
		return 0, voting.Errorf(voting.CodeNotFound, "no contestant %q in this event", contestant)
	}
	k := keysOf(event)
	keys := []string{k.event(), k.ballots(), k.ranking(), k.agg(contestant)}
	n, err := s.reset.Run(ctx, s.client, keys, contestant, k.prefix(), strconv.FormatInt(time.Now().UnixMilli(), 10), event).Int()
	if err != nil {
		return 0, s.fail(err)
	}
	if n < 0 {
		return 0, notFound(event)
	}
	return n, nil
}

// readEvent queues reads of an event's keys in one MULTI with a check that
// the event exists, so that they are one snapshot and a missing event is
// told apart from an empty one.
func (s *Store) readEvent(ctx context.Context, event string, reads func(p redis.Pipeliner)) error {
	var exists *redis.IntCmd
	_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.Exists(ctx, keysOf(event).event())
		reads(p)
		return nil
	})
	if err != nil {
		return s.fail(err)
	}
	if exists.Val() == 0 {
		return notFound(event)
	}
	return nil
}
