package voting

import "context"

// EventSource records the event file an event was last set from, so that a
// restart with an event file can tell whether the file changed since it
// was applied and whether the host changed the event since (a restart must
// never undo what the host did).
type EventSource struct {
	// Digest names the file's content: "sha256:" and the hex SHA-256 of
	// its bytes.
	Digest string `json:"digest"`
	// Revision is the event revision that applying the file produced. The
	// revision goes up with every later change (control page, API,
	// publishing), so a stored revision above it means the host changed
	// the event since.
	Revision int64 `json:"revision"`
}

// FromSourceUnchanged reports whether the event is still exactly as its
// event file left it: it was set from a file and has not been changed since.
func (e *Event) FromSourceUnchanged() bool {
	return e.Source.Digest != "" && e.Source.Revision == e.Revision
}

// ApplyEventFile stores ev as read from an event file whose bytes have the
// given digest, recording the digest and the revision this produces. With
// ev.Revision 0 it creates the event; otherwise ev.Revision must be the
// stored revision and the event is replaced, under the same rules as
// UpdateEvent (read-only once ended; scoring fixed once ballots exist).
// Whether the file should win over the stored event is the caller's
// decision.
func (s *Service) ApplyEventFile(ctx context.Context, ev Event, digest string) (Event, error) {
	if digest == "" {
		return Event{}, Errorf(CodeInvalid, "an event file needs a digest")
	}
	ev.Normalize()
	if err := ev.Validate(); err != nil {
		return Event{}, err
	}
	if ev.Revision == 0 {
		// Stores create events at revision 1 (see Store.CreateEvent).
		ev.Source = EventSource{Digest: digest, Revision: 1}
		return s.createEvent(ctx, ev)
	}
	// Stores give an update the next revision (see Store.UpdateEvent).
	ev.Source = EventSource{Digest: digest, Revision: ev.Revision + 1}
	return s.updateEvent(ctx, ev)
}
