package embedded_test

import (
	"bytes"
	"os"
	"reflect"
	"testing"

	"leitai/voting/embedded"
)

// seedJournal returns a real journal: events, stage changes, ballots,
// replacements, a reset and a deletion.
func seedJournal(f *testing.F) []byte {
	dir := f.TempDir()
	s, err := embedded.Open(dir)
	if err != nil {
		f.Fatal(err)
	}
	ev := create(f, s, testEvent("e"))
	openVoting(f, s, ev.ID)
	cev := create(f, s, criteriaEvent("crit"))
	openVoting(f, s, cev.ID)
	for i, v := range []string{"v1", "v2", "v1"} {
		cast(f, s, ballot(f, &ev, v, "c1", "audience", 70+float64(i)), ev.Revision)
		cast(f, s, ballot(f, &cev, v, "c2", "judges", 5+float64(i)), cev.Revision)
	}
	if _, err := s.ResetContestant(ctx, cev.ID, "c2"); err != nil {
		f.Fatal(err)
	}
	gone := create(f, s, testEvent("gone"))
	if err := s.DeleteEvent(ctx, gone.ID); err != nil {
		f.Fatal(err)
	}
	if err := s.Close(); err != nil {
		f.Fatal(err)
	}
	data, err := os.ReadFile(journal(dir))
	if err != nil {
		f.Fatal(err)
	}
	return data
}

// FuzzReplay feeds arbitrary bytes to the journal decoder. It must never
// panic, and whatever it accepts must survive a snapshot: replaying the
// snapshot gives the same state again.
func FuzzReplay(f *testing.F) {
	data := seedJournal(f)
	f.Add(data)
	f.Add(data[:len(data)-3])
	f.Add(append(bytes.Clone(data), "garbage"...))
	f.Add([]byte(embedded.JournalMagic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, same, err := embedded.ReplayCheck(data)
		if err == nil && !same {
			t.Fatal("the snapshot of a replayed journal replays to another state")
		}
	})
}

// FuzzRecords frames each line of the input with a correct checksum, so
// that the fuzzer reaches the records themselves rather than the framing.
func FuzzRecords(f *testing.F) {
	data := seedJournal(f)
	var lines [][]byte
	for off := len(embedded.JournalMagic); off < len(data); {
		n := int(data[off]) | int(data[off+1])<<8 | int(data[off+2])<<16 | int(data[off+3])<<24
		lines = append(lines, data[off+8:off+8+n])
		off += 8 + n
	}
	f.Add(bytes.Join(lines, []byte("\n")))
	f.Add([]byte(`{"t":"c","ev":{"id":"x","contestants":[],"panels":[{"id":"p","name":"P","weight":1}],"rules":{"min":1,"max":10,"step":1},"votingScope":"all"},"st":{"phase":"voting","version":1}}` + "\n" +
		`{"t":"b","e":"x","i":"id","v":"v","c":"nobody","p":"p","u":10000}`))
	f.Add([]byte(`{"t":"d","e":"x"}` + "\n" + `{"t":"r","e":"x","c":"c1"}` + "\n" + `{"t":"i","e":"x","i":"a","f":"fp"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		journal := []byte(embedded.JournalMagic)
		for _, line := range bytes.Split(in, []byte("\n")) {
			if len(line) > 0 {
				journal = embedded.AppendFrame(journal, line)
			}
		}
		records, torn, same, err := embedded.ReplayCheck(journal)
		if torn {
			t.Fatalf("whole frames read as a torn tail (%d records)", records)
		}
		if err == nil && !same {
			t.Fatal("the snapshot of a replayed journal replays to another state")
		}
	})
}

func takeAll(t *testing.T, s *embedded.Store) map[string]snapshot {
	t.Helper()
	evs, err := s.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all := map[string]snapshot{}
	for _, ev := range evs {
		all[ev.ID] = take(t, s, ev.ID)
	}
	return all
}

// TestOpenAnyFile checks the path from file to store with the fuzz seeds
// and a few mangled journals: Open fails or works, never panics, and what
// it opens it can open again.
func TestOpenAnyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, dir)
	ev := create(t, s, testEvent("e"))
	openVoting(t, s, ev.ID)
	for i := range 5 {
		cast(t, s, ballot(t, &ev, "v", "c1", "audience", 60+float64(i)), ev.Revision)
	}
	s.Close()
	good := readFile(t, journal(dir))
	for cut := len(embedded.JournalMagic); cut <= len(good); cut += 7 {
		for _, data := range [][]byte{good[:cut], append(bytes.Clone(good[:cut]), 0xff, 0, 0, 0)} {
			d := t.TempDir()
			if err := os.WriteFile(journal(d), data, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := embedded.Open(d)
			if err != nil {
				continue
			}
			before := takeAll(t, s)
			s.Close()
			s, err = embedded.Open(d)
			if err != nil {
				t.Fatalf("cut %d: reopen after repair: %v", cut, err)
			}
			if after := takeAll(t, s); !reflect.DeepEqual(after, before) {
				t.Fatalf("cut %d: state changed on reopen:\n got %+v\nwant %+v", cut, after, before)
			}
			s.Close()
		}
	}
}
