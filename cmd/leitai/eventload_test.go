package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"leitai/voting"
	"leitai/voting/redistest"
)

func TestEventDiff(t *testing.T) {
	t.Parallel()
	base, err := ParseEventFile([]byte(`id: show
title: 擂台赛
rules: {min: 60, max: 100, step: 0.5, trim: 1, criteria: [{id: a, name: 举措, weight: 1}, {id: b, name: 成绩, weight: 1}]}
panels:
  - {id: audience, name: 大众评审, weight: 60}
  - {id: judges, name: 专家评委, weight: 40, key: judges-change-me}
contestants: [{id: u01, name: 甲, group: 一组}, {id: u02, name: 乙}, {id: u03, name: 丙}]
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(ev *voting.Event)
		want   []string
	}{
		{"same", func(*voting.Event) {}, nil},
		{"not content", func(ev *voting.Event) {
			ev.Revision, ev.Published, ev.Source = 7, true, voting.EventSource{Digest: "sha256:00", Revision: 7}
		}, nil},
		{"key and tickets", func(ev *voting.Event) {
			ev.Panels[1].Key = "new-key"
			ev.Panels[0].Tickets = true
		}, []string{"panels[audience].tickets", "panels[judges].key"}},
		{"a key removed", func(ev *voting.Event) { ev.Panels[1].Key = "" }, []string{"panels[judges].key"}},
		{"names and groups", func(ev *voting.Event) {
			ev.Title = "决赛"
			ev.Contestants[2].Name = "丙单位"
			ev.Contestants[0].Group = ""
		}, []string{"contestants[u01].group", "contestants[u03].name", "title"}},
		{"order", func(ev *voting.Event) {
			ev.Contestants[0], ev.Contestants[1] = ev.Contestants[1], ev.Contestants[0]
		}, []string{"contestants (order)"}},
		{"added and removed", func(ev *voting.Event) {
			ev.Contestants = append(ev.Contestants[1:], voting.Contestant{ID: "u04", Name: "丁"})
		}, []string{"contestants[u01]", "contestants[u04]"}},
		{"rules", func(ev *voting.Event) {
			ev.Rules.Trim = 0
			ev.Rules.Criteria[1].Weight = 2
			ev.VotingScope = voting.ScopeAll
		}, []string{"rules.criteria[b].weight", "rules.trim", "votingScope"}},
		{"weights", func(ev *voting.Event) { ev.Panels[0].Weight = 60.5 }, []string{"panels[audience].weight"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := base
			b.Contestants = slices.Clone(base.Contestants)
			b.Panels = slices.Clone(base.Panels)
			b.Rules.Criteria = slices.Clone(base.Rules.Criteria)
			tt.change(&b)
			got := eventDiff(base, b)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("eventDiff = %q, want %q", got, tt.want)
			}
			for _, f := range got {
				if strings.Contains(f, "new-key") || strings.Contains(f, "judges-change-me") {
					t.Fatalf("a key's value in %q", f)
				}
			}
		})
	}
}

func TestJudgeEventFile(t *testing.T) {
	t.Parallel()
	const file, other = "sha256:f11e", "sha256:0001"
	fromFile := voting.Event{Revision: 4, Source: voting.EventSource{Digest: other, Revision: 4}}
	changed := voting.Event{Revision: 5, Source: voting.EventSource{Digest: other, Revision: 4}}
	sameFileChanged := voting.Event{Revision: 5, Source: voting.EventSource{Digest: file, Revision: 4}}
	madeByHost := voting.Event{Revision: 1}
	tests := []struct {
		name    string
		stored  voting.Event
		ballots int
		ended   bool
		force   bool
		apply   bool
		reason  string
	}{
		{"file changed, event not, no ballots", fromFile, 0, false, false, true, ""},
		{"file changed, ballots", fromFile, 3, false, false, false, "3 ballots"},
		{"file and event changed", changed, 0, false, false, false, "control page"},
		{"file unchanged, event changed", sameFileChanged, 0, false, false, false, "after this file was applied"},
		{"never from a file", madeByHost, 0, false, false, false, "not set from an event file"},
		{"ended", fromFile, 0, true, false, false, "ended"},
		{"forced over changes and ballots", changed, 9, false, true, true, ""},
		{"forced after the end", changed, 0, true, true, false, "ended"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			apply, reason := judgeEventFile(&tt.stored, file, tt.ballots, tt.ended, tt.force)
			if apply != tt.apply || !strings.Contains(reason, tt.reason) || (apply && reason != "") {
				t.Fatalf("judgeEventFile = %v %q, want %v and a reason with %q", apply, reason, tt.apply, tt.reason)
			}
		})
	}
}

// restartFile writes a copy of the example event file under a fresh id
// (a shared test Redis keeps events), with edits applied, and returns its
// path and the id.
func restartFile(t *testing.T, dir, id string, edits ...string) string {
	t.Helper()
	data, err := os.ReadFile("../../examples/gongshu-2020.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(data), "id: gongshu-2020", "id: "+id, 1)
	// Its own series too: two events of one series cannot both be round 1.
	text = strings.Replace(text, "id: gongshu-2020-season", "id: "+id+"-season", 1)
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(text, edits[i]) {
			t.Fatalf("the example has no %q", edits[i])
		}
		text = strings.Replace(text, edits[i], edits[i+1], 1)
	}
	path := filepath.Join(dir, id+".yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// restartBallot casts one ballot over HTTP and returns the status and the
// error code of a refusal.
func restartBallot(t *testing.T, sp *serverProcess, id, voter, panel, panelKey string) (int, voting.Code) {
	t.Helper()
	status, body := sp.do(t, "POST", "/api/events/"+id+"/ballots", "", map[string]any{
		"id": uuid.NewString(), "credential": sp.creds.For(voter), "contestant": "u01",
		"panel": panel, "panelKey": panelKey, "score": 88.5,
	})
	var e struct {
		Error struct {
			Code voting.Code `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return status, e.Error.Code
}

func TestRestartKeepsHostChangesEmbedded(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the binary")
	}
	restartKeepsHostChanges(t, "")
}

func TestRestartKeepsHostChangesRedis(t *testing.T) {
	redistest.Parallel(t)
	if testing.Short() {
		t.Skip("runs the binary and Redis")
	}
	srv := redistest.MustStart(t, redistest.Options{AOF: true})
	restartKeepsHostChanges(t, srv.URL())
}

// restartKeepsHostChanges is issue 12 §3 with the real binary: the host
// changes the judges' key and turns tickets on; a restart with the same
// --event file keeps both (the old key is refused, tickets are required)
// and warns naming the fields; --apply-event applies the file on purpose.
// A changed file is applied while the event has no ballots and no host
// changes, and not once it has ballots.
func restartKeepsHostChanges(t *testing.T, redisURL string) {
	dir := t.TempDir()
	suffix := uuid.NewString()[:8]

	t.Run("host changes survive", func(t *testing.T) {
		env := faultEnv(t, redisURL)
		id := "restart-host-" + suffix
		file := restartFile(t, dir, id)
		sp := startServer(t, env, "--event", file)
		var ev voting.Event
		sp.mustJSON(t, "GET", "/api/events/"+id, faultKey, nil, &ev)
		// As the control page saves 活动设置: the whole event with its revision.
		ev.Panels[1].Key = "judges-new-key-42"
		ev.Panels[0].Tickets = true
		sp.mustJSON(t, "PUT", "/api/events/"+id, faultKey, ev, &ev)
		sp.stop(t)

		sp = startServer(t, env, "--event", file)
		faultCommand(t, sp.base, id, voting.ActionNext)
		faultCommand(t, sp.base, id, voting.ActionOpen)
		if status, code := restartBallot(t, sp, id, "judge-1", "judges", "judges-change-me"); status != http.StatusForbidden || code != voting.CodeForbidden {
			t.Errorf("a ballot with the old judges' key after the restart: %d %s, want 403 forbidden", status, code)
		}
		if status, code := restartBallot(t, sp, id, "phone-1", "audience", ""); status != http.StatusForbidden || code != voting.CodeForbidden {
			t.Errorf("a ballot without a ticket after the restart: %d %s, want 403 forbidden", status, code)
		}
		if status, code := restartBallot(t, sp, id, "judge-1", "judges", "judges-new-key-42"); status != http.StatusOK {
			t.Errorf("a ballot with the new judges' key: %d %s", status, code)
		}
		log := sp.stderr.String()
		warn := restartLogLine(log, "event file differs from the stored event")
		for _, want := range []string{"level=WARN", "panels[audience].tickets", "panels[judges].key", "--apply-event " + file} {
			if !strings.Contains(warn, want) {
				t.Errorf("the warning does not say %q:\n%s", want, faultLogTail(log))
			}
		}
		if strings.Contains(log, "judges-new-key-42") || strings.Contains(log, "judges-change-me") {
			t.Errorf("a panel key in the log:\n%s", faultLogTail(log))
		}
		sp.stop(t)

		// On purpose: the file's key and no tickets again; the judge's
		// ballot stays (the scoring is unchanged).
		sp = startServer(t, env, "--event", file, "--apply-event", file)
		if status, code := restartBallot(t, sp, id, "judge-2", "judges", "judges-change-me"); status != http.StatusOK {
			t.Errorf("after --apply-event, a ballot with the file's key: %d %s", status, code)
		}
		if status, code := restartBallot(t, sp, id, "phone-1", "audience", ""); status != http.StatusOK {
			t.Errorf("after --apply-event, a ballot without a ticket: %d %s", status, code)
		}
		if !strings.Contains(restartLogLine(sp.stderr.String(), "applied the event file"), "forced=true") {
			t.Errorf("no forced apply in the log:\n%s", faultLogTail(sp.stderr.String()))
		}
		sp.stop(t)
	})

	t.Run("changed file", func(t *testing.T) {
		env := faultEnv(t, redisURL)
		id := "restart-file-" + suffix
		file := restartFile(t, dir, id)
		sp := startServer(t, env, "--event", file)
		sp.stop(t)

		// Changed, with no host change and no ballots: applied.
		restartFile(t, dir, id, "name: 区商务局", "name: 区商务局（更名）", "key: judges-change-me", "key: judges-file-key")
		sp = startServer(t, env, "--event", file)
		var ev voting.Event
		sp.mustJSON(t, "GET", "/api/events/"+id, faultKey, nil, &ev)
		if ev.Contestants[1].Name != "区商务局（更名）" || ev.Panels[1].Key != "judges-file-key" {
			t.Fatalf("the changed file was not applied: %q, key %q\n%s", ev.Contestants[1].Name, ev.Panels[1].Key, faultLogTail(sp.stderr.String()))
		}
		if line := restartLogLine(sp.stderr.String(), "applied the event file"); !strings.Contains(line, "contestants[u02].name") || !strings.Contains(line, "panels[judges].key") {
			t.Errorf("the log does not name what the file changed:\n%s", faultLogTail(sp.stderr.String()))
		}
		faultCommand(t, sp.base, id, voting.ActionNext)
		faultCommand(t, sp.base, id, voting.ActionOpen)
		if status, code := restartBallot(t, sp, id, "phone-1", "audience", ""); status != http.StatusOK {
			t.Fatalf("ballot: %d %s", status, code)
		}
		sp.stop(t)

		// Changed again, after a ballot: the stored event stays.
		restartFile(t, dir, id, "name: 区商务局", "name: 区商务局（再次更名）")
		sp = startServer(t, env, "--event", file)
		sp.mustJSON(t, "GET", "/api/events/"+id, faultKey, nil, &ev)
		if ev.Contestants[1].Name != "区商务局（更名）" || ev.Panels[1].Key != "judges-file-key" {
			t.Errorf("a file changed after ballots was applied: %q, key %q", ev.Contestants[1].Name, ev.Panels[1].Key)
		}
		warn := restartLogLine(sp.stderr.String(), "event file differs from the stored event")
		for _, want := range []string{"level=WARN", "1 ballots", "contestants[u02].name", "panels[judges].key"} {
			if !strings.Contains(warn, want) {
				t.Errorf("the warning does not say %q:\n%s", want, faultLogTail(sp.stderr.String()))
			}
		}
		sp.stop(t)
	})
}

// restartLogLine returns the first log line that contains msg ("" if none).
func restartLogLine(log, msg string) string {
	for line := range strings.Lines(log) {
		if strings.Contains(line, msg) {
			return line
		}
	}
	return ""
}

func TestEventFileLoads(t *testing.T) {
	t.Parallel()
	c, err := ParseFlags("leitai", []string{"--event", "a.yaml", "--event", "b.yaml", "--apply-event", "b.yaml", "--apply-event", "c.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	got := eventFileLoads(&c)
	want := []eventFileLoad{{path: "a.yaml"}, {path: "b.yaml", force: true}, {path: "c.yaml", force: true}}
	if !slices.Equal(got, want) {
		t.Fatalf("eventFileLoads = %+v, want %+v", got, want)
	}
}
