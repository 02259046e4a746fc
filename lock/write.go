package lock

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/imagelock/imagelock/internal/atomicfile"
	"github.com/imagelock/imagelock/internal/bounded"
)

// Read reads and parses the lock at path. A missing file gives an empty
// lock and ok=false. The lock remembers what it was read from, so that
// Stage and Write replace it only if it is still so.
func Read(path, display string) (f *File, ok bool, err error) {
	data, err := bounded.Read(path, bounded.Source)
	if errors.Is(err, fs.ErrNotExist) {
		return &File{}, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if f, err = Parse(display, data); err != nil {
		return nil, false, err
	}
	f.read, f.exists = data, true
	return f, true, nil
}

// Write writes next to path atomically, in place of old (what Read gave),
// only when its bytes differ from old's, and reports whether it wrote.
func Write(path string, next, old *File) (bool, error) {
	var b atomicfile.Batch
	changed, err := Stage(&b, path, next, old)
	if err != nil || !changed {
		return false, err
	}
	return true, b.Commit()
}

// Stage adds next to a batch of writes in place of old (what Read gave),
// when its bytes differ from old's, and reports whether it did. The
// batch's Commit fails, writing nothing, if the lock was changed or
// created meanwhile (a checkout, a pull, another tool).
//
// A lock that would not read back (an entry Parse refuses) is not staged:
// the error names the entry, and nothing is written.
func Stage(b *atomicfile.Batch, path string, next, old *File) (bool, error) {
	data := next.Format()
	if _, err := Parse(filepath.Base(path), data); err != nil {
		return false, fmt.Errorf("the new lock would not read back, so nothing was written: %w", err)
	}
	if !old.exists {
		return true, b.StageNew(path, data, 0o644)
	}
	if bytes.Equal(old.read, data) {
		return false, nil
	}
	return true, b.StageReplacing(path, old.read, data)
}
