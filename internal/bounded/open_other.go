//go:build !unix

package bounded

import (
	"errors"
	"io/fs"
	"os"
)

// readWalked reads the file at path, named name in errors, as ReadWalked
// does: it refuses a symbolic link, then opens and reads the file.
func readWalked(path, name string, max int64) ([]byte, error) {
	fi, err := os.Lstat(path)
	if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		err = errors.New("a symbolic link")
	}
	var f *os.File
	if err == nil {
		f, err = os.Open(path)
	}
	if err != nil {
		if u := errors.Unwrap(err); u != nil {
			err = u
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer f.Close()
	return readOpen(f, name, max)
}
