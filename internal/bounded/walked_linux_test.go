package bounded

import (
	"bytes"
	"errors"
	"testing"
)

// A regular file whose stat says 0 bytes (the kernel's, under /proc) is
// read to its end, and its end is held to the ceiling.
func TestReadWalkedReadsPastTheStatSize(t *testing.T) {
	t.Parallel()
	got, err := ReadWalked("/proc/self", "status", Source)
	if err != nil || !bytes.HasPrefix(got, []byte("Name:")) || !bytes.Contains(got, []byte("\nPid:")) {
		t.Fatalf("ReadWalked(/proc/self/status) = %q, %v", got, err)
	}
	var e *Error
	if _, err := ReadWalked("/proc/self", "status", 16); !errors.As(err, &e) {
		t.Errorf("ReadWalked(/proc/self/status) with a 16-byte ceiling: err = %v, want an *Error", err)
	}
}
