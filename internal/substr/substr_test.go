package substr

import (
	"testing"
	"unsafe"
)

func TestWithin(t *testing.T) {
	t.Parallel()
	s := "ghcr.io/o/app:1@sha256:abc"
	for _, tc := range []struct {
		sub    string
		inside bool
	}{
		{"ghcr.io/o/app", true},
		{"sha256:abc", true},
		{"docker.io/library/app", false},
	} {
		sub := string([]byte(tc.sub)) // a copy of its own
		got := Within(s, sub)
		if got != tc.sub {
			t.Errorf("Within(%q, %q) = %q", s, tc.sub, got)
		}
		p := uintptr(unsafe.Pointer(unsafe.StringData(got)))
		base := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		if inside := p >= base && p < base+uintptr(len(s)); inside != tc.inside {
			t.Errorf("Within(%q, %q) points into s: %v, want %v", s, tc.sub, inside, tc.inside)
		}
	}
}
