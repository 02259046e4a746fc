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
