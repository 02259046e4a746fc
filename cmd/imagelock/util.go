package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
)

// configDir is where .imagelock.toml lives: beside the lock.
func configDir(dir, lockfile string) string {
	if filepath.IsAbs(lockfile) {
		return filepath.Dir(lockfile)
	}
	return filepath.Dir(filepath.Join(dir, lockfile))
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

// printable escapes the control characters of text taken from input (a
// file name, a source's text) as Go does ("\n", "\x1b"), so that no input
// can start a line of its own in a log, where a CI runner would read it
// as a command (::error ...), or drive the terminal.
func printable(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
