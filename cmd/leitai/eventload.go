package main

// Loading event files at start (--event, --apply-event). A restart never
// undoes what the host did: the stored event wins over the file unless the
// file changed since it was last applied, the host has not changed the
// event since, and it has no ballots (docs/event-file.md).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"leitai/voting"
)

// eventFileLoad is one event file to load at start; force applies it over
// a stored event that the host changed (--apply-event).
type eventFileLoad struct {
	path  string
	force bool
}

// eventFileLoads lists the files of --event and --apply-event, each once:
// a file given with both is applied.
func eventFileLoads(c *Config) []eventFileLoad {
	var out []eventFileLoad
	for _, p := range c.EventFiles {
		if !slices.Contains(c.ApplyEventFiles, p) {
			out = append(out, eventFileLoad{path: p})
		}
	}
	for _, p := range c.ApplyEventFiles {
		out = append(out, eventFileLoad{path: p, force: true})
	}
	return out
}

// fileDigest names an event file's content: SHA-256 of its bytes.
func fileDigest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// judgeEventFile decides whether an event file that differs from the stored
// event replaces it, and if not, why. ballots counts the event's live
// ballots; ended says the event is read-only.
func judgeEventFile(stored *voting.Event, digest string, ballots int, ended, force bool) (apply bool, reason string) {
	switch {
	case ended:
		return false, "the event has ended; it is read-only"
	case force:
		return true, ""
	case stored.Source.Digest == "":
		return false, "the stored event was not set from an event file (it was made on the control page or through the API, or by an older leitai)"
	case stored.Source.Digest == digest:
		return false, "the event was changed on the control page or through the API after this file was applied"
	case !stored.FromSourceUnchanged():
		return false, "the file changed, but so did the event: on the control page or through the API, after the file was last applied"
	case ballots > 0:
		return false, fmt.Sprintf("the file changed, but the event has %d ballots", ballots)
	}
	return true, ""
}

// loadEventFile creates the event of a file, or applies the file to the
// stored event when judgeEventFile says so; otherwise it keeps the stored
// event and logs a warning naming the fields that differ.
func loadEventFile(ctx context.Context, svc *voting.Service, load eventFileLoad, log *slog.Logger) error {
	path := load.path
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read event file: %w", err)
	}
	ev, se, err := parseEventFile(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := loadSeries(ctx, svc, se, path, log); err != nil {
		return err
	}
	digest := fileDigest(data)
	stored, err := svc.Event(ctx, ev.ID)
	if errors.Is(err, voting.ErrNotFound) {
		created, cerr := svc.ApplyEventFile(ctx, ev, digest)
		if cerr == nil {
			log.Info("created event from file", "event", ev.ID, "file", path, "revision", created.Revision)
			return nil
		}
		if !errors.Is(cerr, voting.ErrConflict) {
			return fmt.Errorf("%s: create event: %w", path, cerr)
		}
		// Another instance created it meanwhile: judge the file against that.
		svc.Forget(ev.ID)
		stored, err = svc.Event(ctx, ev.ID)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	st, err := svc.Stage(ctx, ev.ID)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	sd, err := svc.Standings(ctx, ev.ID)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	ended := st.Phase == voting.PhaseEnded
	fields := eventDiff(stored, ev)
	if len(fields) == 0 {
		return adoptEventFile(ctx, svc, stored, ev, digest, ended, path, log)
	}
	apply, reason := judgeEventFile(&stored, digest, sd.Ballots, ended, load.force)
	if !apply {
		if load.force {
			return fmt.Errorf("%s: --apply-event: %s", path, reason)
		}
		log.Warn("event file differs from the stored event; keeping the stored event",
			"event", ev.ID, "file", path, "reason", reason, "fields", fieldList(fields),
			"how_to_apply", "restart once with --apply-event "+path+" instead of --event, or change the event on the control page")
		return nil
	}
	ev.Revision = stored.Revision
	updated, err := svc.ApplyEventFile(ctx, ev, digest)
	if err != nil {
		if !load.force && (errors.Is(err, voting.ErrConflict) || errors.Is(err, voting.ErrClosed)) {
			// Ballots or an end arrived meanwhile (another instance).
			log.Warn("event file differs from the stored event; keeping the stored event",
				"event", ev.ID, "file", path, "reason", voting.ErrorMessage(err), "fields", fieldList(fields))
			return nil
		}
		return fmt.Errorf("%s: apply event file: %w", path, err)
	}
	log.Info("applied the event file", "event", ev.ID, "file", path, "fields", fieldList(fields),
		"revision", updated.Revision, "forced", load.force)
	return nil
}

// adoptEventFile handles a file whose content equals the stored event:
// nothing changes but the record of the event's source, so that the next
// change of this file is applied (unless the host changes the event first).
func adoptEventFile(ctx context.Context, svc *voting.Service, stored, ev voting.Event, digest string, ended bool, path string, log *slog.Logger) error {
	if ended || (stored.Source.Digest == digest && stored.FromSourceUnchanged()) {
		log.Info("event file matches the stored event", "event", ev.ID, "file", path)
		return nil
	}
	ev.Revision = stored.Revision
	if _, err := svc.ApplyEventFile(ctx, ev, digest); err != nil {
		if errors.Is(err, voting.ErrConflict) || errors.Is(err, voting.ErrClosed) {
			log.Info("event file matches the stored event", "event", ev.ID, "file", path)
			return nil
		}
		return fmt.Errorf("%s: record the event file: %w", path, err)
	}
	log.Info("event file matches the stored event; recorded it as the event's source", "event", ev.ID, "file", path)
	return nil
}

// fieldList joins field names for a log line, at most 20 of them.
func fieldList(fields []string) string {
	const most = 20
	if len(fields) > most {
		return strings.Join(fields[:most], ", ") + fmt.Sprintf(", … (%d more)", len(fields)-most)
	}
	return strings.Join(fields, ", ")
}

// eventDiff names the fields in which two events differ, as paths in their
// JSON form: "title", "panels[judges].key", "contestants[u03].name",
// "contestants (order)". Entries of lists with ids are matched by id. The
// revision, the published flag and the source are not content. Values are
// never named: a panel key is a secret.
func eventDiff(a, b voting.Event) []string {
	ja, errA := eventJSON(a)
	jb, errB := eventJSON(b)
	if errA != nil || errB != nil {
		return []string{"(the events could not be compared)"}
	}
	var out []string
	diffJSON("", ja, jb, &out)
	return out
}

func eventJSON(ev voting.Event) (any, error) {
	ev.Revision, ev.Published, ev.Source = 0, false, voting.EventSource{}
	data, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // compare numbers as written, not as rounded floats
	var v any
	err = dec.Decode(&v)
	return v, err
}

func diffJSON(path string, a, b any, out *[]string) {
	ma, aMap := a.(map[string]any)
	mb, bMap := b.(map[string]any)
	if aMap && bMap {
		keys := make([]string, 0, len(ma)+len(mb))
		for k := range ma {
			keys = append(keys, k)
		}
		for k := range mb {
			if _, ok := ma[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			diffJSON(p, ma[k], mb[k], out)
		}
		return
	}
	la, aList := a.([]any)
	lb, bList := b.([]any)
	if aList && bList {
		diffEntries(path, la, lb, out)
		return
	}
	if !reflect.DeepEqual(a, b) {
		*out = append(*out, path)
	}
}

// diffEntries compares two lists: by id when every entry has one, else by
// position.
func diffEntries(path string, a, b []any, out *[]string) {
	ida, okA := listIDs(a)
	idb, okB := listIDs(b)
	if !okA || !okB {
		for i := range max(len(a), len(b)) {
			p := path + "[" + strconv.Itoa(i) + "]"
			if i >= len(a) || i >= len(b) {
				*out = append(*out, p)
				continue
			}
			diffJSON(p, a[i], b[i], out)
		}
		return
	}
	var common []string
	for i, id := range ida {
		j := slices.Index(idb, id)
		if j < 0 {
			*out = append(*out, path+"["+id+"]")
			continue
		}
		common = append(common, id)
		diffJSON(path+"["+id+"]", a[i], b[j], out)
	}
	var commonB []string
	for _, id := range idb {
		if !slices.Contains(ida, id) {
			*out = append(*out, path+"["+id+"]")
		} else {
			commonB = append(commonB, id)
		}
	}
	if !slices.Equal(common, commonB) {
		*out = append(*out, path+" (order)")
	}
}

// listIDs returns the "id" of every entry, if every entry is an object
// with a distinct string id.
func listIDs(l []any) ([]string, bool) {
	ids := make([]string, 0, len(l))
	for _, e := range l {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, false
		}
		id, ok := m["id"].(string)
		if !ok || id == "" || slices.Contains(ids, id) {
			return nil, false
		}
		ids = append(ids, id)
	}
	return ids, true
}
