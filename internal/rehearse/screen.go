package rehearse

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"leitai/voting"
)

// mark is the moment a screen first saw a contestant reach a ballot count.
type mark struct {
	count int
	at    time.Time
}

// A screen is one simulated big screen: it decodes every standings frame
// and remembers, per contestant, when each new ballot count arrived.
type screen struct {
	r     *runner
	wsURL string
	hc    *http.Client

	mu     sync.Mutex
	link            // guarded by mu
	marks  [][]mark // per contestant index, counts increasing
	latest *voting.Standings
}

func (s *screen) run(ctx context.Context) {
	runPeer(ctx, s.r, s.wsURL, nil, s.hc, s.serve, func() {
		s.mu.Lock()
		s.failed = true
		s.mu.Unlock()
	})
}

func (s *screen) serve(conn *websocket.Conn) bool {
	for {
		buf, err := readFrame(conn)
		if err != nil {
			return s.dropped(conn, err)
		}
		s.handle(conn, buf.Bytes())
		bufPool.Put(buf)
	}
}

func (s *screen) handle(conn *websocket.Conn, b []byte) {
	var f inFrame
	if err := json.Unmarshal(b, &f); err != nil {
		s.r.problemf("a screen could not decode a frame: %v", err)
		return
	}
	now := time.Now()
	switch f.Type {
	case "snapshot":
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			_ = conn.CloseNow()
			return
		}
		fresh, reconnected, down := s.attach(conn, now)
		s.seq = f.Seq
		s.standingsLocked(f.Standings, now)
		s.mu.Unlock()
		if fresh {
			s.r.peerUp(false, reconnected, down)
		}
	case "standings":
		s.r.c.standingsRecvd.Add(1)
		s.mu.Lock()
		s.standingsLocked(f.Standings, now)
		s.mu.Unlock()
	case "stage", "event", "reset":
		s.mu.Lock()
		gap := f.Seq > s.seq+1
		if f.Seq > s.seq {
			s.seq = f.Seq
		}
		s.mu.Unlock()
		if gap {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_ = conn.Write(ctx, websocket.MessageText, []byte(`{"type":"resync"}`))
			cancel()
		}
	case "deleted":
		s.r.problemf("the event was deleted while the rehearsal ran")
	case "error":
		s.r.c.errors.Add(1)
	}
}

func (s *screen) standingsLocked(sd *voting.Standings, now time.Time) {
	if sd == nil {
		return // the ranking is hidden
	}
	for _, row := range sd.Rows {
		ci, ok := s.r.index[row.Contestant]
		if !ok {
			continue
		}
		ms := s.marks[ci]
		if len(ms) == 0 || row.Ballots > ms[len(ms)-1].count {
			s.marks[ci] = append(ms, mark{count: row.Ballots, at: now})
		}
	}
	s.latest = sd
}

func (s *screen) dropped(conn *websocket.Conn, cause error) bool {
	s.mu.Lock()
	was := s.detach(conn)
	stopped := s.stopped
	s.mu.Unlock()
	if was {
		s.r.peerDown(false, stopped, cause)
	}
	return was
}

func (s *screen) stop() {
	s.mu.Lock()
	s.stopped = true
	conn := s.conn
	s.mu.Unlock()
	if conn != nil {
		_ = conn.Close(websocket.StatusNormalClosure, "rehearsal over")
	}
}

// shown returns when the screen first received standings in which
// contestant ci had at least k ballots.
func (s *screen) shown(ci, k int) (time.Time, bool) {
	ms := s.marks[ci]
	lo, hi := 0, len(ms)
	for lo < hi {
		m := (lo + hi) / 2
		if ms[m].count >= k {
			hi = m
		} else {
			lo = m + 1
		}
	}
	if lo == len(ms) {
		return time.Time{}, false
	}
	return ms[lo].at, true
}
