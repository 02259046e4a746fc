package main

import (
	"os"
	"regexp"
	"testing"

	"gopkg.in/yaml.v3"
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
		{"compose.yaml", true},
		{"deploy/docker-compose.prod.yml", true},
		{".github/workflows/ci.yml", true},
		{".gitlab-ci.yml", true},
		{"k8s/kustomization.yaml", true},
		{"charts/app/values.yaml", true},
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
	}
}
