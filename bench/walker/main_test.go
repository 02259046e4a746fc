package main

import (
	"os"
	"path/filepath"
	"testing"
)

// The walker counts what the bench's scan tree holds, and nothing that
// only looks like it: a stage in COPY --from, a comment, a key named
// image elsewhere in a line.
func TestCount(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for p, text := range map[string]string{
		"a/Dockerfile": "FROM r.example/a:1@sha256:00 AS build\nRUN make\n\nFROM --platform=linux/amd64 r.example/b:2\nCOPY --from=build /out /app\n# FROM not/this\n",
		"b/svc.yaml":   "spec:\n  initContainers:\n    - name: m\n      image: r.example/c:3\n  containers:\n    - image: \"r.example/d:4\"\n      name: app\n      labels: {image: no}\n",
		"c/notes.txt":  "the image: field\n",
	} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	n, err := count(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("count = %d, want 4", n)
	}
}
