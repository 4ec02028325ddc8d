package voting

import "context"

// What the live side and the API read through the service rather than
// from the store behind it: the list of events, an event as stored (not
// the cached copy), every live ballot for the reports, and the host key
// digests that the access package keeps.

// Events lists the stored events.
func (s *Service) Events(ctx context.Context) ([]Event, error) {
	return s.store.Events(ctx)
}

// StoredEvent reads the event from the store, not from the service's
// cache: another instance may have published or renamed it. For reports
// and exports, which are not a hot path.
func (s *Service) StoredEvent(ctx context.Context, id string) (Event, error) {
	if !ValidID(id) {
		return Event{}, errNoEvent(id)
	}
	return s.store.Event(ctx, id)
}

// Ballots returns the event's live ballots (the reports' detail).
func (s *Service) Ballots(ctx context.Context, id string) ([]CountedBallot, error) {
	return s.store.Ballots(ctx, id)
}

// HostKeys returns the stored host key digests.
func (s *Service) HostKeys(ctx context.Context) (HostKeys, error) {
	return s.store.HostKeys(ctx)
}

// SwapHostKeys stores next if the stored digests are still old.
func (s *Service) SwapHostKeys(ctx context.Context, old, next HostKeys) error {
	return s.store.SwapHostKeys(ctx, old, next)
}
