//go:build !unix

package bounded

import (
	"errors"
	"io/fs"
	"os"
)

// openNoFollow opens path to read, refusing a symbolic link.
func openNoFollow(path string) (*os.File, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, errors.Unwrap(err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, errors.New("a symbolic link")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Unwrap(err)
	}
	return f, nil
}
