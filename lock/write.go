package lock

import (
	"bytes"
	"errors"
	"io/fs"

	"github.com/imagelock/imagelock/internal/atomicfile"
	"github.com/imagelock/imagelock/internal/bounded"
)

// Read reads and parses the lock at path. A missing file gives an empty
// lock and ok=false.
func Read(path, display string) (f *File, ok bool, err error) {
	data, err := bounded.Read(path, bounded.Source)
	if errors.Is(err, fs.ErrNotExist) {
		return &File{}, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	f, err = Parse(display, data)
	return f, err == nil, err
}

// Write writes f to path atomically, only when its bytes differ from what
// is there, and reports whether it wrote.
func Write(path string, f *File) (bool, error) {
	var b atomicfile.Batch
	changed, err := Stage(&b, path, f)
	if err != nil || !changed {
		return false, err
	}
	return true, b.Commit()
}

// Stage adds f to a batch of writes when its bytes differ from what is at
// path, and reports whether it did.
func Stage(b *atomicfile.Batch, path string, f *File) (bool, error) {
	data := f.Format()
	old, err := bounded.Read(path, bounded.Source)
	if err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	return true, b.Stage(path, data, 0o644)
}
