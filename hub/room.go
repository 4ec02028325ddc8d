package hub

import (
	"context"
	"errors"
	"sync"
	"time"

	"leitai/voting"
)

// A room holds the clients of one event on this instance and the latest
// state of the event as the broker delivered it, so that a snapshot for a
// (re)connecting client costs no store read.
type room struct {
	hub   *Hub
	event string

	mu      sync.Mutex
	clients map[*client]struct{}
	voters  int // connected voter clients on this instance
	// voterConns counts each voter's sockets, to cap them.
	voterConns map[string]int
	loaded     bool
	seq        int64
	ev         voting.Event // public copy
	stage      voting.Stage
	standings  voting.Standings
	allVoters  int // connected voters on all instances, from the last standings
	frames     roomFrames
	unsub      func()
	gone       bool // deleted, or closed because empty
	// closeTried is the stage version for which this instance tried to
	// close voting at the end of the countdown.
	closeTried int64
	// voterSentAt is when voters last got a standings frame; voterPending
	// says that a newer one is held back.
	voterSentAt  time.Time
	voterPending bool
}

// roomFrames are the latest standings frames per audience, kept to send to
// new clients and to resend when visibility changes.
type roomFrames struct{ host, screen, voter []byte }

// load reads the event's state from the store. It runs with r.mu held, on
// room creation and whenever the broker may have lost messages.
func (r *room) load(ctx context.Context) error {
	seq, err := r.hub.broker.Seq(ctx, r.event)
	if err != nil {
		return err
	}
	r.hub.service.Forget(r.event)
	ev, err := r.hub.service.Event(ctx, r.event)
	if err != nil {
		return err
	}
	st, err := r.hub.service.Stage(ctx, r.event)
	if err != nil {
		return err
	}
	sd, err := r.hub.service.Standings(ctx, r.event)
	if err != nil {
		return err
	}
	r.seq, r.ev, r.stage, r.standings, r.loaded = seq, ev.Public(), st, sd, true
	r.rebuildStandingsFrames()
	return nil
}

// deliver applies one envelope from the broker and fans it out.
func (r *room) deliver(d Delivery) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gone || !r.loaded {
		return
	}
	// A gap: a bumping envelope was lost, seen on the next bumping one or
	// on a standings envelope, which carries the number of the last bump.
	if d.Kind == KindResync || (d.Bumps() && d.Seq > r.seq+1) || (!d.Bumps() && d.Seq > r.seq) {
		r.resyncLocked()
		return
	}
	if d.Bumps() && d.Seq <= r.seq {
		return // already reflected in a snapshot taken after it
	}
	r.seq = d.Seq
	switch d.Kind {
	case KindStage:
		prev := r.stage
		// Two commands may be published in the other order than they were
		// stored: keep the newer stage, but send it with this number so
		// that clients see no gap.
		if d.Stage.Version >= r.stage.Version {
			r.stage = *d.Stage
		}
		r.broadcast(mustJSON(stageFrame{Type: "stage", Seq: r.seq, Now: r.hub.now().UnixMilli(), Stage: r.stage}), nil, false)
		// The audience's view of the standings depends on the stage.
		if voting.ViewChanges(&prev, &r.stage) {
			r.rebuildStandingsFrames()
			r.broadcastStandings(true)
		}
	case KindEvent:
		r.ev = d.Envelope.Event.Public()
		r.hub.service.Forget(r.event)
		r.broadcast(mustJSON(eventFrame{Type: "event", Seq: r.seq, Event: r.ev}), nil, false)
	case KindStandings:
		r.standings = *d.Standings
		r.allVoters = d.Voters
		r.rebuildStandingsFrames()
		r.broadcastStandings(false)
	case KindReset:
		r.broadcast(mustJSON(resetFrame{Type: "reset", Seq: r.seq, Contestant: d.Contestant}), nil, false)
	case KindDeleted:
		r.broadcast(mustJSON(deletedFrame{Type: "deleted", Seq: r.seq}), nil, false)
		r.hub.service.Forget(r.event)
		// The state is gone with the event: whoever joins next (the event
		// may be created again) loads afresh.
		r.loaded = false
	}
}

// resyncLocked reloads the state and sends every client a fresh snapshot.
func (r *room) resyncLocked() {
	ctx, cancel := context.WithTimeout(context.Background(), r.hub.cfg.WriteTimeout)
	defer cancel()
	// Right after Redis comes back, the pub/sub connection may be up
	// before the command pool dials again: retry briefly before sending
	// every client away to reconnect.
	err := r.load(ctx)
	for attempt := 1; attempt <= 4 && errors.Is(err, voting.ErrUnavailable) && ctx.Err() == nil; attempt++ {
		time.Sleep(time.Duration(attempt) * 250 * time.Millisecond)
		err = r.load(ctx)
	}
	if err != nil {
		r.hub.log.Warn("resync failed; clients will resync when they reconnect", "event", r.event, "err", err)
		r.loaded = false
		for c := range r.clients {
			r.hub.kick(c, "resync failed")
		}
		return
	}
	r.hub.metrics.resyncs.Add(1)
	for c := range r.clients {
		r.sendSnapshotLocked(c, nil)
	}
}

// turnout is the audience-independent turnout from the latest standings.
func (r *room) turnout() Turnout {
	t := Turnout{Voters: r.allVoters, Contestant: r.stage.Current}
	if r.allVoters < r.voters {
		t.Voters = r.voters // this instance's own count is fresher
	}
	if row, ok := r.standings.Row(r.stage.Current); ok {
		t.Voted = row.Ballots
	}
	return t
}

// view is what an audience may see of the standings now: the domain's
// rule (voting.ViewOf), which the room only encodes.
func (r *room) view(a voting.Audience) voting.View {
	return voting.ViewOf(a, &r.standings, &r.stage)
}

func (r *room) rebuildStandingsFrames() {
	t := r.turnout()
	frame := func(a voting.Audience) []byte {
		v := r.view(a)
		return mustJSON(standingsFrame{Type: "standings", Seq: r.seq, Turnout: t, Standings: v.Standings, Ranking: v.Ranking})
	}
	r.frames.host = frame(voting.AudienceHost)
	r.frames.screen = frame(voting.AudienceScreen)
	r.frames.voter = frame(voting.AudiencePhone)
}

// broadcastStandings sends the standings frames: to hosts and screens at
// once, to voters at most once per voterInterval (phones need the turnout
// about once a second, and at 19,000 phones ten frames a second each would
// be most of the server's work) unless force says that what the audience
// may see changed. A held-back voter frame is sent by flushVoters, rebuilt
// from the state of that moment.
func (r *room) broadcastStandings(force bool) {
	frames := r.frames
	now := r.hub.now()
	if force || now.Sub(r.voterSentAt) >= r.voterInterval() {
		r.voterSentAt, r.voterPending = now, false
	} else {
		frames.voter, r.voterPending = nil, true
	}
	r.broadcast(r.frames.host, &frames, true)
}

// voterInterval is the time between two periodic standings frames to the
// room's phones: VoterStandingsInterval, or longer when this instance has
// more phones than VoterStandingsBudget frames a second allow.
func (r *room) voterInterval() time.Duration {
	cfg := &r.hub.cfg
	iv := cfg.VoterStandingsInterval
	if byBudget := time.Duration(r.voters) * time.Second / time.Duration(cfg.VoterStandingsBudget); byBudget > iv {
		iv = byBudget
	}
	return iv
}

// flushVoters sends voters the standings held back by broadcastStandings
// once their interval has passed.
func (r *room) flushVoters(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.loaded || r.gone || !r.voterPending || now.Sub(r.voterSentAt) < r.voterInterval() {
		return
	}
	r.rebuildStandingsFrames()
	r.voterSentAt, r.voterPending = now, false
	r.broadcast(nil, &roomFrames{voter: r.frames.voter}, true)
}

// broadcast queues frame for every client; with per-audience frames, each
// client gets its audience's. Slow clients are closed, not waited for.
func (r *room) broadcast(frame []byte, per *roomFrames, standings bool) {
	start := r.hub.now()
	for c := range r.clients {
		f := frame
		if per != nil {
			switch c.role {
			case RoleScreen:
				f = per.screen
			case RoleVoter:
				f = per.voter
			default:
				f = per.host
			}
		}
		if f == nil {
			continue // not for this audience now
		}
		dropped, slow := c.send(f, standings, r.hub.cfg.SendQueue)
		if dropped {
			r.hub.metrics.replaced.Add(1)
		}
		if slow {
			r.hub.metrics.slowClosed.Add(1)
		}
	}
	r.hub.metrics.observeFanout(r.hub.now().Sub(start), len(r.clients))
}

// sendSnapshotLocked queues a snapshot for c. ballots are the voter's own
// live ballots; nil leaves them out (the phone keeps what it has).
func (r *room) sendSnapshotLocked(c *client, ballots *[]voting.CountedBallot) {
	f := snapshotFrame{
		Type: "snapshot", Seq: r.seq, Role: c.role, Now: r.hub.now().UnixMilli(),
		Event: r.ev, Stage: r.stage, Turnout: r.turnout(),
	}
	v := r.view(c.role.audience())
	f.Standings, f.Ranking = v.Standings, v.Ranking
	if c.role == RoleVoter {
		f.Ballots, f.Voter, f.Panel = ballots, c.voter, c.panel
	}
	c.send(mustJSON(f), false, r.hub.cfg.SendQueue+1)
}
