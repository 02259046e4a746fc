package rewrite

import (
	"errors"
	"fmt"
	"strings"
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
	wantWarns := []string{".gitlab-ci.yml:23: image $CI_REGISTRY_IMAGE/test:latest uses CI variable CI_REGISTRY_IMAGE, which has no one literal value in a top-level variables: (it is set at run time, by a job, or twice), skipped"}
	if diff := cmp.Diff(wantWarns, warnings(warns)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestFindGitLabCIErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src, want string }{
		{"malformed", "build:\n  image: \"x\n", ".gitlab-ci.yml:2: parsing YAML: found unexpected end of stream"},
		{"not a mapping", "- a\n- b\n", ".gitlab-ci.yml:1:1: the pipeline is not a mapping"},
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

// The local files a pipeline includes are read as GitLab CI, with their
// own includes, each once; remote, project and template includes, and
// paths that use a variable or are missing, are not read.
func TestFindGitLabCIIncludes(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{
		".gitlab-ci.yml": {Data: []byte("include:\n  - local: /ci/a.yml\n  - ci/b.yml\n  - https://example.com/c.yml\n  - template: Jobs/Build.gitlab-ci.yml\n  - local: ci/$ENV.yml\n  - local: ci/missing.yml\n  - local: ../outside.yml\n  - local: 'more/*.yml'\nimage: ruby:3.3\n")},
		"ci/a.yml":       {Data: []byte("include: {local: ci/b.yml}\na:\n  image: alpine:3.20\n")},
		"ci/b.yml":       {Data: []byte("include: /.gitlab-ci.yml\n.b:\n  services: [{name: 'redis:7'}]\n")},
		"more/c.yml":     {Data: []byte("c:\n  image: busybox:1.37\n")},
		"more/d.yml":     {Data: []byte("d:\n  image: $TOOL\nvariables:\n  TOOL: node:22\n")},
	}
	refs, warns, err := findIn(t, files, ".gitlab-ci.yml", GitLabCI)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range refs {
		got = append(got, r.File+":"+brief(t, files, []Ref{r})[0])
	}
	want := []string{".gitlab-ci.yml:10:8 ruby:3.3", "ci/a.yml:3:10 alpine:3.20", "ci/b.yml:3:22 redis:7", "more/c.yml:2:10 busybox:1.37", "more/d.yml:4:9 node:22 var=TOOL"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
	wantWarns := []string{
		".gitlab-ci.yml:6: include ci/$ENV.yml uses a CI variable, not read",
		".gitlab-ci.yml:7: include ci/missing.yml is not in the scanned tree, not read",
		".gitlab-ci.yml:8: include ../outside.yml is outside the scanned tree, not read",
	}
	if diff := cmp.Diff(wantWarns, warnings(warns)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

// A malformed included file is an error that names it.
func TestFindGitLabCIIncludeMalformed(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{
		".gitlab-ci.yml": {Data: []byte("include: ci/a.yml\n")},
		"ci/a.yml":       {Data: []byte("a:\n  image: \"x\n")},
	}
	_, _, err := findIn(t, files, ".gitlab-ci.yml", GitLabCI)
	if want := "ci/a.yml:2: parsing YAML: found unexpected end of stream"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

// A variable's value pins one image: where it ends two images, or is
// read by a script too, each image is pinned after its own text.
func TestFindGitLabCIVariableSharedIsPinnedAtTheImage(t *testing.T) {
	t.Parallel()
	src := "variables:\n  V: '3.20'\n  W: '7'\na:\n  image: alpine:$V\nb:\n  image: busybox:$V\nc:\n  image: redis:$W\n  script: [echo $W]\n"
	files := fstest.MapFS{".gitlab-ci.yml": {Data: []byte(src)}}
	refs, warns, err := findIn(t, files, ".gitlab-ci.yml", GitLabCI)
	if err != nil || len(warns) != 0 {
		t.Fatal(err, warns)
	}
	want := []string{"5:10 alpine:3.20", "7:10 busybox:3.20", "9:10 redis:7"}
	if diff := cmp.Diff(want, brief(t, files, refs)); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
}

// Two variables that alias one value, or an empty value, pin nothing at
// the value.
func TestFindGitLabCIVariableEdges(t *testing.T) {
	t.Parallel()
	src := "variables:\n  A: &v '1'\n  B: *v\n  E: ''\na:\n  image: a:$A\nb:\n  image: b:$B\nc:\n  image: c:$E\n"
	files := fstest.MapFS{".gitlab-ci.yml": {Data: []byte(src)}}
	refs, warns, err := findIn(t, files, ".gitlab-ci.yml", GitLabCI)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"6:10 a:1", "8:10 b:1"}, brief(t, files, refs)); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
	if len(warns) != 1 {
		t.Errorf("warnings = %v, want one for E", warns)
	}
}

// Variables that each read the next eight times would expand to 8^8
// bytes: each is expanded once, and a value past the expansion bound
// counts as no value, so the image is a warning naming a variable
// instead of a run that takes seconds and hundreds of megabytes.
func TestGitLabNestedVariablesAreBounded(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("variables:\n")
	names := "ABCDEFGHI"
	for i := 0; i < len(names)-1; i++ {
		fmt.Fprintf(&b, "  %c: %q\n", names[i], strings.Repeat("$"+names[i+1:i+2], 8))
	}
	b.WriteString("  I: x\nbuild:\n  image: alpine:$A\n")
	refs, warns, err := FindGitLabCI(Input{Path: ".gitlab-ci.yml", Src: []byte(b.String())})
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 0 {
		t.Errorf("refs = %d, the first %.80q; want none", len(refs), refs[0].Image)
	}
	if len(warns) != 1 || !strings.Contains(warns[0].Msg, "$") {
		t.Errorf("warnings = %v, want one naming a variable without a value", warns)
	}
}
