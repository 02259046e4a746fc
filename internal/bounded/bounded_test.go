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
