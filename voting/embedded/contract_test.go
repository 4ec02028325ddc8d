package embedded_test

import (
	"testing"

	"leitai/voting"
	"leitai/voting/embedded"
	"leitai/voting/storetest"
)

// TestContract runs the shared Store contract. A restart closes the store
// and opens the same directory again, as a server restart does.
func TestContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) (voting.Store, func() voting.Store) {
		dir := t.TempDir()
		s := open(t, dir)
		restart := func() voting.Store {
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			s = open(t, dir)
			return s
		}
		return s, restart
	})
}

var _ voting.Store = (*embedded.Store)(nil)
