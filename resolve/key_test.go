package resolve

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	hex := strings.Repeat("a", 64)
	for _, tc := range []struct {
		in, key, err string
	}{
		{in: "alpine", key: "docker.io/library/alpine:latest"},
		{in: "index.docker.io/library/golang:1.26-alpine", key: "docker.io/library/golang:1.26-alpine"},
		{in: "ghcr.io/o/app:_dev", key: "ghcr.io/o/app:_dev"},
		{in: "ghcr.io/o/app:1@sha256:" + hex, key: "ghcr.io/o/app:1"},
		{in: "ghcr.io/o/app@sha256:" + hex, key: "ghcr.io/o/app"},
		// An empty variable before the rest of a tag: go-containerregistry
		// takes it, no registry does.
		{in: "golang:-alpine3.23", err: "a tag starts with a letter, digit or underscore"},
		{in: "golang:.1", err: "a tag starts with a letter, digit or underscore"},
		{in: "golang:1@sha256:abc", err: "invalid digest"},
		{in: "Golang:1", err: "invalid image reference"},
	} {
		p, err := Parse(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("Parse(%q) = %v, %v; want an error saying %q", tc.in, p.Key, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("Parse(%q): %v", tc.in, err)
		case tc.err == "" && p.Key.String() != tc.key:
			t.Errorf("Parse(%q) = %s, want %s", tc.in, p.Key, tc.key)
		}
	}
}
