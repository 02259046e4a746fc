package bounded

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestReadFile(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"small": {Data: []byte("12345")}, "dir": {Mode: fs.ModeDir}}
	if got, err := ReadFile(fsys, "small", 5); err != nil || string(got) != "12345" {
		t.Errorf("ReadFile at the ceiling = %q, %v", got, err)
	}
	var e *Error
	if _, err := ReadFile(fsys, "small", 4); !errors.As(err, &e) || !strings.Contains(err.Error(), "over the") {
		t.Errorf("ReadFile over the ceiling = %v, want an *Error", err)
	}
	if _, err := ReadFile(fsys, "dir", 4); !errors.As(err, &e) {
		t.Errorf("ReadFile of a directory = %v, want an *Error", err)
	}
	if _, err := ReadFile(fsys, "missing", 4); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile of a missing file = %v, want ErrNotExist", err)
	}
}

// A lock linked to /dev/zero is refused at once, naming the path.
func TestReadRefusesDevices(t *testing.T) {
	t.Parallel()
	link := filepath.Join(t.TempDir(), "images.lock")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	_, err := Read(link, Source)
	var e *Error
	if !errors.As(err, &e) || e.Name != link {
		t.Errorf("Read of a link to /dev/zero = %v, want an *Error naming %s", err, link)
	}
}

// A stream that runs on past the ceiling is refused after max+1 bytes,
// not read to its end.
func TestReadAllStopsAtTheCeiling(t *testing.T) {
	t.Parallel()
	var e *Error
	_, err := ReadAll(endless{}, "stdin", 10)
	if !errors.As(err, &e) || e.Name != "stdin" {
		t.Errorf("ReadAll of an endless stream = %v, want an *Error naming stdin", err)
	}
	if got, err := ReadAll(strings.NewReader("0123456789"), "stdin", 10); err != nil || string(got) != "0123456789" {
		t.Errorf("ReadAll at the ceiling = %q, %v", got, err)
	}
}

type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// A file the walk found is read; a link put in its place is refused,
// and the error names the path as the walk wrote it.
func TestReadWalkedFollowsNoLink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a", "Dockerfile"), []byte("FROM alpine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadWalked(dir, "a/Dockerfile", Source); err != nil || string(got) != "FROM alpine\n" {
		t.Errorf("ReadWalked = %q, %v", got, err)
	}
	if err := os.Symlink("Dockerfile", filepath.Join(dir, "a", "link")); err != nil {
		t.Fatal(err)
	}
	var pe *fs.PathError
	if got, err := ReadWalked(dir, "a/link", Source); !errors.As(err, &pe) || pe.Path != "a/link" {
		t.Errorf("ReadWalked of a link = %q, %v; want an error naming a/link", got, err)
	}
	if _, err := ReadWalked(dir, "a/Dockerfile", 4); err == nil || !strings.Contains(err.Error(), "a/Dockerfile: ") {
		t.Errorf("ReadWalked over the ceiling = %v, want an error naming a/Dockerfile", err)
	}
}
