//go:build windows

package embedded

import "golang.org/x/sys/windows"

// replaceFile renames from over to and returns only once the rename is on
// disk (MOVEFILE_WRITE_THROUGH), which is what syncing the directory does
// elsewhere.
func replaceFile(from, to string) error {
	f, err := windows.UTF16PtrFromString(from)
	if err != nil {
		return err
	}
	t, err := windows.UTF16PtrFromString(to)
	if err != nil {
		return err
	}
	return windows.MoveFileEx(f, t, windows.MOVEFILE_REPLACE_EXISTING|windows.MOVEFILE_WRITE_THROUGH)
}

// syncDir has nothing to do: Windows cannot sync a directory, and
// replaceFile writes the rename through.
func syncDir(string) error { return nil }
