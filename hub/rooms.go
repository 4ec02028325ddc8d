package hub

import (
	"context"

	"github.com/coder/websocket"

	"leitai/voting"
)

// The hub's rooms: a client joins the room of its event (made, subscribed
// and loaded at the first join) and leaves it; the last one out drops it.

// join adds c to the event's room (creating and loading the room if needed)
// and queues its snapshot.
func (h *Hub) join(ctx context.Context, event string, c *client, ballots *[]voting.CountedBallot) (*room, error) {
	for {
		r, err := h.room(ctx, event)
		if err != nil {
			return nil, err
		}
		r.mu.Lock()
		if r.gone {
			r.mu.Unlock()
			continue
		}
		if !r.loaded {
			if err := r.load(ctx); err != nil {
				empty := len(r.clients) == 0
				if empty {
					r.gone = true
				}
				r.mu.Unlock()
				if empty { // don't leave an empty room subscribed
					h.dropRoom(r)
				}
				return nil, err
			}
		}
		if c.role == RoleVoter && r.voterConns[c.voter] >= h.cfg.MaxVoterConnections {
			r.mu.Unlock()
			return nil, errTooManyConnections
		}
		r.clients[c] = struct{}{}
		if c.role == RoleVoter {
			r.voters++
			r.voterConns[c.voter]++
		}
		r.sendSnapshotLocked(c, ballots)
		r.mu.Unlock()
		h.metrics.connected(c.role, 1)
		if c.role == RoleVoter {
			h.MarkDirty(event) // turnout changed
		}
		return r, nil
	}
}

// room returns the event's room on this instance, subscribing to the
// broker when it is new. Subscribing happens before the room loads, so no
// envelope falls between the loaded state and the stream.
func (h *Hub) room(ctx context.Context, event string) (*room, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r := h.rooms[event]; r != nil {
		return r, nil
	}
	r := &room{hub: h, event: event, clients: make(map[*client]struct{}), voterConns: make(map[string]int)}
	// Bounded: h.mu is held, and a broker that cannot confirm must not
	// stall every other room of the hub.
	sctx, cancel := context.WithTimeout(ctx, h.cfg.WriteTimeout)
	defer cancel()
	unsub, err := h.broker.Subscribe(sctx, event, r.deliver)
	if err != nil {
		return nil, voting.Wrap(voting.CodeUnavailable, err, "the live service is unavailable; try again")
	}
	r.unsub = unsub
	h.rooms[event] = r
	return r, nil
}

// leave removes c; an empty room unsubscribes and goes.
func (h *Hub) leave(r *room, c *client) {
	r.mu.Lock()
	delete(r.clients, c)
	if c.role == RoleVoter {
		r.voters--
		if r.voterConns[c.voter]--; r.voterConns[c.voter] <= 0 {
			delete(r.voterConns, c.voter)
		}
	}
	empty := len(r.clients) == 0
	if empty {
		r.gone = true
	}
	r.mu.Unlock()
	h.metrics.connected(c.role, -1)
	if c.role == RoleVoter {
		h.MarkDirty(r.event)
	}
	if empty {
		h.dropRoom(r)
	}
}

// dropRoom forgets a room that was marked gone and unsubscribes it.
func (h *Hub) dropRoom(r *room) {
	h.mu.Lock()
	if h.rooms[r.event] == r {
		delete(h.rooms, r.event)
	}
	h.mu.Unlock()
	r.unsub()
}

// roomList returns the rooms of this instance, so that callers can work on
// each without holding the hub's lock.
func (h *Hub) roomList() []*room {
	h.mu.Lock()
	defer h.mu.Unlock()
	rooms := make([]*room, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	return rooms
}

func (h *Hub) localVoters(event string) int {
	h.mu.Lock()
	r := h.rooms[event]
	h.mu.Unlock()
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.voters
}

// CloseStaleHosts closes the host connections whose key is no longer in
// force (after a rotation, here or on another instance).
func (h *Hub) CloseStaleHosts() {
	cur := h.access.HostDigest()
	for _, r := range h.roomList() {
		r.mu.Lock()
		for c := range r.clients {
			if c.role == RoleHost && c.key != cur {
				c.close(websocket.StatusPolicyViolation, "the host key was changed")
			}
		}
		r.mu.Unlock()
	}
}
