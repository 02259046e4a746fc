package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gopkg.in/yaml.v3"

	"github.com/imagelock/imagelock/rewrite"
)

// The pre-commit hook runs verify when a file of any source kind, the
// lock or its config changes, and not for other files.
func TestPreCommitFiles(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../.pre-commit-hooks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var hooks []struct {
		ID            string `yaml:"id"`
		Language      string `yaml:"language"`
		Entry         string `yaml:"entry"`
		Files         string `yaml:"files"`
		PassFilenames *bool  `yaml:"pass_filenames"`
	}
	if err := yaml.Unmarshal(data, &hooks); err != nil {
		t.Fatal(err)
	}
	if len(hooks) != 1 || hooks[0].ID != "imagelock-verify" || hooks[0].Language != "golang" ||
		hooks[0].Entry != "imagelock verify --offline" || hooks[0].PassFilenames == nil || *hooks[0].PassFilenames {
		t.Fatalf("hooks = %+v, want one imagelock-verify hook, language golang, entry 'imagelock verify --offline', pass_filenames false", hooks)
	}
	files := regexp.MustCompile(hooks[0].Files)
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"Dockerfile", true},
		{"build/Containerfile", true},
		{"ci/build.Dockerfile", true},
		{"app.dockerfile", true},
		{"Dockerfile.dev", true},
		{"Dockerfile-chroot", true},
		{".devcontainer/go/devcontainer.json", true},
		{".devcontainer.json", true},
		{"deploy/quadlet/web.container", true},
		{"fedora.image", true},
		{"docker-bake.override.hcl", true},
		{"ci/docker-bake.json", true},
		{"compose.yaml", true},
		{"deploy/docker-compose.prod.yml", true},
		{".github/workflows/ci.yml", true},
		{".gitlab-ci.yml", true},
		{"k8s/kustomization.yaml", true},
		{"k8s/Kustomization", true},
		{"charts/app/values.yaml", true},
		{"deploy/pod.json", true},
		{".env", true},
		{"images.lock", true},
		{".imagelock.toml", true},
		{"main.go", false},
		{"go.mod", false},
		{"README.md", false},
		{"docs/Dockerfile.md/notes.txt", false},
		{"old-images.lock.bak", false},
	} {
		if got := files.MatchString(tc.path); got != tc.want {
			t.Errorf("files matches %q = %v, want %v", tc.path, got, tc.want)
		}
		if _, _, ok := rewrite.FinderFor(tc.path); ok && !tc.want {
			t.Errorf("%q is a source, but the case says the hook skips it", tc.path)
		}
	}
	// Every kind imagelock reads, by the table the router uses.
	for _, k := range rewrite.Kinds {
		if !files.MatchString(k.Sample) {
			t.Errorf("the hook's files pattern misses %s files such as %s", k.Kind, k.Sample)
		}
	}
}

// The README's "What it reads" table is rewrite.Kinds, row for row;
// -update rewrites it.
func TestREADMEKinds(t *testing.T) {
	t.Parallel()
	const path = "../../README.md"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	const open, end = "<!-- kinds: generated from rewrite.Kinds; go test ./cmd/imagelock -run TestREADMEKinds -update -->\n", "<!-- /kinds -->\n"
	i, j := strings.Index(s, open), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %q ... %q section", open, end)
	}
	got, want := s[i+len(open):j], kindsMarkdown()
	if got == want {
		return
	}
	if *updateGolden {
		if err := os.WriteFile(path, []byte(s[:i+len(open)]+want+s[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's kinds table is not rewrite.Kinds (-want +got):\n%s", cmp.Diff(want, got))
}
