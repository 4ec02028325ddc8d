package hub

import (
	"context"
	"errors"
	"time"

	"leitai/voting"
)

// The hub's loops (standings, presence, the countdown, the host key) and
// what the API calls to reach the live side: Publish, MarkDirty, Cast.

// MarkDirty asks for a standings message for the event at the next tick
// (ballots, turnout, or contestants changed).
func (h *Hub) MarkDirty(event string) {
	h.dirtyMu.Lock()
	h.dirty[event] = true
	h.dirtyMu.Unlock()
}

// standingsLoop publishes, at most once per interval per event, fresh
// standings for the events that took ballots or changed turnout. Across
// instances, TryLead lets one instance publish per interval; the others
// keep the event dirty and try again at their next tick.
func (h *Hub) standingsLoop() {
	defer h.loops.Done()
	t := time.NewTicker(h.cfg.StandingsInterval)
	defer t.Stop()
	presence := time.NewTicker(2 * time.Second)
	defer presence.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-presence.C:
			h.reportPresence()
			h.refreshHostKey()
		case <-t.C:
			h.closeExpiredVoting()
			h.flushVoters()
			h.dirtyMu.Lock()
			events := make([]string, 0, len(h.dirty))
			for e := range h.dirty {
				events = append(events, e)
			}
			clear(h.dirty)
			h.dirtyMu.Unlock()
			for _, e := range events {
				if err := h.publishStandings(e); err != nil {
					h.MarkDirty(e)
					if !errors.Is(err, errNotLeader) {
						h.log.Warn("publishing standings failed", "event", e, "err", err)
					}
				}
			}
		}
	}
}

// flushVoters sends each room's held-back voter standings that are due.
func (h *Hub) flushVoters() {
	now := h.now()
	for _, r := range h.roomList() {
		r.flushVoters(now)
	}
}

// closeExpiredVoting asks the service to close voting in the rooms whose
// countdown ran out (voting.CloseExpired). Every instance may try; the
// command names the stage version, so exactly one succeeds; closeTried
// keeps this instance from trying again for the same version.
func (h *Hub) closeExpiredVoting() {
	now := h.now()
	for _, r := range h.roomList() {
		r.mu.Lock()
		st := r.stage
		due := r.loaded && st.CountdownOver(now) && r.closeTried != st.Version
		if due {
			r.closeTried = st.Version
		}
		r.mu.Unlock()
		if !due {
			continue
		}
		ctx, cancel := context.WithTimeout(h.ctx, h.cfg.WriteTimeout)
		if next, closed, err := h.service.CloseExpired(ctx, r.event, st); err == nil && closed {
			h.Publish(ctx, r.event, Envelope{Kind: KindStage, Stage: &next})
		}
		cancel()
	}
}

var errNotLeader = errors.New("another instance publishes this period")

func (h *Hub) publishStandings(event string) error {
	ctx, cancel := context.WithTimeout(h.ctx, h.cfg.WriteTimeout)
	defer cancel()
	lead, err := h.broker.TryLead(ctx, event, h.cfg.StandingsInterval)
	if err != nil {
		return err
	}
	if !lead {
		return errNotLeader
	}
	sd, err := h.service.Standings(ctx, event)
	if errors.Is(err, voting.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	voters, err := h.broker.Presence(ctx, event, h.cfg.Instance, h.localVoters(event))
	if err != nil {
		return err
	}
	_, err = h.broker.Publish(ctx, event, Envelope{Kind: KindStandings, Standings: &sd, Voters: voters})
	return err
}

// reportPresence tells the broker this instance's voter counts, so that the
// instance that publishes standings can sum every instance's voters.
func (h *Hub) reportPresence() {
	h.mu.Lock()
	events := make([]string, 0, len(h.rooms))
	for e := range h.rooms {
		events = append(events, e)
	}
	h.mu.Unlock()
	for _, e := range events {
		ctx, cancel := context.WithTimeout(h.ctx, h.cfg.WriteTimeout)
		total, err := h.broker.Presence(ctx, e, h.cfg.Instance, h.localVoters(e))
		cancel()
		if err != nil {
			continue
		}
		h.mu.Lock()
		r := h.rooms[e]
		h.mu.Unlock()
		if r == nil {
			continue
		}
		r.mu.Lock()
		changed := r.allVoters != total
		r.mu.Unlock()
		if changed {
			h.MarkDirty(e)
		}
	}
}

// Publish sends an envelope about an event to every instance; failures
// are logged, since the change itself is already stored and rooms resync.
func (h *Hub) Publish(ctx context.Context, event string, env Envelope) {
	if _, err := h.broker.Publish(ctx, event, env); err != nil {
		h.log.Warn("broadcast failed; clients will resync", "event", event, "kind", env.Kind, "err", err)
	}
}

// refreshHostKey picks up a rotation made on another instance and closes
// this instance's host connections opened with the old key.
func (h *Hub) refreshHostKey() {
	ctx, cancel := context.WithTimeout(h.ctx, h.cfg.WriteTimeout)
	defer cancel()
	if err := h.access.RefreshHostKey(ctx); err == nil {
		h.CloseStaleHosts()
	}
}

// Cast records a ballot (from a socket, or from the API) and schedules a
// standings message.
func (h *Hub) Cast(ctx context.Context, req voting.CastRequest) (voting.Receipt, error) {
	start := h.now()
	rec, err := h.service.Cast(ctx, req)
	h.metrics.observeBallot(h.now().Sub(start), err)
	if err == nil {
		h.MarkDirty(req.Event)
	}
	return rec, err
}
