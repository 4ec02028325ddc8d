//go:build !windows

package embedded

import (
	"errors"
	"os"
	"syscall"
)

// replaceFile renames from over to; rename is atomic on POSIX systems.
func replaceFile(from, to string) error { return os.Rename(from, to) }

// syncDir makes a rename in dir durable. File systems that cannot sync a
// directory (some network and FUSE ones) say so with EINVAL or ENOTSUP;
// there is nothing more to do on those.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, errors.ErrUnsupported) {
		return nil
	}
	return err
}
