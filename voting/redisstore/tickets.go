package redisstore

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"leitai/voting"
)

// encodeTicket is the value of a ticket in the tickets hash; the Lua
// scripts read and write the same form.
func encodeTicket(t *voting.Ticket) string {
	revoked := "0"
	if t.Revoked {
		revoked = "1"
	}
	f := []string{t.Panel, strconv.FormatInt(t.Issued, 10), t.Voter, strconv.FormatInt(t.Claimed, 10), revoked}
	if t.Seat > 0 {
		f = append(f, strconv.Itoa(t.Seat)) // a judges' seat; tickets without one keep five fields
	}
	return strings.Join(f, "|")
}

func decodeTicket(code, v string) (voting.Ticket, error) {
	f := strings.Split(v, "|")
	if len(f) != 5 && len(f) != 6 {
		return voting.Ticket{}, voting.Errorf(voting.CodeInternal, "a stored ticket could not be read")
	}
	issued, err1 := strconv.ParseInt(f[1], 10, 64)
	claimed, err2 := strconv.ParseInt(f[3], 10, 64)
	var seat int
	var err3 error
	if len(f) == 6 {
		seat, err3 = strconv.Atoi(f[5])
	}
	if err1 != nil || err2 != nil || err3 != nil {
		return voting.Ticket{}, voting.Errorf(voting.CodeInternal, "a stored ticket could not be read")
	}
	return voting.Ticket{Code: code, Panel: f[0], Issued: issued, Voter: f[2], Claimed: claimed, Revoked: f[4] == "1", Seat: seat}, nil
}

// CreateTickets implements voting.Store.
func (s *Store) CreateTickets(ctx context.Context, event string, tickets []voting.Ticket) error {
	if !voting.ValidID(event) {
		return notFound(event)
	}
	args := make([]any, 0, 2*len(tickets))
	for i := range tickets {
		t := &tickets[i]
		if voting.NormalizeTicketCode(t.Code) != t.Code || !voting.ValidID(t.Panel) || t.Voter != "" || t.Revoked || t.Seat < 0 {
			return voting.Errorf(voting.CodeInvalid, "a new ticket has a code, a panel and nothing else")
		}
		args = append(args, t.Code, encodeTicket(t))
	}
	if len(args) == 0 {
		return nil
	}
	k := keysOf(event)
	reply, err := s.ticketsCreate.Run(ctx, s.client, []string{k.event(), k.tickets()}, args...).Result()
	if err != nil {
		return s.fail(err)
	}
	switch r := reply.(type) {
	case string:
		if r == "ok" {
			return nil
		}
		return notFound(event)
	case []any:
		code, _ := r[len(r)-1].(string)
		return voting.Errorf(voting.CodeConflict, "ticket code %s exists already", code)
	}
	return unexpected("tickets_create.lua", reply)
}

// Tickets implements voting.Store.
func (s *Store) Tickets(ctx context.Context, event string) ([]voting.Ticket, error) {
	if !voting.ValidID(event) {
		return nil, notFound(event)
	}
	var all *redis.MapStringStringCmd
	if err := s.readEvent(ctx, event, func(p redis.Pipeliner) { all = p.HGetAll(ctx, keysOf(event).tickets()) }); err != nil {
		return nil, err
	}
	out := make([]voting.Ticket, 0, len(all.Val()))
	for code, v := range all.Val() {
		t, err := decodeTicket(code, v)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b voting.Ticket) int {
		return cmp.Or(cmp.Compare(a.Issued, b.Issued), cmp.Compare(a.Code, b.Code))
	})
	return out, nil
}

// runTicket runs a ticket script (claim, revoke) on the event's event,
// tickets and holders keys with the code and args, and turns its common
// answers (no such event, no such ticket) into errors.
func (s *Store) runTicket(ctx context.Context, script *redis.Script, event, code string, args ...any) ([]string, error) {
	if !voting.ValidID(event) {
		return nil, notFound(event)
	}
	if voting.NormalizeTicketCode(code) != code {
		return nil, voting.ErrNoSuchTicket
	}
	k := keysOf(event)
	reply, err := script.Run(ctx, s.client, []string{k.event(), k.tickets(), k.holders()}, append([]any{code}, args...)...).StringSlice()
	if err != nil {
		return nil, s.fail(err)
	}
	switch {
	case len(reply) == 0:
		return nil, unexpected("ticket script", reply)
	case reply[0] == "noevent":
		return nil, notFound(event)
	case reply[0] == "none":
		return nil, voting.ErrNoSuchTicket
	}
	return reply, nil
}

// ClaimTicket implements voting.Store.
func (s *Store) ClaimTicket(ctx context.Context, event, code, voter string, at int64) (voting.Ticket, error) {
	if !voting.ValidVoter(voter) {
		return voting.Ticket{}, voting.Errorf(voting.CodeInvalid, "voter id is malformed")
	}
	reply, err := s.runTicket(ctx, s.ticketsClaim, event, code, voter, strconv.FormatInt(at, 10))
	if err != nil {
		return voting.Ticket{}, err
	}
	switch reply[0] {
	case "held":
		return voting.Ticket{}, voting.CheckClaim(voting.Ticket{}, voter, reply[1])
	case "ok", "mine", "revoked", "taken":
		t, err := decodeTicket(code, reply[1])
		if err != nil {
			return voting.Ticket{}, err
		}
		if err := voting.CheckClaim(t, voter, ""); err != nil {
			return voting.Ticket{}, err
		}
		return t, nil
	}
	return voting.Ticket{}, unexpected("tickets_claim.lua", reply)
}

// RevokeTicket implements voting.Store.
func (s *Store) RevokeTicket(ctx context.Context, event, code string) (voting.Ticket, error) {
	reply, err := s.runTicket(ctx, s.ticketsRevoke, event, code)
	if err != nil {
		return voting.Ticket{}, err
	}
	if reply[0] == "ok" {
		return decodeTicket(code, reply[1])
	}
	return voting.Ticket{}, unexpected("tickets_revoke.lua", reply)
}

// ReleaseTicket implements voting.Store.
func (s *Store) ReleaseTicket(ctx context.Context, event, code string) (voting.Ticket, error) {
	reply, err := s.runTicket(ctx, s.ticketsRelease, event, code)
	if err != nil {
		return voting.Ticket{}, err
	}
	switch reply[0] {
	case "ok":
		return decodeTicket(code, reply[1])
	case "revoked":
		return voting.Ticket{}, voting.ErrTicketRevoked
	}
	return voting.Ticket{}, unexpected("tickets_release.lua", reply)
}

// VoterTickets implements voting.Store.
func (s *Store) VoterTickets(ctx context.Context, event, voter string) ([]voting.Ticket, error) {
	if !voting.ValidVoter(voter) {
		return nil, voting.Errorf(voting.CodeInvalid, "voter id is malformed")
	}
	ev, err := s.Event(ctx, event)
	if err != nil {
		return nil, err
	}
	k := keysOf(event)
	fields := make([]string, len(ev.Panels))
	for i, p := range ev.Panels {
		fields[i] = voter + "|" + p.ID
	}
	held, err := s.client.HMGet(ctx, k.holders(), fields...).Result()
	if err != nil {
		return nil, s.fail(err)
	}
	var codes []string
	for _, h := range held {
		if c, ok := h.(string); ok {
			codes = append(codes, strings.TrimPrefix(c, "-"))
		}
	}
	if len(codes) == 0 {
		return nil, nil
	}
	vals, err := s.client.HMGet(ctx, k.tickets(), codes...).Result()
	if err != nil {
		return nil, s.fail(err)
	}
	out := make([]voting.Ticket, 0, len(codes))
	for i, v := range vals {
		if str, ok := v.(string); ok {
			t, err := decodeTicket(codes[i], str)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
	}
	return out, nil
}

// Audit implements voting.Store: entry n is stream id n-0.
func (s *Store) Audit(ctx context.Context, event string, after int64, limit int) ([]voting.AuditEntry, error) {
	if !voting.ValidID(event) {
		return nil, notFound(event)
	}
	var msgs *redis.XMessageSliceCmd
	err := s.readEvent(ctx, event, func(p redis.Pipeliner) {
		msgs = p.XRangeN(ctx, keysOf(event).audit(), strconv.FormatInt(max(after, 0)+1, 10)+"-0", "+", int64(max(limit, 1)))
	})
	if err != nil {
		return nil, err
	}
	out := make([]voting.AuditEntry, 0, len(msgs.Val()))
	if limit <= 0 {
		return out, nil
	}
	for _, m := range msgs.Val() {
		e, err := decodeAudit(m)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func decodeAudit(m redis.XMessage) (voting.AuditEntry, error) {
	bad := voting.Errorf(voting.CodeInternal, "audit entry %s could not be read", m.ID)
	seqText, _, ok := strings.Cut(m.ID, "-")
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if !ok || err != nil {
		return voting.AuditEntry{}, bad
	}
	str := func(name string) string { v, _ := m.Values[name].(string); return v }
	at, err := strconv.ParseInt(str("at"), 10, 64)
	if err != nil {
		return voting.AuditEntry{}, bad
	}
	var units int64
	if u := str("units"); u != "" {
		if units, err = strconv.ParseInt(u, 10, 64); err != nil {
			return voting.AuditEntry{}, bad
		}
	}
	return voting.AuditEntry{
		Seq: seq, At: at, Kind: voting.AuditKind(str("kind")), Ballot: str("ballot"), Voter: str("voter"),
		Contestant: str("contestant"), Panel: str("panel"), Units: units, Prev: str("prev"), Hash: str("hash"),
	}, nil
}

// hostKeysKey holds the host key digests of every instance on this Redis.
const hostKeysKey = "leitai:hostkeys"

// HostKeys implements voting.Store.
func (s *Store) HostKeys(ctx context.Context) (voting.HostKeys, error) {
	v, err := s.client.HMGet(ctx, hostKeysKey, "seed", "current").Result()
	if err != nil {
		return voting.HostKeys{}, s.fail(err)
	}
	seed, _ := v[0].(string)
	cur, _ := v[1].(string)
	return voting.HostKeys{Seed: seed, Current: cur}, nil
}

// SwapHostKeys implements voting.Store.
func (s *Store) SwapHostKeys(ctx context.Context, old, next voting.HostKeys) error {
	ok, err := s.hostKeys.Run(ctx, s.client, []string{hostKeysKey}, old.Seed, old.Current, next.Seed, next.Current).Int()
	if err != nil {
		return s.fail(err)
	}
	if ok != 1 {
		return voting.Errorf(voting.CodeConflict, "the host key was changed meanwhile")
	}
	return nil
}
