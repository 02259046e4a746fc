package rewrite

import (
	"errors"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestFindGitHubActions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, path, src string
		want, warns     []string
	}{
		{
			name: "workflow",
			path: ".github/workflows/ci.yml",
			src: `on: push
jobs:
  test:
    runs-on: ubuntu-latest
    container: golang:1.26 # build image
    services:
      db:
        image: "postgres:16"
        env: {image: not-an-image}
      cache: {image: 'redis:7'}
    steps:
      - uses: actions/checkout@v4
      - uses: docker://alpine:3.20
        with: {args: echo hi}
      - run: docker run busybox:1
  lint:
    container:
      image: ghcr.io/acme/lint:2
      options: --user 1001
  matrix:
    container: ${{ matrix.image }}
`,
			want:  []string{"5:16 golang:1.26", "8:17 postgres:16", "10:23 redis:7", "13:24 alpine:3.20", "18:14 ghcr.io/acme/lint:2"},
			warns: []string{".github/workflows/ci.yml:21: image ${{ matrix.image }} uses an expression, skipped"},
		},
		{
			name: "docker action",
			path: "action.yml",
			src:  "name: hello\nruns:\n  using: docker\n  image: 'docker://ghcr.io/acme/hello:1.0'\n",
			want: []string{"4:20 ghcr.io/acme/hello:1.0"},
		},
		{
			name: "action built from its Dockerfile",
			path: "action.yaml",
			src:  "runs:\n  using: docker\n  image: Dockerfile\n",
		},
		{
			name: "composite action",
			path: "tools/action.yml",
			src:  "runs:\n  using: composite\n  steps:\n    - uses: docker://busybox:1.36\n    - uses: ./local\n",
			want: []string{"4:22 busybox:1.36"},
		},
		{
			name: "empty workflow",
			path: ".github/workflows/empty.yml",
			src:  "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := fstest.MapFS{tt.path: {Data: []byte(tt.src)}}
			refs, warns, err := findIn(t, files, tt.path, GitHubActions)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, brief(t, files, refs)); diff != "" {
				t.Errorf("refs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.warns, warnings(warns)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFindGitHubActionsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src, want string }{
		{"malformed", "jobs:\n  a:\n    container: [x\n", ".github/workflows/ci.yml:2: parsing YAML: did not find expected ',' or ']'"},
		{"not a mapping", "just a string\n", ".github/workflows/ci.yml:1:1: the workflow is not a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := fstest.MapFS{".github/workflows/ci.yml": {Data: []byte(tt.src)}}
			_, _, err := findIn(t, files, ".github/workflows/ci.yml", GitHubActions)
			var e *Error
			if !errors.As(err, &e) || err.Error() != tt.want {
				t.Errorf("err = %v, want %s", err, tt.want)
			}
		})
	}
}

func TestGitHubActionsGolden(t *testing.T) {
	t.Parallel()
	runGolden(t, "../testdata/actions", FindGitHubActions, "workflow.yml")
}
