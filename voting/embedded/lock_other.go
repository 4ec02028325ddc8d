//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || solaris || windows)

package embedded

import (
	"io"
	"os"
)

// lockDir only creates the lock file on systems without flock (aix,
// plan9, wasm): the store works there, but nothing stops a second process
// from opening the same directory.
func lockDir(path string) (io.Closer, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}
