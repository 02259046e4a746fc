package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// configDir is where .imagelock.toml lives: beside the lock.
func configDir(dir, lockfile string) string {
	if filepath.IsAbs(lockfile) {
		return filepath.Dir(lockfile)
	}
	return filepath.Dir(filepath.Join(dir, lockfile))
}

func parsePlatform(s string) (*v1.Platform, error) {
	p, err := v1.ParsePlatform(s)
	if err != nil || p.OS == "" || p.Architecture == "" {
		return nil, fmt.Errorf("--platform %q: want os/arch[/variant], e.g. linux/arm64/v8", s)
	}
	return p, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// shortDigest keeps the algorithm and the first 12 hex digits, as docker
// shows digests, and marks the cut.
func shortDigest(d string) string {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) <= 12 {
		return d
	}
	return alg + ":" + hex[:12] + "…"
}
