package storetest

import (
	"testing"

	"leitai/voting"
)

// testEventSource checks that the store keeps an event's Source (the event
// file it was set from) with the event, and how the service treats it: set
// only by ApplyEventFile, kept by UpdateEvent and SetPublished (whose
// revisions then say that the host changed the event), never carried over
// by CreateEvent or CloneEvent, never shown publicly.
func testEventSource(t *testing.T, s voting.Store) {
	svc := voting.NewService(s, nil)
	const d1, d2 = "sha256:1111", "sha256:2222"
	created, err := svc.ApplyEventFile(ctx(t), newEvent("filed"), d1)
	if err != nil {
		t.Fatalf("ApplyEventFile (create): %v", err)
	}
	want := voting.EventSource{Digest: d1, Revision: 1}
	if created.Source != want || created.Revision != 1 || !created.FromSourceUnchanged() {
		t.Fatalf("created from a file: revision %d, source %+v; want 1, %+v", created.Revision, created.Source, want)
	}
	if got := mustEvent(t, s, "filed"); got.Source != want {
		t.Fatalf("stored source %+v, want %+v", got.Source, want)
	}
	if pub := created.Public(); pub.Source != (voting.EventSource{}) {
		t.Fatalf("the public copy shows the source %+v", pub.Source)
	}

	// Applied again (a changed file): the new digest and revision.
	again := cloneEvent(created)
	again.Title = "改过的标题"
	applied, err := svc.ApplyEventFile(ctx(t), again, d2)
	if err != nil {
		t.Fatalf("ApplyEventFile (update): %v", err)
	}
	want = voting.EventSource{Digest: d2, Revision: 2}
	if applied.Source != want || applied.Revision != 2 || !applied.FromSourceUnchanged() {
		t.Fatalf("applied: revision %d, source %+v; want 2, %+v", applied.Revision, applied.Source, want)
	}

	// The host changes it: the source stays, whatever the body said, and
	// the revision moves past it.
	edit := cloneEvent(applied)
	edit.Panels[1].Key = "new-judges-key"
	edit.Source = voting.EventSource{Digest: "sha256:forged", Revision: 3}
	edited, err := svc.UpdateEvent(ctx(t), edit)
	if err != nil {
		t.Fatalf("UpdateEvent: %v", err)
	}
	if edited.Source != want || edited.Revision != 3 || edited.FromSourceUnchanged() {
		t.Fatalf("after a host change: revision %d, source %+v; want 3, %+v, changed", edited.Revision, edited.Source, want)
	}
	stored := mustEvent(t, s, "filed")
	if stored.Source != want || stored.FromSourceUnchanged() {
		t.Fatalf("stored after a host change: revision %d, source %+v", stored.Revision, stored.Source)
	}
	published, err := svc.SetPublished(ctx(t), "filed", true, false)
	if err != nil || published.Source != want || published.Revision != 4 {
		t.Fatalf("SetPublished = revision %d, source %+v, %v", published.Revision, published.Source, err)
	}

	// Made through the API or cloned: not from a file.
	made := newEvent("made")
	made.Source = voting.EventSource{Digest: d1, Revision: 1}
	if got, err := svc.CreateEvent(ctx(t), made); err != nil || got.Source != (voting.EventSource{}) || got.FromSourceUnchanged() {
		t.Fatalf("CreateEvent = source %+v, %v; want none", got.Source, err)
	}
	clone, err := svc.CloneEvent(ctx(t), "filed", "filed-2", "")
	if err != nil || clone.Source != (voting.EventSource{}) {
		t.Fatalf("CloneEvent = source %+v, %v; want none", clone.Source, err)
	}
	if got := mustEvent(t, s, "filed-2"); got.Source != (voting.EventSource{}) {
		t.Fatalf("stored clone has the source %+v", got.Source)
	}
}
