package main

// Fault tests with real processes (issue 7): the server killed while phones
// vote, Redis killed and restarted, Redis's script cache flushed, one of two
// instances killed, the embedded journal cut in its last record. Each
// compares what the server has with what the phones were told, by counts,
// never by times.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"leitai/voting"
	"leitai/voting/redistest"
	"leitai/voting/votingtest"
)

const faultKey = "fault-test-host-key"

// faultEnv is the environment of a leitai process in these tests: a fresh
// data dir, the test's host key, and Redis when redisURL is not empty.
func faultEnv(t *testing.T, redisURL string) []string {
	env := []string{"LEITAI_DATA_DIR=" + t.TempDir(), "LEITAI_HOST_KEY=" + faultKey, "LEITAI_LOG_LEVEL=info"}
	if redisURL != "" {
		env = append(env, "LEITAI_REDIS_URL="+redisURL)
	}
	return env
}

// faultEvent creates votingtest's small event with one panel on the server
// at base and opens voting for the first contestant; its id starts with id.
func faultEvent(t *testing.T, base, id string) voting.Event {
	t.Helper()
	// A fresh id per run: a shared Redis (LEITAI_TEST_REDIS) keeps events.
	id += "-" + uuid.NewString()[:8]
	ev := votingtest.Event(id, votingtest.Title("故障演练"), votingtest.AudienceOnly)
	var created voting.Event
	faultAPI(t, base, "POST", "/api/events", faultKey, ev, &created)
	faultCommand(t, base, id, voting.ActionNext)
	faultCommand(t, base, id, voting.ActionOpen)
	return created
}

func faultCommand(t *testing.T, base, event string, action voting.Action) voting.Stage {
	t.Helper()
	var st voting.Stage
	faultAPI(t, base, "POST", "/api/events/"+event+"/stage", faultKey, voting.Command{Action: action}, &st)
	return st
}

// faultKill kills the process with SIGKILL and waits until it is gone.
func faultKill(t *testing.T, sp *serverProcess) {
	t.Helper()
	if err := sp.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sp.done:
	case <-time.After(15 * time.Second):
		t.Fatal("the killed server is still running")
	}
}

// tail returns the end of a server's log, for failure messages.
func faultLogTail(s string) string {
	if len(s) > 3000 {
		return "…" + s[len(s)-3000:]
	}
	return s
}

// faultNoPanic fails the test if a server's log shows a panic or a fatal
// runtime error.
func faultNoPanic(t *testing.T, sps ...*serverProcess) {
	t.Helper()
	for _, sp := range sps {
		if log := sp.stderr.String(); strings.Contains(log, "panic:") || strings.Contains(log, "fatal error:") {
			t.Errorf("server %s crashed:\n%s", sp.base, faultLogTail(log))
		}
	}
}

// closeAndSee closes voting and waits until every phone has seen it.
func closeAndSee(t *testing.T, base string, ev voting.Event, fl *phoneFleet) {
	t.Helper()
	st := faultCommand(t, base, ev.ID, voting.ActionClose)
	faultWait(t, 30*time.Second, func() string {
		return fmt.Sprintf("every phone to see voting closed (stage version %d): %d of %d do", st.Version, fl.seeing(voting.PhaseClosed), len(fl.phones))
	}, func() bool { return fl.seeing(voting.PhaseClosed) == len(fl.phones) })
}

func TestFaultKillServerEmbedded(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the binary with 200 phones")
	}
	faultKillServer(t, "", false)
}

// TestFaultStopServerEmbedded is the same with SIGTERM: a graceful stop
// under load loses nothing acknowledged and exits cleanly.
func TestFaultStopServerEmbedded(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the binary with 200 phones")
	}
	faultKillServer(t, "", true)
}

func TestFaultKillServerRedis(t *testing.T) {
	redistest.Parallel(t)
	if testing.Short() {
		t.Skip("runs the binary and Redis with 200 phones")
	}
	srv := redistest.MustStart(t, redistest.Options{AOF: true})
	faultKillServer(t, srv.URL(), false)
}

// faultKillServer: 200 phones vote continuously; the server gets SIGKILL
// in the middle and is started again on the same data (on another port);
// the phones find it, resend what had no answer with the same ids, and
// every acknowledged ballot is counted exactly once.
func faultKillServer(t *testing.T, redisURL string, graceful bool) {
	env := faultEnv(t, redisURL)
	sp := startServer(t, env)
	var base atomic.Pointer[string]
	base.Store(&sp.base)
	ev := faultEvent(t, sp.base, "kill-9")
	c1 := ev.Contestants[0].ID

	const voters = 200
	fl := startPhones(t, ev.ID, voters, "k", func(int) func() []string {
		return func() []string { return []string{*base.Load()} }
	})
	faultWait(t, 60*time.Second, func() string { return fmt.Sprintf("%d phones to connect (%d did)", voters, fl.connected(1)) },
		func() bool { return fl.connected(1) == voters })
	stop := fl.castContinuously(c1, 1)
	faultWait(t, 60*time.Second, faultSay("400 ballots to be acknowledged"), func() bool { return fl.total().OK >= 2*voters })

	if graceful {
		sp.stop(t)
	} else {
		faultKill(t, sp)
	}
	atKill := fl.total()
	before := fl.okCounts()
	sp2 := startServer(t, env)
	base.Store(&sp2.base)

	// Every phone reconnects to the new process and gets two more ballots
	// through (so whatever it had in flight at the kill was answered).
	faultWait(t, 60*time.Second, func() string {
		n := 0
		for i, p := range fl.phones {
			if p.sessionsOn(sp2.base) > 0 && p.okCount() >= before[i]+2 {
				n++
			}
		}
		return fmt.Sprintf("every phone to reconnect and cast twice more: %d of %d did\n%s", n, voters, faultLogTail(sp2.stderr.String()))
	}, func() bool {
		for i, p := range fl.phones {
			if p.sessionsOn(sp2.base) == 0 || p.okCount() < before[i]+2 {
				return false
			}
		}
		return true
	})
	stop(t)
	closeAndSee(t, sp2.base, ev, fl)
	verifyExactlyOnce(t, sp2.base, ev, fl.phones, faultVerify{})

	tot := fl.total()
	if len(tot.Refused) != 0 || tot.Stray != 0 || tot.Pending != 0 {
		t.Errorf("refusals %v, answers to unknown ballots %d, still pending %d; want none", tot.Refused, tot.Stray, tot.Pending)
	}
	if tot.Resent == 0 && !graceful {
		t.Errorf("no ballot was in flight at the kill (%d pending then): the resend path was not exercised", atKill.Pending)
	}
	t.Logf("%d ballots acknowledged (%d before the kill, %d in flight then), %d resent after reconnecting",
		tot.OK, atKill.OK, atKill.Pending, tot.Resent)
	faultNoPanic(t, sp, sp2)
}

// TestFaultRedisRestart: Redis (AOF, appendfsync always) gets SIGKILL while
// phones vote. Meanwhile ballots are refused with "unavailable" and a
// message to try again, /readyz says 503, /healthz 200, the process lives.
// Redis starts again on the same data; leitai comes back by itself: ready,
// ballots accepted, stage messages reaching phones again (the pub/sub
// connection resubscribed). Acknowledged ballots from before the crash
// survived, and every acknowledged ballot counts exactly once.
func TestFaultRedisRestart(t *testing.T) {
	redistest.Parallel(t)
	if testing.Short() {
		t.Skip("kills and restarts Redis")
	}
	srv := redistest.MustStart(t, redistest.Options{AOF: true})
	srv.RequirePrivate()
	sp := startServer(t, faultEnv(t, srv.URL()))
	ev := faultEvent(t, sp.base, "redis-down")
	c1 := ev.Contestants[0].ID
	servers := func(int) func() []string { return func() []string { return []string{sp.base} } }

	// Witnesses vote once before the crash and never again: their ballots
	// must be there after Redis restarts from its AOF.
	witnesses := startPhones(t, ev.ID, 10, "w", servers)
	voters := startPhones(t, ev.ID, 40, "v", servers)
	all := &phoneFleet{phones: append(append([]*phone{}, witnesses.phones...), voters.phones...)}
	faultWait(t, 30*time.Second, faultSay("phones to connect"), func() bool { return all.connected(1) == len(all.phones) })
	witnesses.castEach(t, c1, 7)
	stop := voters.castContinuously(c1, 2)
	faultWait(t, 30*time.Second, faultSay("80 ballots acknowledged"), func() bool { return voters.total().OK >= 80 })

	srv.Kill()
	okAtKill := voters.total().OK
	unavailableAtKill := voters.total().Refused[voting.CodeUnavailable]
	faultWait(t, 30*time.Second, func() string {
		return fmt.Sprintf("ballots to be refused as unavailable while Redis is down (%v)", voters.total().Refused)
	}, func() bool { return voters.total().Refused[voting.CodeUnavailable] >= unavailableAtKill+40 })
	for _, msg := range voters.total().Unavailable {
		if !strings.Contains(msg, "try again") {
			t.Errorf("unavailable answer %q does not say to try again", msg)
		}
	}
	faultWait(t, 30*time.Second, faultSay("/readyz to report 503 while Redis is down"), func() bool {
		status, _ := faultAPI(t, sp.base, "GET", "/readyz", "", nil, nil)
		return status == http.StatusServiceUnavailable
	})
	if status, body := faultAPI(t, sp.base, "GET", "/healthz", "", nil, nil); status != http.StatusOK {
		t.Errorf("/healthz while Redis is down: %d %s", status, body)
	}
	// A ballot over HTTP is refused the same way, with Retry-After; it is
	// sent again with its id once Redis is back.
	httpBallot := map[string]any{"id": uuid.NewString(), "credential": sp.creds.For("http-voter"), "contestant": c1, "score": 77.5}
	status, body := faultAPI(t, sp.base, "POST", "/api/events/"+ev.ID+"/ballots", "", httpBallot, nil)
	if status != http.StatusServiceUnavailable || !bytes.Contains(body, []byte(`"unavailable"`)) {
		t.Errorf("HTTP ballot while Redis is down: %d %s", status, body)
	}
	// A phone that arrives now is turned away (503) and keeps trying.
	late := startPhones(t, ev.ID, 1, "late", servers)
	faultWait(t, 30*time.Second, faultSay("the late phone to be refused"), func() bool {
		err := late.phones[0].dialErr()
		return err != nil && strings.Contains(err.Error(), "503")
	})
	if err := sp.cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("leitai died while Redis was down: %v\n%s", err, faultLogTail(sp.stderr.String()))
	}

	srv.Start()
	// The host hides the ranking as soon as Redis takes commands again,
	// maybe before leitai's pub/sub connection is back: the phones must
	// see the change all the same (the room resyncs on resubscribing).
	hide := false
	var hidden voting.Stage
	faultWait(t, 30*time.Second, faultSay("a stage command to succeed after Redis returned"), func() bool {
		status, body := faultAPI(t, sp.base, "POST", "/api/events/"+ev.ID+"/stage", faultKey,
			voting.Command{Action: voting.ActionRanking, Visible: &hide}, nil)
		return status == http.StatusOK && json.Unmarshal(body, &hidden) == nil
	})
	faultWait(t, 30*time.Second, faultSay("/readyz to report 200 after Redis returned"), func() bool {
		status, _ := faultAPI(t, sp.base, "GET", "/readyz", "", nil, nil)
		return status == http.StatusOK
	})
	if _, metrics := faultAPI(t, sp.metrics, "GET", "/metrics", "", nil, nil); !regexp.MustCompile(`(?m)^leitai_pubsub_reconnects_total [1-9]`).Match(metrics) {
		t.Errorf("/metrics does not count the lost pub/sub connection:\n%s", regexp.MustCompile(`(?m)^leitai_pubsub.*$`).Find(metrics))
	}
	before := voters.okCounts()
	faultWait(t, 45*time.Second, func() string {
		return fmt.Sprintf("every phone to have a ballot accepted after Redis returned (%v)\n%s", voters.total().Refused, faultLogTail(sp.stderr.String()))
	}, func() bool {
		for i, p := range voters.phones {
			if p.okCount() < before[i]+1 {
				return false
			}
		}
		return true
	})
	stop(t)
	faultWait(t, 30*time.Second, func() string {
		n := 0
		for _, p := range voters.phones {
			if st := p.currentStage(); st.Version >= hidden.Version && !st.RankingVisible {
				n++
			}
		}
		return fmt.Sprintf("every phone to see the ranking hidden (stage version %d): %d of %d do", hidden.Version, n, len(voters.phones))
	}, func() bool {
		for _, p := range voters.phones {
			if st := p.currentStage(); st.Version < hidden.Version || st.RankingVisible {
				return false
			}
		}
		return true
	})
	var rec voting.Receipt
	faultAPI(t, sp.base, "POST", "/api/events/"+ev.ID+"/ballots", "", httpBallot, &rec)

	// The phone that was turned away got in by itself, and votes.
	late.castEach(t, c1, 9)
	all.phones = append(all.phones, late.phones...)

	closeAndSee(t, sp.base, ev, all)
	verifyExactlyOnce(t, sp.base, ev, all.phones, faultVerify{extra: []voting.CountedBallot{{
		Ballot: voting.Ballot{ID: rec.BallotID, Event: ev.ID, Voter: "http-voter", Contestant: c1, Panel: ev.Panels[0].ID},
		Units:  int64(math.Round(rec.Score * voting.ScoreUnits)),
	}}})
	tot := all.total()
	for code, n := range tot.Refused {
		if code != voting.CodeUnavailable {
			t.Errorf("%d ballots refused with %q; only unavailable is expected", n, code)
		}
	}
	if tot.Pending != 0 || tot.Stray != 0 {
		t.Errorf("still pending %d, answers to unknown ballots %d", tot.Pending, tot.Stray)
	}
	t.Logf("%d acknowledged before the kill, %d in all; %d answers \"unavailable\" while Redis was down, all resent and counted",
		okAtKill, tot.OK, tot.Refused[voting.CodeUnavailable])
	faultNoPanic(t, sp)
}

// TestFaultScriptFlush: Redis forgets its scripts (SCRIPT FLUSH) between
// rounds of ballots; every later ballot is accepted, and so are the stage
// command, the phones' reconnections, the standings and the screen's
// updates that run other scripts after a flush.
func TestFaultScriptFlush(t *testing.T) {
	redistest.Parallel(t)
	if testing.Short() {
		t.Skip("runs the binary and Redis")
	}
	srv := redistest.MustStart(t, redistest.Options{})
	sp := startServer(t, faultEnv(t, srv.URL()))
	ev := faultEvent(t, sp.base, "flush")
	screen := watchFaultScreen(t, sp.base, ev.ID)
	fl := startPhones(t, ev.ID, 20, "f", func(int) func() []string { return func() []string { return []string{sp.base} } })
	faultWait(t, 30*time.Second, faultSay("phones to connect"), func() bool { return fl.connected(1) == len(fl.phones) })
	flush := func() {
		t.Helper()
		if out, err := srv.Do("SCRIPT", "FLUSH"); err != nil || out != "+OK" {
			t.Fatalf("SCRIPT FLUSH: %q %v", out, err)
		}
	}
	for round := range 5 {
		flush()
		fl.castEach(t, ev.Contestants[0].ID, uint64(round))
	}
	// Flushes while ballots keep coming.
	stop := fl.castContinuously(ev.Contestants[0].ID, 99)
	for range 3 {
		flush()
		n := fl.total().OK
		faultWait(t, 30*time.Second, faultSay("20 more ballots"), func() bool { return fl.total().OK >= n+20 })
	}
	stop(t)
	flush()
	late := newPhone(ev.ID, "late", func() []string { return []string{sp.base} })
	fl.add(late)
	if a, err := late.cast(t.Context(), ev.Contestants[0].ID, 99); err != nil || !a.OK {
		t.Fatalf("ballot after a flush: %+v %v", a, err)
	}
	flush()
	closeAndSee(t, sp.base, ev, fl)
	flush()
	want := verifyExactlyOnce(t, sp.base, ev, fl.phones, faultVerify{})
	screen.waitStandings(t, want)
	if tot := fl.total(); len(tot.Refused) != 0 {
		t.Errorf("refusals after SCRIPT FLUSH: %v", tot.Refused)
	}
	faultNoPanic(t, sp)
}

// TestFaultInstanceDies: two leitai processes on one Redis serve one event,
// phones spread over both. One gets SIGKILL; its phones reconnect to the
// other and resend; nothing acknowledged is lost, and the screen on the
// survivor converges to the reference standings.
func TestFaultInstanceDies(t *testing.T) {
	redistest.Parallel(t)
	if testing.Short() {
		t.Skip("runs two binaries and Redis")
	}
	srv := redistest.MustStart(t, redistest.Options{})
	a := startServer(t, faultEnv(t, srv.URL()))
	b := startServer(t, faultEnv(t, srv.URL()))
	ev := faultEvent(t, a.base, "instance-dies")
	screen := watchFaultScreen(t, b.base, ev.ID)
	const voters = 60
	fl := startPhones(t, ev.ID, voters, "i", func(i int) func() []string {
		list := []string{a.base, b.base}
		if i%2 == 1 {
			list = []string{b.base, a.base}
		}
		return func() []string { return list }
	})
	faultWait(t, 30*time.Second, faultSay("phones to connect"), func() bool { return fl.connected(1) == voters })
	onA := 0
	for _, p := range fl.phones {
		if p.sessionsOn(a.base) > 0 {
			onA++
		}
	}
	if onA < voters/4 {
		t.Fatalf("only %d of %d phones connected to the first instance", onA, voters)
	}
	stop := fl.castContinuously(ev.Contestants[0].ID, 4)
	faultWait(t, 30*time.Second, faultSay("150 ballots acknowledged"), func() bool { return fl.total().OK >= 150 })

	faultKill(t, a)
	before := fl.okCounts()
	faultWait(t, 45*time.Second, func() string {
		n := 0
		for i, p := range fl.phones {
			if p.currentBase() == b.base && p.okCount() >= before[i]+2 {
				n++
			}
		}
		return fmt.Sprintf("every phone to vote twice more on the survivor: %d of %d did\n%s", n, voters, faultLogTail(b.stderr.String()))
	}, func() bool {
		for i, p := range fl.phones {
			if p.currentBase() != b.base || p.okCount() < before[i]+2 {
				return false
			}
		}
		return true
	})
	stop(t)
	closeAndSee(t, b.base, ev, fl)
	want := verifyExactlyOnce(t, b.base, ev, fl.phones, faultVerify{})
	screen.waitStandings(t, want)
	// The dead instance's phones stop counting twice: the screen's turnout
	// comes down to the phones connected (all on the survivor now).
	screen.waitTurnout(t, voters, voters)
	tot := fl.total()
	if len(tot.Refused) != 0 || tot.Pending != 0 || tot.Stray != 0 {
		t.Errorf("refusals %v, pending %d, answers to unknown ballots %d; want none", tot.Refused, tot.Pending, tot.Stray)
	}
	t.Logf("%d phones moved from the killed instance; %d ballots acknowledged, %d resent", onA, tot.OK, tot.Resent)
	faultNoPanic(t, a, b)
}

// faultJournalFrame is one frame of the embedded store's journal (see
// voting/embedded/journal.go): length, CRC-32C, JSON payload.
type faultJournalFrame struct {
	off     int
	payload []byte
}

const faultJournalMagic = "leitai journal v1\n"

func faultReadJournal(t *testing.T, path string) ([]byte, []faultJournalFrame) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte(faultJournalMagic)) {
		t.Fatalf("%s: not a journal", path)
	}
	var frames []faultJournalFrame
	table := crc32.MakeTable(crc32.Castagnoli)
	for off := len(faultJournalMagic); off < len(data); {
		if off+8 > len(data) {
			t.Fatalf("%s: frame header cut at %d", path, off)
		}
		n := int(binary.LittleEndian.Uint32(data[off:]))
		if n == 0 || off+8+n > len(data) {
			t.Fatalf("%s: bad frame length %d at %d", path, n, off)
		}
		payload := data[off+8 : off+8+n]
		if crc32.Checksum(payload, table) != binary.LittleEndian.Uint32(data[off+4:]) {
			t.Fatalf("%s: checksum mismatch at %d", path, off)
		}
		frames = append(frames, faultJournalFrame{off: off, payload: payload})
		off += 8 + n
	}
	return data, frames
}

// TestFaultJournalCut: the embedded store's journal ends in the middle of
// its last record (what a crash during the append leaves): the server
// starts, warns, and has every earlier acknowledged ballot; it appends
// after the cut so that the next start is clean. Twice: a ballot record
// cut in half, then a frame header and a few bytes of payload appended.
func TestFaultJournalCut(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the binary")
	}
	env := faultEnv(t, "")
	dataDir := strings.TrimPrefix(env[0], "LEITAI_DATA_DIR=")
	journal := filepath.Join(dataDir, "leitai.journal")
	sp := startServer(t, env)
	var base atomic.Pointer[string]
	base.Store(&sp.base)
	ev := faultEvent(t, sp.base, "journal-cut")
	c1 := ev.Contestants[0].ID
	fl := startPhones(t, ev.ID, 20, "j", func(int) func() []string {
		return func() []string { return []string{*base.Load()} }
	})
	faultWait(t, 30*time.Second, faultSay("phones to connect"), func() bool { return fl.connected(1) == len(fl.phones) })
	fl.castEach(t, c1, 1)
	fl.castEach(t, c1, 2) // everyone changes their score

	// The last write: one more score from j0. It was acknowledged, but the
	// test cuts its record in half, as if the crash came before the fsync.
	sacrifice, err := fl.phones[0].cast(t.Context(), c1, 100)
	if err != nil || !sacrifice.OK {
		t.Fatalf("last ballot: %+v %v", sacrifice, err)
	}
	faultKill(t, sp)

	data, frames := faultReadJournal(t, journal)
	// The last ballot record must be the sacrificed ballot, followed by
	// nothing but its commit mark.
	last := -1
	var lastID string
	for i, f := range frames {
		var r struct {
			T string `json:"t"`
			I string `json:"i"`
		}
		if err := json.Unmarshal(f.payload, &r); err != nil {
			t.Fatalf("journal record at %d: %v", f.off, err)
		}
		if r.T == "b" {
			last, lastID = i, r.I
		}
	}
	if last < 0 || lastID != sacrifice.Ballot.ID {
		t.Fatalf("the last ballot record is %q, not the last ballot %s", lastID, sacrifice.Ballot.ID)
	}
	for _, f := range frames[last+1:] {
		if string(f.payload) != `{"t":"k"}` {
			t.Fatalf("after the last ballot the journal has %s, not only its commit mark", f.payload)
		}
	}
	cut := frames[last].off + 8 + len(frames[last].payload)/2
	if err := os.Truncate(journal, int64(cut)); err != nil {
		t.Fatal(err)
	}
	t.Logf("journal of %d bytes cut to %d, in the middle of the record of ballot %s", len(data), cut, sacrifice.Ballot.ID)

	sp2 := startServer(t, env)
	base.Store(&sp2.base)
	if !strings.Contains(sp2.stderr.String(), "torn record") {
		t.Errorf("no warning about the torn record:\n%s", faultLogTail(sp2.stderr.String()))
	}
	skip := map[string]bool{sacrifice.Ballot.ID: true}
	faultWait(t, 30*time.Second, faultSay("phones to reconnect"), func() bool { return fl.connected(2) == len(fl.phones) })
	verifyExactlyOnce(t, sp2.base, ev, fl.phones, faultVerify{skip: skip})

	// The server appends after the cut: more ballots, another crash, and
	// this time a torn frame appended at the end.
	fl.castEach(t, c1, 3)
	faultKill(t, sp2)
	f, err := os.OpenFile(journal, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	torn := binary.LittleEndian.AppendUint32(nil, 200)
	torn = binary.LittleEndian.AppendUint32(torn, 0xdeadbeef)
	torn = append(torn, `{"t":"b","i":"`...)
	if _, err := f.Write(torn); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	sp3 := startServer(t, env)
	base.Store(&sp3.base)
	if !strings.Contains(sp3.stderr.String(), "torn record") {
		t.Errorf("no warning about the torn frame:\n%s", faultLogTail(sp3.stderr.String()))
	}
	faultWait(t, 30*time.Second, faultSay("phones to reconnect"), func() bool { return fl.connected(3) == len(fl.phones) })
	closeAndSee(t, sp3.base, ev, fl)
	verifyExactlyOnce(t, sp3.base, ev, fl.phones, faultVerify{skip: skip})
	sp3.stop(t)
	faultNoPanic(t, sp, sp2, sp3)
}
