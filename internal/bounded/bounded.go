// Package bounded reads files with a ceiling: a regular file of at most a
// given size, never a device, a pipe or a file that grows without end, so
// that no input (a lock linked to /dev/zero, a runaway .env) can exhaust
// memory.
package bounded

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// The ceilings imagelock reads with.
const (
	// Source is the most a source, a lock or a file a source names is read.
	Source = 64 << 20
	// Small is the most a config, .gitignore, .env or bake file is read.
	Small = 1 << 20
)

// Error is a file refused: not a regular file, or larger than the ceiling.
type Error struct {
	Name string
	Msg  string
}

func (e *Error) Error() string { return e.Name + ": " + e.Msg }

// ReadFile reads name from fsys when it is a regular file of at most max
// bytes (after following symbolic links); otherwise it returns an *Error,
// or the error of opening it.
func ReadFile(fsys fs.FS, name string, max int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readOpen(f, name, max)
}

// ReadWalked is ReadFile for a file a walk of directory dir found at
// slash path rel: it opens dir/rel in one call that follows no symbolic
// link in its last element (a file replaced by a link since the walk is
// an error, not a read of what the link names), and the error of
// opening it names rel.
func ReadWalked(dir, rel string, max int64) ([]byte, error) {
	return readWalked(filepath.Join(dir, filepath.FromSlash(rel)), rel, max)
}

// readOpen reads open file f, named name, as ReadFile does.
func readOpen(f fs.File, name string, max int64) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(name)
	}
	if fi.Size() > max {
		return nil, tooLarge(name, fi.Size(), max)
	}
	// Room for the size Stat gave, and then some, as os.ReadFile
	// makes: one allocation for a file that did not grow meanwhile.
	var b bytes.Buffer
	b.Grow(int(fi.Size()) + bytes.MinRead)
	return readAll(&b, f, name, max)
}

// ReadAll reads r, named name in errors, to its end when that comes
// within max bytes; otherwise it returns an *Error. It is for a stream
// (standard input) that ReadFile cannot stat.
func ReadAll(r io.Reader, name string, max int64) ([]byte, error) {
	return readAll(new(bytes.Buffer), r, name, max)
}

// readAll reads r into b up to max bytes.
func readAll(b *bytes.Buffer, r io.Reader, name string, max int64) ([]byte, error) {
	if _, err := b.ReadFrom(io.LimitReader(r, max+1)); err != nil {
		return nil, err
	}
	if int64(b.Len()) > max {
		return nil, tooLarge(name, int64(b.Len()), max)
	}
	return b.Bytes(), nil
}

// Read is ReadFile for a path of the operating system.
func Read(path string, max int64) ([]byte, error) {
	data, err := ReadFile(os.DirFS(filepath.Dir(path)), filepath.Base(path), max)
	if e, ok := err.(*Error); ok {
		e.Name = path
	}
	return data, err
}

func notRegular(name string) error {
	return &Error{Name: name, Msg: "not a regular file (a device, pipe or directory): imagelock reads only files"}
}

func tooLarge(name string, size, max int64) error {
	return &Error{Name: name, Msg: fmt.Sprintf("%d bytes or more, over the %d MiB imagelock reads", size, max>>20)}
}
