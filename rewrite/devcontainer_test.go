package rewrite

import (
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestDevcontainerGolden(t *testing.T) {
	t.Parallel()
	runGolden(t, "../testdata/devcontainer", FindDevcontainer, "devcontainer.json")
}

// A file that a devcontainer.json or a compose include names but the tree
// does not have (a template's placeholder, a file generated at build time)
// is a warning naming the line; the rest of the file is still read.
func TestMissingNamedFileIsAWarning(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, path, src, warn string
		find                  Finder
		refs                  []string
	}{
		{"devcontainer build.dockerfile", ".devcontainer/devcontainer.json",
			"{\n  \"build\": {\"dockerfile\": \"Dockerfile\"},\n  \"features\": {\"ghcr.io/devcontainers/features/go:1\": {}}\n}\n",
			".devcontainer/devcontainer.json:2: build.dockerfile .devcontainer/Dockerfile is not in the tree: its images are not locked",
			FindDevcontainer, []string{"3:17 ghcr.io/devcontainers/features/go:1 => ghcr.io/devcontainers/features/go:1"}},
		{"devcontainer dockerComposeFile", ".devcontainer/devcontainer.json",
			"{\n  \"dockerComposeFile\": [\"../docker-compose.yml\"],\n  \"image\": \"alpine:3\"\n}\n",
			".devcontainer/devcontainer.json:2: dockerComposeFile docker-compose.yml is not in the tree: its images are not locked",
			FindDevcontainer, []string{"3:13 alpine:3 => alpine:3"}},
		{"compose include", "compose.yaml",
			"include:\n  - other.yaml\nservices:\n  app:\n    image: alpine:3\n",
			"compose.yaml:2: included file other.yaml is not in the tree: its images are not locked",
			FindCompose, []string{"5:12 alpine:3 => alpine:3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refs, warns, err := tc.find(Input{FS: fstest.MapFS{tc.path: {Data: []byte(tc.src)}}, Path: tc.path, Src: []byte(tc.src)})
			if err != nil {
				t.Fatalf("err = %v, want a warning", err)
			}
			if diff := cmp.Diff(tc.refs, briefRefs(refs)); diff != "" {
				t.Errorf("refs (-want +got):\n%s", diff)
			}
			if got := briefWarnings(warns); len(got) != 1 || warns[0].String() != tc.warn {
				t.Errorf("warnings = %q, want %q", warns, tc.warn)
			}
		})
	}
}
