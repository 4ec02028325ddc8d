package embedded

import (
	"context"
	"crypto/rand"
	"encoding/json"
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

// hostKeysFile holds the host key digests (JSON), replaced whole.
const hostKeysFile = "hostkeys"

// HostKeys implements voting.Store.
func (s *Store) HostKeys(context.Context) (voting.HostKeys, error) {
	s.hostKeysMu.Lock()
	defer s.hostKeysMu.Unlock()
	return s.readHostKeys()
}

func (s *Store) readHostKeys() (voting.HostKeys, error) {
	var hk voting.HostKeys
	b, err := os.ReadFile(filepath.Join(s.dir, hostKeysFile))
	if errors.Is(err, fs.ErrNotExist) {
		return hk, nil
	}
	if err != nil {
		return hk, voting.Wrap(voting.CodeUnavailable, err, "could not read the host key")
	}
	if err := json.Unmarshal(b, &hk); err != nil {
		return hk, voting.Wrap(voting.CodeInternal, err, "the host key file is damaged")
	}
	return hk, nil
}

// SwapHostKeys implements voting.Store: compare, then replace the file
// durably (temporary file, fsync, rename, fsync of the directory).
func (s *Store) SwapHostKeys(_ context.Context, old, next voting.HostKeys) error {
	s.hostKeysMu.Lock()
	defer s.hostKeysMu.Unlock()
	cur, err := s.readHostKeys()
	if err != nil {
		return err
	}
	if cur != old {
		return voting.Errorf(voting.CodeConflict, "the host key was changed meanwhile")
	}
	data, err := json.Marshal(next)
	if err != nil {
		return voting.Wrap(voting.CodeInternal, err, "could not encode the host key")
	}
	if err := writeReplacing(filepath.Join(s.dir, hostKeysFile), data); err != nil {
		return voting.Wrap(voting.CodeUnavailable, err, "could not store the host key")
	}
	return nil
}

// writeReplacing replaces the file at path with data, durably.
func writeReplacing(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".hostkeys-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := replaceFile(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}
