package workflow

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// failingFS is a tree where the paths in fail, and everything under them,
// cannot be opened: what chmod 000 does to anyone but root.
type failingFS struct {
	files fstest.MapFS
	fail  []string
}

func (f failingFS) Open(name string) (fs.File, error) {
	for _, p := range f.fail {
		if name == p || strings.HasPrefix(name, p+"/") {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
		}
	}
	return f.files.Open(name)
}

// A directory or .gitignore the walk cannot read is an error naming it,
// never a silent skip; what the config excludes is not read at all.
func TestDiscoverNamesWhatItCannotRead(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{
		"Dockerfile":           {Data: []byte("FROM alpine:3.20\n")},
		"secret/Dockerfile":    {Data: []byte("FROM alpine:3.20\n")},
		"vault/a/Dockerfile":   {Data: []byte("FROM alpine:3.20\n")},
		"docs/.gitignore":      {Data: []byte("x\n")},
		"docs/Dockerfile":      {Data: []byte("FROM alpine:3.20\n")},
		"private/Dockerfile":   {Data: []byte("FROM alpine:3.20\n")},
		"private/b/Dockerfile": {Data: []byte("FROM alpine:3.20\n")},
	}
	isSource := func(p string) bool { return strings.HasSuffix(p, "Dockerfile") }
	all := scope{paths: []string{"."}}
	for _, tc := range []struct {
		name    string
		fail    []string
		exclude []string
		files   []string
		err     string
	}{
		{
			name:  "all readable",
			files: []string{"Dockerfile", "docs/Dockerfile", "private/Dockerfile", "private/b/Dockerfile", "secret/Dockerfile", "vault/a/Dockerfile"},
		},
		{
			name: "unreadable directories",
			fail: []string{"secret", "vault/a"},
			err: "secret: cannot read it (permission denied): fix its permissions, or exclude it in .imagelock.toml\n" +
				"vault/a: cannot read it (permission denied): fix its permissions, or exclude it in .imagelock.toml",
		},
		{
			name: "unreadable .gitignore",
			fail: []string{"docs/.gitignore"},
			err:  "docs/.gitignore: cannot read it (permission denied): fix its permissions, or exclude it in .imagelock.toml",
		},
		{
			name:    "excluded unreadable directory",
			fail:    []string{"secret"},
			exclude: []string{"secret"},
			files:   []string{"Dockerfile", "docs/Dockerfile", "private/Dockerfile", "private/b/Dockerfile", "vault/a/Dockerfile"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, _, err := discover(failingFS{files, tc.fail}, all, &Config{Exclude: tc.exclude}, isSource)
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			if msg != tc.err {
				t.Errorf("error:\n%s\nwant:\n%s", msg, tc.err)
			}
			if diff := cmp.Diff(tc.files, got); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
		})
	}
}

// What a package manager writes (node_modules, a Go vendor directory with
// modules.txt) is other projects' files: not walked, unless a path given
// names it. A directory merely called vendor is the repository's own.
func TestDiscoverSkipsPackageManagerDirectories(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{
		"Dockerfile":                           {Data: []byte("FROM alpine:3.20\n")},
		"vendor/modules.txt":                   {Data: []byte("# github.com/a/b v1.0.0\n")},
		"vendor/github.com/a/b/Dockerfile":     {Data: []byte("FROM golang:1.20\n")},
		"web/node_modules/pkg/Dockerfile":      {Data: []byte("FROM node:18\n")},
		"third_party/vendor/Dockerfile":        {Data: []byte("FROM alpine:3.20\n")},
		"tools/vendor/github.com/c/Dockerfile": {Data: []byte("FROM alpine:3.20\n")},
	}
	isSource := func(p string) bool { return strings.HasSuffix(p, "Dockerfile") }
	for _, tc := range []struct {
		name  string
		paths []string
		want  []string
	}{
		{"whole tree", []string{"."}, []string{"Dockerfile", "third_party/vendor/Dockerfile", "tools/vendor/github.com/c/Dockerfile"}},
		{"vendor named", []string{"vendor/github.com/a"}, []string{"vendor/github.com/a/b/Dockerfile"}},
		{"node_modules named", []string{"web/node_modules"}, []string{"web/node_modules/pkg/Dockerfile"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := discover(files, scope{paths: tc.paths}, &Config{}, isSource)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
		})
	}
}
