package voting

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

const testBallotID = "6f9619ff-8b86-4d01-b42d-00cf4fc964ff"

func TestCount(t *testing.T) {
	t.Parallel()
	plain := validEvent() // 60–100 step 0.5
	crit := validEvent()
	crit.Rules.Criteria = []Criterion{{ID: "measures", Name: "举措", Weight: 0.6}, {ID: "results", Name: "成绩", Weight: 0.4}}
	thirds := validEvent()
	thirds.Rules.Criteria = []Criterion{{ID: "measures", Name: "举措", Weight: 2}, {ID: "results", Name: "成绩", Weight: 1}}
	fine := validEvent()
	fine.Rules = Rules{Min: 0, Max: 10, Step: 0.0001, Decimals: 4}

	b := func(change ...func(*Ballot)) Ballot {
		x := Ballot{ID: testBallotID, Event: "show", Voter: "v1", Contestant: "c1", Panel: "audience", Score: 80}
		for _, c := range change {
			c(&x)
		}
		return x
	}
	scores := func(m, r float64) func(*Ballot) {
		return func(x *Ballot) { x.Score, x.Scores = 0, map[string]float64{"measures": m, "results": r} }
	}
	cases := []struct {
		name  string
		ev    *Event
		b     Ballot
		units int64 // when ok
		code  Code  // when not
	}{
		{"plain", &plain, b(), 800000, ""},
		{"lowest", &plain, b(func(x *Ballot) { x.Score = 60 }), 600000, ""},
		{"highest", &plain, b(func(x *Ballot) { x.Score = 100 }), 1000000, ""},
		{"half step", &plain, b(func(x *Ballot) { x.Score = 85.5 }), 855000, ""},
		{"judges panel", &plain, b(func(x *Ballot) { x.Panel = "judges" }), 800000, ""},
		{"fine scale", &fine, b(func(x *Ballot) { x.Score = 3.1416 }), 31416, ""},
		{"below the range", &plain, b(func(x *Ballot) { x.Score = 59.5 }), 0, CodeInvalid},
		{"above the range", &plain, b(func(x *Ballot) { x.Score = 100.5 }), 0, CodeInvalid},
		{"zero", &plain, b(func(x *Ballot) { x.Score = 0 }), 0, CodeInvalid},
		{"negative", &plain, b(func(x *Ballot) { x.Score = -80 }), 0, CodeInvalid},
		{"off the step", &plain, b(func(x *Ballot) { x.Score = 80.25 }), 0, CodeInvalid},
		{"off the step, nearly", &plain, b(func(x *Ballot) { x.Score = 80.4999 }), 0, CodeInvalid},
		{"NaN", &plain, b(func(x *Ballot) { x.Score = math.NaN() }), 0, CodeInvalid},
		{"infinite", &plain, b(func(x *Ballot) { x.Score = math.Inf(1) }), 0, CodeInvalid},
		{"criteria on a plain event", &plain, b(scores(80, 80)), 0, CodeInvalid},
		// Ids and references.
		{"upper-case UUID", &plain, b(func(x *Ballot) { x.ID = strings.ToUpper(testBallotID) }), 800000, ""},
		{"not a UUID", &plain, b(func(x *Ballot) { x.ID = "ballot-1" }), 0, CodeInvalid},
		{"empty id", &plain, b(func(x *Ballot) { x.ID = "" }), 0, CodeInvalid},
		{"UUID without dashes", &plain, b(func(x *Ballot) { x.ID = strings.ReplaceAll(testBallotID, "-", "") }), 0, CodeInvalid},
		{"UUID in braces", &plain, b(func(x *Ballot) { x.ID = "{" + testBallotID + "}" }), 0, CodeInvalid},
		{"URN UUID", &plain, b(func(x *Ballot) { x.ID = "urn:uuid:" + testBallotID }), 0, CodeInvalid},
		{"UUID with a bad digit", &plain, b(func(x *Ballot) { x.ID = "6f9619ff-8b86-4d01-b42d-00cf4fc964fg" }), 0, CodeInvalid},
		{"another event", &plain, b(func(x *Ballot) { x.Event = "other" }), 0, CodeInvalid},
		{"no event", &plain, b(func(x *Ballot) { x.Event = "" }), 0, CodeInvalid},
		{"empty voter", &plain, b(func(x *Ballot) { x.Voter = "" }), 0, CodeInvalid},
		{"voter with a space", &plain, b(func(x *Ballot) { x.Voter = "v 1" }), 0, CodeInvalid},
		{"voter with a bar", &plain, b(func(x *Ballot) { x.Voter = "v|1" }), 0, CodeInvalid},
		{"voter of 129 bytes", &plain, b(func(x *Ballot) { x.Voter = strings.Repeat("v", 129) }), 0, CodeInvalid},
		{"voter of 128 bytes", &plain, b(func(x *Ballot) { x.Voter = strings.Repeat("v", 128) }), 800000, ""},
		{"unknown contestant", &plain, b(func(x *Ballot) { x.Contestant = "c9" }), 0, CodeNotFound},
		{"empty contestant", &plain, b(func(x *Ballot) { x.Contestant = "" }), 0, CodeNotFound},
		{"unknown panel", &plain, b(func(x *Ballot) { x.Panel = "guests" }), 0, CodeNotFound},
		// Criteria: the weighted average in units, rounded to 1/10000 point.
		{"criteria", &crit, b(scores(85.5, 90)), 873000, ""}, // 0.6×85.5 + 0.4×90 = 87.3
		{"criteria, both lowest", &crit, b(scores(60, 60)), 600000, ""},
		{"criteria, thirds round down", &thirds, b(scores(85.5, 70)), 803333, ""}, // 241/3 = 80.3333…
		{"criteria, thirds exact", &thirds, b(scores(60, 61.5)), 605000, ""},      // 181.5/3 = 60.5
		{"criteria, thirds down again", &thirds, b(scores(60.5, 60)), 603333, ""}, // 181/3 = 60.3333…
		{"criteria, thirds round up", &thirds, b(scores(60, 60.5)), 601667, ""},   // 180.5/3 = 60.1666…
		{"criteria and a score", &crit, b(scores(80, 80), func(x *Ballot) { x.Score = 80 }), 0, CodeInvalid},
		{"a score, no criteria", &crit, b(), 0, CodeInvalid},
		{"criteria missing one", &crit, b(func(x *Ballot) { x.Score, x.Scores = 0, map[string]float64{"measures": 80} }), 0, CodeInvalid},
		{"criteria with an extra one", &crit, b(func(x *Ballot) {
			x.Score, x.Scores = 0, map[string]float64{"measures": 80, "results": 80, "style": 80}
		}), 0, CodeInvalid},
		{"criteria with a wrong one", &crit, b(func(x *Ballot) {
			x.Score, x.Scores = 0, map[string]float64{"measures": 80, "style": 80}
		}), 0, CodeInvalid},
		{"criteria, one out of range", &crit, b(scores(80, 100.5)), 0, CodeInvalid},
		{"criteria, one off the step", &crit, b(scores(80.1, 80)), 0, CodeInvalid},
		{"criteria, one NaN", &crit, b(scores(math.NaN(), 80)), 0, CodeInvalid},
		{"criteria, empty", &crit, b(func(x *Ballot) { x.Score, x.Scores = 0, map[string]float64{} }), 0, CodeInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.ev.Count(tc.b)
			if tc.code != "" {
				if ErrorCode(err) != tc.code {
					t.Fatalf("Count = %+v, %v; want code %q", got, err, tc.code)
				}
				if got.Units != 0 || got.ID != "" {
					t.Fatalf("Count returned %+v with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Count: %v", err)
			}
			if got.Units != tc.units {
				t.Fatalf("units %d, want %d", got.Units, tc.units)
			}
			if got.ID != strings.ToLower(tc.b.ID) {
				t.Fatalf("id %q, want it lower-cased", got.ID)
			}
			if got.Voter != tc.b.Voter || got.Contestant != tc.b.Contestant || got.Panel != tc.b.Panel || got.Event != tc.b.Event {
				t.Fatalf("counted ballot %+v does not carry the ballot %+v", got, tc.b)
			}
			if got.Points() != float64(tc.units)/ScoreUnits {
				t.Fatalf("Points = %v", got.Points())
			}
		})
	}
}

func TestValidVoter(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"v1": true, "wx:oAbC-1_2.3~!": true, "~": true, strings.Repeat("x", MaxVoterLength): true,
		"": false, " ": false, "a b": false, "a|b": false, "a\tb": false, "tab\x7f": false, "é": false,
		strings.Repeat("x", MaxVoterLength+1): false,
	} {
		if got := ValidVoter(s); got != want {
			t.Errorf("ValidVoter(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	base := CountedBallot{
		Ballot: Ballot{ID: testBallotID, Event: "show", Voter: "v1", Contestant: "c1", Panel: "audience",
			Scores: map[string]float64{"measures": 80, "results": 90}},
		Units: 850000, At: 1000,
	}
	fp := base.Fingerprint()
	same := []func(b *CountedBallot){
		func(b *CountedBallot) { b.At = 2000 },                                                  // a retry arrives later
		func(b *CountedBallot) { b.ID = "another-id" },                                          // the id is the key, not the content
		func(b *CountedBallot) { b.Event = "other" },                                            // the event is the key's scope
		func(b *CountedBallot) { b.Scores = map[string]float64{"results": 90, "measures": 80} }, // map order
	}
	for i, change := range same {
		b := base
		change(&b)
		if b.Fingerprint() != fp {
			t.Errorf("same content %d: fingerprint %q, want %q", i, b.Fingerprint(), fp)
		}
	}
	different := map[string]func(b *CountedBallot){
		"voter":      func(b *CountedBallot) { b.Voter = "v2" },
		"contestant": func(b *CountedBallot) { b.Contestant = "c2" },
		"panel":      func(b *CountedBallot) { b.Panel = "judges" },
		"units":      func(b *CountedBallot) { b.Units++ },
		"swapped":    func(b *CountedBallot) { b.Scores = map[string]float64{"measures": 90, "results": 80} },
		"one score":  func(b *CountedBallot) { b.Scores = map[string]float64{"measures": 80, "results": 90.5} },
		"no scores":  func(b *CountedBallot) { b.Scores = nil },
		// Fields must not run into each other.
		"shifted": func(b *CountedBallot) { b.Voter, b.Contestant = "v1|c1", "" },
	}
	for name, change := range different {
		b := base
		change(&b)
		if b.Fingerprint() == fp {
			t.Errorf("%s changed: same fingerprint %q", name, fp)
		}
	}
}

// TestCheck: what a cast request adds to Count — a score must be there
// (0 is a score, absent is not), the panel defaults to the first, and a
// panel with a key needs it.
func TestCheck(t *testing.T) {
	ev := validEvent() // panels audience, judges (key "secret")
	ev.Rules.Min = 0   // so that an absent score cannot pass as 0
	zero, eighty := 0.0, 80.0
	req := func(change ...func(*CastRequest)) CastRequest {
		r := CastRequest{ID: testBallotID, Event: "show", Voter: "v1", Contestant: "c1", Score: &eighty}
		for _, c := range change {
			c(&r)
		}
		return r
	}
	for _, tc := range []struct {
		name  string
		r     CastRequest
		panel string // when ok
		code  Code   // when not
	}{
		{"default panel", req(), "audience", ""},
		{"a score of 0", req(func(r *CastRequest) { r.Score = &zero }), "audience", ""},
		{"no score", req(func(r *CastRequest) { r.Score = nil }), "", CodeInvalid},
		{"empty scores", req(func(r *CastRequest) { r.Score, r.Scores = nil, map[string]float64{} }), "", CodeInvalid},
		{"judges with the key", req(func(r *CastRequest) { r.Panel, r.PanelKey = "judges", "secret" }), "judges", ""},
		{"judges without the key", req(func(r *CastRequest) { r.Panel = "judges" }), "", CodeForbidden},
		{"judges with a wrong key", req(func(r *CastRequest) { r.Panel, r.PanelKey = "judges", "secreT" }), "", CodeForbidden},
		{"a key where none is needed", req(func(r *CastRequest) { r.PanelKey = "whatever" }), "audience", ""},
		{"unknown panel", req(func(r *CastRequest) { r.Panel = "guests" }), "", CodeNotFound},
		{"not a UUID", req(func(r *CastRequest) { r.ID = "b1" }), "", CodeInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ev.Check(tc.r)
			if tc.code != "" {
				if ErrorCode(err) != tc.code || got.ID != "" {
					t.Fatalf("Check = %+v, %v; want code %q", got, err, tc.code)
				}
				return
			}
			if err != nil || got.Panel != tc.panel || got.Units != int64(*tc.r.Score*ScoreUnits) {
				t.Fatalf("Check = %+v, %v; want panel %q", got, err, tc.panel)
			}
		})
	}
}

// TestCountedBallotJSON: a counted ballot's JSON carries the score that
// counts in points, and reads back.
func TestCountedBallotJSON(t *testing.T) {
	b := CountedBallot{Ballot: Ballot{ID: testBallotID, Event: "show", Voter: "v1", Contestant: "c1", Panel: "audience",
		Scores: map[string]float64{"measures": 85.5, "results": 90}}, Units: 873000, At: 5}
	data, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"counted":87.3`) || !strings.Contains(string(data), `"units":873000`) {
		t.Fatalf("JSON %s lacks the counted score", data)
	}
	var back CountedBallot
	if err := json.Unmarshal(data, &back); err != nil || back.Fingerprint() != b.Fingerprint() || back.At != 5 || back.ID != b.ID {
		t.Fatalf("read back %+v, %v from %s", back, err, data)
	}
}
