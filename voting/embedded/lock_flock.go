//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly || solaris

package embedded

import (
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// lockDir takes an exclusive flock on path. The kernel drops it when the
// process ends in any way, so a killed server never blocks its restart.
func lockDir(path string) (io.Closer, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	rc, err := f.SyscallConn()
	if err == nil {
		cerr := rc.Control(func(fd uintptr) { err = unix.Flock(int(fd), unix.LOCK_EX|unix.LOCK_NB) })
		if cerr != nil {
			err = cerr
		}
	}
	if err != nil {
		_ = f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, errLocked
		}
		return nil, err
	}
	return f, nil
}
