package storetest

import (
	"bytes"
	"errors"
	"sync"
	"testing"

	"leitai/voting"
)

// testSecret: a secret is made once, has SecretSize bytes, is the same for
// every caller (also concurrent ones), differs by name, and survives a
// restart.
func testSecret(t *testing.T, f Factory) {
	s, restart := f(t)
	c := ctx(t)
	const n = 16
	got := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := s.Secret(c, "voter-credentials")
			if err != nil {
				t.Error(err)
			}
			got[i] = b
		}()
	}
	wg.Wait()
	for _, b := range got {
		if len(b) != voting.SecretSize || !bytes.Equal(b, got[0]) {
			t.Fatalf("secrets differ or have the wrong size: %x vs %x", b, got[0])
		}
	}
	other, err := s.Secret(c, "other")
	if err != nil || bytes.Equal(other, got[0]) {
		t.Fatalf("a second name gave %x, %v", other, err)
	}
	if _, err := s.Secret(c, "Bad Name"); !errors.Is(err, voting.ErrInvalid) {
		t.Fatalf("bad name: %v", err)
	}
	if restart == nil {
		return
	}
	s = restart()
	again, err := s.Secret(c, "voter-credentials")
	if err != nil || !bytes.Equal(again, got[0]) {
		t.Fatalf("after restart %x, %v; want %x", again, err, got[0])
	}
}
