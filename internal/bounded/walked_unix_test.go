//go:build unix

package bounded

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// ReadWalked reads a file whole, empty or around the sizes where reads
// fall (bytes.MinRead), at the ceiling, and refuses it one byte under.
func TestReadWalkedSizes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, n := range []int{0, 1, 511, 512, 513, 4096, 100_000} {
		want := bytes.Repeat([]byte("ab\n"), n)[:n]
		if err := os.WriteFile(filepath.Join(dir, "f"), want, 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := ReadWalked(dir, "f", int64(n)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("ReadWalked of %d bytes at the ceiling = %d bytes, %v", n, len(got), err)
		}
		var e *Error
		if _, err := ReadWalked(dir, "f", int64(n)-1); n > 0 && !errors.As(err, &e) {
			t.Errorf("ReadWalked of %d bytes under the ceiling: err = %v, want an *Error", n, err)
		}
	}
}

// A pipe that took a walked file's place is refused at once, not waited
// on for a writer that never comes.
func TestReadWalkedRefusesAPipe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "Dockerfile"), 0o644); err != nil {
		t.Fatal(err)
	}
	var e *Error
	if _, err := ReadWalked(dir, "Dockerfile", Source); !errors.As(err, &e) || e.Name != "Dockerfile" {
		t.Errorf("ReadWalked of a pipe = %v, want an *Error naming Dockerfile", err)
	}
}
