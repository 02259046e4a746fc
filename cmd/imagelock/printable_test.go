package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A file name from the repository cannot start a line of the output of
// its own: in a CI log, a line starting "::error" is a workflow command.
func TestOutputEscapesInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := "Dockerfile.\n::error::pwned\x1b[31m"
	if err := os.WriteFile(filepath.Join(dir, name), []byte("FROM alpine:3.20\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"imagelock", "list", "-C", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("list exited %d: %s", code, stderr.String())
	}
	for _, out := range []string{stdout.String(), stderr.String()} {
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "::") || strings.Contains(line, "\x1b") {
				t.Errorf("a line of output comes from a file name: %q", line)
			}
		}
	}
	// Such a path is not read at all (the lock could not record it):
	// the warning names it, quoted.
	if !strings.Contains(stderr.String(), `"Dockerfile.\n::error::pwned\x1b[31m": a path with a control character`) {
		t.Errorf("the warning does not name the path, escaped:\n%s", stderr.String())
	}
}

func TestPrintable(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Dockerfile":       "Dockerfile",
		"a\nb":             `a\nb`,
		"\x1b[31mred":      `\x1b[31mred`,
		"tab\there, é":     `tab\there, é`,
		"bell\a\u0085next": `bell\a\u0085next`,
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}
