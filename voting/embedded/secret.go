package embedded

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"leitai/voting"
)

// Secret implements voting.Store. The embedded store serves one instance,
// so a secret is a file beside the journal (mode 0600), written once with
// O_EXCL and fsynced, and read back ever after.
func (s *Store) Secret(_ context.Context, name string) ([]byte, error) {
	if !voting.ValidID(name) {
		return nil, voting.Errorf(voting.CodeInvalid, "secret name %q", name)
	}
	path := filepath.Join(s.dir, "secret-"+name)
	for attempt := 0; attempt < 2; attempt++ {
		b, err := os.ReadFile(path)
		if err == nil && len(b) == voting.SecretSize {
			return b, nil
		}
		if err == nil {
			return nil, voting.Errorf(voting.CodeInternal, "secret file %s is damaged (%d bytes)", path, len(b))
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, voting.Wrap(voting.CodeUnavailable, err, "could not read a secret")
		}
		secret := make([]byte, voting.SecretSize)
		if _, err := rand.Read(secret); err != nil {
			return nil, voting.Wrap(voting.CodeInternal, err, "could not make a secret")
		}
		if err := writeNew(path, secret); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, voting.Wrap(voting.CodeUnavailable, err, "could not store a secret")
		}
		// Made now, or by a concurrent call: read what is on disk.
	}
	return nil, voting.Errorf(voting.CodeInternal, "secret %q could not be made", name)
}

// writeNew writes a file that must not exist yet, durably, by writing a
// temporary file and linking it into place (a crash leaves either no file
// or the whole one).
func writeNew(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("link secret: %w", err)
	}
	return syncDir(filepath.Dir(path))
}
