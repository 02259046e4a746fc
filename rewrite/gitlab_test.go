package rewrite

import (
	"errors"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestFindGitLabCI(t *testing.T) {
	t.Parallel()
	src := `image: ruby:3.3
services:
  - postgres:16
variables:
  image: not-an-image
  IMAGE: $CI_REGISTRY_IMAGE
default:
  image:
    name: "node:22"
    entrypoint: [""]
  services:
    - name: redis:7
      alias: cache
.template: &tpl
  image: alpine:3.20
build:
  <<: *tpl
  stage: build
  script:
    - docker build -t busybox:1 .
    - echo image: nope:1
test:
  image: $CI_REGISTRY_IMAGE/test:latest
  services: ['docker:27-dind']
stages: [build, test]
`
	files := fstest.MapFS{".gitlab-ci.yml": {Data: []byte(src)}}
	refs, warns, err := findIn(t, files, ".gitlab-ci.yml", GitLabCI)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1:8 ruby:3.3", "3:5 postgres:16", "9:12 node:22", "12:13 redis:7", "15:10 alpine:3.20", "24:15 docker:27-dind"}
	if diff := cmp.Diff(want, brief(t, files, refs)); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
	wantWarns := []string{".gitlab-ci.yml:23: image $CI_REGISTRY_IMAGE/test:latest uses a CI variable, skipped"}
	if diff := cmp.Diff(wantWarns, warnings(warns)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestFindGitLabCIErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src, want string }{
		{"malformed", "build:\n  image: \"x\n", ".gitlab-ci.yml:2: parsing YAML: found unexpected end of stream"},
		{"not a mapping", "- a\n- b\n", ".gitlab-ci.yml:1: the pipeline is not a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := fstest.MapFS{".gitlab-ci.yml": {Data: []byte(tt.src)}}
			_, _, err := findIn(t, files, ".gitlab-ci.yml", GitLabCI)
			var e *Error
			if !errors.As(err, &e) || err.Error() != tt.want {
				t.Errorf("err = %v, want %s", err, tt.want)
			}
		})
	}
}

func TestGitLabCIGolden(t *testing.T) {
	t.Parallel()
	runGolden(t, "../testdata/gitlab", FindGitLabCI, ".gitlab-ci.yml")
}
