package embedded_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"leitai/voting"
	"leitai/voting/embedded"
)

// castN makes a journal with an event, voting open and n ballots, and
// returns the ballots. The store is closed when it returns.
func castN(t *testing.T, dir string, n int) (voting.Event, []voting.CountedBallot) {
	t.Helper()
	s := open(t, dir)
	ev := create(t, s, testEvent("e"))
	openVoting(t, s, ev.ID)
	var bs []voting.CountedBallot
	for i := range n {
		b := ballot(t, &ev, fmt.Sprint("v", i), "c1", "audience", 60+float64(i))
		cast(t, s, b, ev.Revision)
		bs = append(bs, b)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return ev, bs
}

func liveIDs(t *testing.T, s *embedded.Store, event string) map[string]bool {
	t.Helper()
	bs, err := s.Ballots(ctx, event)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, b := range bs {
		ids[b.ID] = true
	}
	return ids
}

func TestTornTail(t *testing.T) {
	t.Parallel()
	// last is the offset of the last ballot's frame, end the offset just
	// past it, where the commit mark of its write begins.
	cases := []struct {
		name string
		hurt func(data []byte, last, end int) []byte
		keep int // ballots of 10 that survive
	}{
		{"cut into the last commit mark", func(d []byte, _, _ int) []byte { return d[:len(d)-3] }, 10},
		{"cut into the last ballot", func(d []byte, _, end int) []byte { return d[:end-3] }, 9},
		{"cut in the frame header", func(d []byte, last, _ int) []byte { return d[:last+5] }, 9},
		{"cut after the frame header", func(d []byte, last, _ int) []byte { return d[:last+8] }, 9},
		{"bad checksum", func(d []byte, _, end int) []byte { d[end-2] ^= 0x40; return d }, 9},
		{"garbage appended", func(d []byte, _, _ int) []byte { return append(d, "garbage!\x00\x01"...) }, 10},
		{"zeros appended", func(d []byte, _, _ int) []byte { return append(d, make([]byte, 4096)...) }, 10},
		{"half a frame appended", func(d []byte, last, _ int) []byte { return append(d, d[last:last+20]...) }, 10},
		{"torn write with intact records after the damage", func(d []byte, last, end int) []byte {
			// A write of three frames whose first page never reached the
			// disk: intact frames (and the write's own commit mark) follow
			// the damage, but that write was never acknowledged.
			torn := append([]byte(nil), d[last:end]...)
			clear(torn[:12])
			torn = append(torn, d[last:end]...)
			return append(append(d, torn...), d[end:]...)
		}, 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ev, bs := castN(t, dir, 10)
			data := readFile(t, journal(dir))
			offs := frames(t, data)
			last, end := offs[len(offs)-2], offs[len(offs)-1]
			if err := os.WriteFile(journal(dir), tc.hurt(data, last, end), 0o600); err != nil {
				t.Fatal(err)
			}
			var log logBuffer
			s := open(t, dir, embedded.WithLogger(log.logger()))
			if !strings.Contains(log.String(), "dropped a torn record") {
				t.Fatalf("no warning logged; log: %s", log.String())
			}
			ids := liveIDs(t, s, ev.ID)
			for i, b := range bs {
				if ids[b.ID] != (i < tc.keep) {
					t.Fatalf("ballot %d live: %v; want the first %d", i, ids[b.ID], tc.keep)
				}
			}
			checkStandings(t, s, ev.ID)
			// The journal was repaired: new ballots stick, and the next
			// Open is clean.
			extra := ballot(t, &ev, "late", "c2", "audience", 70)
			cast(t, s, extra, ev.Revision)
			before := take(t, s, ev.ID)
			s.Close()
			log = logBuffer{}
			s = open(t, dir, embedded.WithLogger(log.logger()))
			if strings.Contains(log.String(), "torn") {
				t.Fatalf("journal still torn after repair: %s", log.String())
			}
			sameSnapshot(t, take(t, s, ev.ID), before)
		})
	}
}

func TestCorruptMiddle(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		hurt func(data []byte, off int)
	}{
		{"payload byte", func(d []byte, off int) { d[off+20] ^= 0x01 }},
		{"checksum", func(d []byte, off int) { d[off+5] ^= 0x80 }},
		{"length", func(d []byte, off int) { d[off+3] = 0x7f }},
		{"zeroed", func(d []byte, off int) { clear(d[off : off+30]) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			castN(t, dir, 10)
			data := readFile(t, journal(dir))
			offs := frames(t, data)
			bad := offs[len(offs)/2]
			tc.hurt(data, bad)
			if err := os.WriteFile(journal(dir), data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := embedded.Open(dir)
			ce, ok := isCorrupt(err)
			if !ok {
				t.Fatalf("Open of a journal damaged in the middle: %v", err)
			}
			if ce.Offset != int64(bad) || ce.Frame != len(offs)/2+1 || ce.Next <= ce.Offset {
				t.Fatalf("error %+v; damage at %d", ce, bad)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("corrupt at byte %d", bad)) {
				t.Fatalf("message does not say where: %v", err)
			}
			// Nothing was dropped, and the directory is not left locked.
			if got := readFile(t, journal(dir)); string(got) != string(data) {
				t.Fatal("Open changed a corrupt journal")
			}
			if _, err := embedded.Open(dir); err == nil {
				t.Fatal("second Open succeeded")
			} else if _, ok := isCorrupt(err); !ok {
				t.Fatalf("second Open: %v", err)
			}
		})
	}
}

// TestUnreadableRecord: an intact frame that the store cannot apply is
// not a torn write, so Open refuses it even at the end.
func TestUnreadableRecord(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	castN(t, dir, 3)
	for _, payload := range []string{
		`{"t":"b","e":"nobody","i":"x","v":"v","c":"c1","p":"audience","u":1}`,
		`{"t":"zz"}`,
		`not json`,
	} {
		data := readFile(t, journal(dir))
		bad := embedded.AppendFrame(append([]byte(nil), data...), []byte(payload))
		if err := os.WriteFile(journal(dir), bad, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := embedded.Open(dir)
		if ce, ok := isCorrupt(err); !ok || ce.Offset != int64(len(data)) {
			t.Fatalf("%s: Open: %v", payload, err)
		}
		if err := os.WriteFile(journal(dir), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(journal(dir), []byte("something else entirely"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := embedded.Open(dir); err == nil || !strings.Contains(err.Error(), "not a leitai journal") {
		t.Fatalf("Open of a foreign file: %v", err)
	}
}

func TestGroupCommit(t *testing.T) {
	t.Parallel()
	s := open(t, t.TempDir())
	ev := create(t, s, testEvent("e"))
	openVoting(t, s, ev.ID)
	const n = 1000
	bs := make([]voting.CountedBallot, n)
	for i := range bs {
		bs[i] = ballot(t, &ev, fmt.Sprint("voter-", i), ev.Contestants[i%4].ID, "audience", 60+float64(i%80)/2)
	}
	syncs := embedded.Syncs(s)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range bs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, err := s.CastBallot(ctx, bs[i], ev.Revision); err != nil {
				t.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()
	syncs = embedded.Syncs(s) - syncs
	st := checkStandings(t, s, ev.ID)
	if st.Ballots != n {
		t.Fatalf("%d ballots counted, want %d", st.Ballots, n)
	}
	t.Logf("%d ballots, %d fsyncs", n, syncs)
	if syncs > n/5 {
		t.Fatalf("%d fsyncs for %d concurrent ballots: no group commit", syncs, n)
	}
}

func TestFailedStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var log logBuffer
	s := open(t, dir, embedded.WithLogger(log.logger()))
	ev := create(t, s, testEvent("e"))
	openVoting(t, s, ev.ID)
	kept := ballot(t, &ev, "v1", "c1", "audience", 80)
	cast(t, s, kept, ev.Revision)

	if err := embedded.CloseJournalFile(s); err != nil {
		t.Fatal(err)
	}
	lost := ballot(t, &ev, "v2", "c1", "audience", 90)
	_, err := s.CastBallot(ctx, lost, ev.Revision)
	wantCode(t, err, voting.CodeUnavailable)
	// Every later change is refused, even one that would not need a write.
	_, err = s.CastBallot(ctx, ballot(t, &ev, "v3", "c1", "audience", 70), ev.Revision)
	wantCode(t, err, voting.CodeUnavailable)
	_, err = s.CastBallot(ctx, kept, ev.Revision)
	wantCode(t, err, voting.CodeUnavailable)
	_, err = s.CreateEvent(ctx, testEvent("f"))
	wantCode(t, err, voting.CodeUnavailable)
	wantCode(t, s.SetStage(ctx, ev.ID, voting.Stage{Version: 99}), voting.CodeUnavailable)
	wantCode(t, s.Ping(ctx), voting.CodeUnavailable)
	wantCode(t, s.Compact(), voting.CodeUnavailable)
	if !strings.Contains(log.String(), "journal write failed") {
		t.Fatalf("failure not logged: %s", log.String())
	}
	if err := s.Close(); err == nil {
		t.Fatal("Close of a failed store reported no error")
	}

	// After a restart the acknowledged ballot is there and the refused
	// one is not.
	s = open(t, dir)
	ids := liveIDs(t, s, ev.ID)
	if !ids[kept.ID] || ids[lost.ID] || len(ids) != 1 {
		t.Fatalf("after restart: %v", ids)
	}
	cast(t, s, lost, ev.Revision)
}

func TestCompaction(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, dir)
	ev := create(t, s, testEvent("e"))
	openVoting(t, s, ev.ID)
	gone := create(t, s, testEvent("gone"))
	openVoting(t, s, gone.ID)
	cast(t, s, ballot(t, &gone, "v", "c1", "audience", 70), gone.Revision)
	if err := s.DeleteEvent(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	var first []voting.CountedBallot
	for round := range 20 {
		for v := range 5 {
			b := ballot(t, &ev, fmt.Sprint("v", v), "c2", "judges", 60+float64(round))
			cast(t, s, b, ev.Revision)
			if round == 0 {
				first = append(first, b)
			}
		}
		command(t, s, ev.ID, voting.Command{Action: voting.ActionCountdown, Seconds: 60})
	}
	ev, _ = s.Event(ctx, ev.ID)
	ev.Title = "renamed"
	if _, err := s.UpdateEvent(ctx, ev); err != nil {
		t.Fatal(err)
	}
	before := take(t, s, ev.ID)
	size := len(readFile(t, journal(dir)))
	auditBefore, _ := s.Audit(ctx, ev.ID, 0, 1000)
	records := embedded.JournalRecords(s)
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	after := embedded.JournalRecords(s)
	// One event record, the 100 ballot ids and the 100 audit entries
	// remain; the 20 stage changes and the two events' other records go.
	if after != 201 || records != 129 {
		t.Fatalf("journal: %d records (%d bytes) before, %d after", records, size, after)
	}
	sameSnapshot(t, take(t, s, ev.ID), before)
	if auditAfter, _ := s.Audit(ctx, ev.ID, 0, 1000); !reflect.DeepEqual(auditAfter, auditBefore) || len(auditAfter) != 100 {
		t.Fatalf("audit log: %d entries before compaction, %d after, or they differ", len(auditBefore), len(auditAfter))
	}
	cast(t, s, ballot(t, &ev, "v9", "c3", "audience", 88), 2)
	before = take(t, s, ev.ID)
	s.Close()
	s = open(t, dir)
	sameSnapshot(t, take(t, s, ev.ID), before)
	if _, err := s.Event(ctx, gone.ID); voting.ErrorCode(err) != voting.CodeNotFound {
		t.Fatalf("deleted event came back: %v", err)
	}
	// Replaced ballots keep their ids and receipts through compaction.
	for _, b := range first {
		if r := cast(t, s, b, 2); r.Score != 60 || r.Replaced {
			t.Fatalf("receipt of a replaced ballot after compaction: %+v", r)
		}
	}
}

func TestAutoCompaction(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, dir, embedded.WithCompactAfter(20))
	ev := create(t, s, testEvent("e"))
	for range 200 {
		command(t, s, ev.ID, voting.Command{Action: voting.ActionCountdown, Seconds: 30})
	}
	before := take(t, s, ev.ID)
	// The writer compacts after the fsync that pushed the journal over.
	deadline := time.Now().Add(5 * time.Second)
	for embedded.JournalRecords(s) > 22 {
		if time.Now().After(deadline) {
			t.Fatalf("journal has %d records; no compaction", embedded.JournalRecords(s))
		}
		time.Sleep(time.Millisecond)
	}
	s.Close()
	sameSnapshot(t, take(t, open(t, dir), ev.ID), before)
}

// TestCompactOnOpen: a journal with redundant records is rewritten on Open.
func TestCompactOnOpen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, dir)
	ev := create(t, s, testEvent("e"))
	for range 10 {
		command(t, s, ev.ID, voting.Command{Action: voting.ActionCountdown, Seconds: 30})
	}
	before := take(t, s, ev.ID)
	s.Close()
	s = open(t, dir)
	if n := embedded.JournalRecords(s); n != 1 {
		t.Fatalf("journal holds %d records after Open, want 1", n)
	}
	sameSnapshot(t, take(t, s, ev.ID), before)
	if _, err := os.Stat(journal(dir) + ".tmp"); !os.IsNotExist(err) {
		t.Fatalf("temporary file left: %v", err)
	}
}

// TestLeftoverTempFile: a compaction cut short leaves its temporary file;
// the journal is whole without it.
func TestLeftoverTempFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ev, bs := castN(t, dir, 3)
	if err := os.WriteFile(journal(dir)+".tmp", []byte(embedded.JournalMagic+"half a snapsh"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := open(t, dir)
	if ids := liveIDs(t, s, ev.ID); len(ids) != len(bs) {
		t.Fatalf("%d ballots, want %d", len(ids), len(bs))
	}
}

// TestLockReleasedWhenKilled: a server killed with SIGKILL does not block
// its restart, while a live one does.
//
// It is the one test of the package that starts a process, and it does not
// run in parallel with the others: a forked child holds a copy of every
// open file until it execs, so a store that another test closes and opens
// again at that moment would find its directory's lock still held.
func TestLockReleasedWhenKilled(t *testing.T) {
	if dir := os.Getenv("LEITAI_EMBEDDED_HOLD"); dir != "" {
		s, err := embedded.Open(dir)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		if _, err := s.CreateEvent(ctx, testEvent("held")); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("ready")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	if testing.Short() {
		t.Skip("starts a process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockReleasedWhenKilled$")
	cmd.Env = append(os.Environ(), "LEITAI_EMBEDDED_HOLD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("helper process: %q", line)
	}
	if _, err := embedded.Open(dir); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("Open while another process holds the directory: %v", err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	s := open(t, dir)
	if _, err := s.Event(ctx, "held"); err != nil {
		t.Fatalf("the killed process's event: %v", err)
	}
}

// TestJournalEditRefused: someone with the disk rewrites a counted score in
// the journal, framing it with a valid CRC; the audit hash in the record
// no longer matches, so the store refuses to open rather than count it.
func TestJournalEditRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, dir)
	ev := create(t, s, testEvent("e"))
	openVoting(t, s, ev.ID)
	cast(t, s, ballot(t, &ev, "v1", "c1", "audience", 61), ev.Revision)
	cast(t, s, ballot(t, &ev, "v2", "c1", "audience", 70), ev.Revision)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	data := readFile(t, journal(dir))
	// Re-frame every record, raising v1's 61 points (610000 units) to 99.
	out := []byte(embedded.JournalMagic)
	edited := false
	for off := len(embedded.JournalMagic); off < len(data); {
		n := int(binary.LittleEndian.Uint32(data[off:]))
		payload := data[off+8 : off+8+n]
		if bytes.Contains(payload, []byte(`"u":610000`)) {
			payload = bytes.Replace(payload, []byte(`"u":610000`), []byte(`"u":990000`), 1)
			edited = true
		}
		out = embedded.AppendFrame(out, payload)
		off += 8 + n
	}
	if !edited {
		t.Fatal("the ballot record was not found in the journal")
	}
	if err := os.WriteFile(journal(dir), out, 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := embedded.Open(dir); err == nil {
		s.Close()
		t.Fatal("a journal with an edited score opened")
	} else if !strings.Contains(err.Error(), "audit entry 1") {
		t.Fatalf("Open: %v, want the audit hash mismatch of entry 1", err)
	}
}
