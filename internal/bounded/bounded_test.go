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
