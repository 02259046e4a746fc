package workflow_test

import (
	"context"
	"strings"
	"testing"

	"github.com/imagelock/imagelock/resolve"
	"github.com/imagelock/imagelock/workflow"
)

// The files .gitlab-ci.yml includes are read as GitLab CI, whatever
// their names: pin writes into them, a file that is also read on its own
// gives each reference once, and a variable's value that ends an image
// and is read nowhere else is pinned where it is defined, in the file
// that defines it; one read elsewhere too, after the image that uses it.
func TestGitLabIncludesPinInTheIncludedFile(t *testing.T) {
	t.Parallel()
	f := &resolve.Fake{}
	images := []string{"golang:1.26", "postgres:16", "alpine:3.20", "docker:27.3", "docker:27.3-dind"}
	for i, img := range images {
		f.SetImage(key(img), digest(t, string(rune('1'+i))))
	}
	dir := tree(t, map[string]string{
		".gitlab-ci.yml": "include:\n  - local: .gitlab/ci/build.yml\n  - /ci/deploy.gitlab-ci.yml\n  - project: acme/templates\n    file: /docker.yml\n" +
			"variables:\n  DOCKER_VERSION: \"27.3\"\n  GO_IMAGE: golang:1.26\ntest:\n  extends: .go\n  script: [go test ./...]\n",
		".gitlab/ci/build.yml":    ".go:\n  image: ${GO_IMAGE}\n  services: [postgres:16]\nbuild:\n  image: docker:$DOCKER_VERSION\n  services: ['docker:${DOCKER_VERSION}-dind']\n",
		"ci/deploy.gitlab-ci.yml": "deploy:\n  image: alpine:3.20\n  script: [./deploy]\n",
	})
	pinned := roundTrip(t, f, dir)
	for file, want := range map[string]string{
		".gitlab/ci/build.yml":    "  image: docker:$DOCKER_VERSION@" + digest(t, "4").String() + "\n",
		"ci/deploy.gitlab-ci.yml": "  image: alpine:3.20@" + digest(t, "3").String() + "\n",
		".gitlab-ci.yml":          "  GO_IMAGE: golang:1.26@" + digest(t, "1").String() + "\n",
	} {
		if !strings.Contains(pinned[file], want) {
			t.Errorf("pinned %s:\n%s\nwant a line %q", file, pinned[file], want)
		}
	}
	if want := "'docker:${DOCKER_VERSION}-dind@" + digest(t, "5").String() + "'"; !strings.Contains(pinned[".gitlab/ci/build.yml"], want) {
		t.Errorf("pinned build.yml:\n%s\nwant %s", pinned[".gitlab/ci/build.yml"], want)
	}
	l, err := workflow.List(context.Background(), workflow.Options{Dir: dir, Resolver: f})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Refs) != len(images) {
		t.Errorf("list finds %d references, want %d: %+v", len(l.Refs), len(images), l.Refs)
	}
}

// Every CI system's file takes part in lock, pin and unpin.
func TestCIKindsRoundTrip(t *testing.T) {
	t.Parallel()
	f := &resolve.Fake{}
	images := []string{"golang:1.26", "node:22", "postgres:16", "python:3.13", "cimg/go:1.23", "mcr.microsoft.com/dotnet/sdk:9.0", "redis:7"}
	for i, img := range images {
		f.SetImage(key(img), digest(t, string(rune('1'+i))))
	}
	dir := tree(t, map[string]string{
		"cloudbuild.yaml":         "steps:\n  - name: golang:1.26\n    args: [go, test]\n",
		".woodpecker/test.yaml":   "x: &node node:22\nsteps:\n  a: {image: *node}\n  b: {image: *node}\n",
		".drone.yml":              "kind: pipeline\nservices:\n- name: db\n  image: postgres:16\n---\nkind: pipeline\nsteps:\n- name: t\n  image: golang:1.26\n",
		"bitbucket-pipelines.yml": "image: python:3.13\npipelines:\n  default:\n    - step:\n        script:\n          - pipe: docker://redis:7\n",
		".circleci/config.yml":    "version: 2.1\njobs:\n  t:\n    docker:\n      - image: cimg/go:1.23\n",
		"azure-pipelines.yml":     "resources:\n  containers:\n    - container: sdk\n      image: mcr.microsoft.com/dotnet/sdk:9.0\njobs:\n  - job: a\n    container: sdk\n",
	})
	pinned := roundTrip(t, f, dir)
	if want := "x: &node node:22@" + digest(t, "2").String() + "\n"; !strings.Contains(pinned[".woodpecker/test.yaml"], want) {
		t.Errorf("pinned .woodpecker/test.yaml:\n%s\nwant a line %q", pinned[".woodpecker/test.yaml"], want)
	}
}
