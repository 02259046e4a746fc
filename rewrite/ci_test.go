package rewrite

import (
	"errors"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestCIGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		dir, name string
		find      Finder
	}{
		{"cloudbuild", "cloudbuild.yaml", FindCloudBuild},
		{"woodpecker", ".woodpecker.yml", FindWoodpecker},
		{"drone", ".drone.yml", FindDrone},
		{"bitbucket", "bitbucket-pipelines.yml", FindBitbucket},
		{"circleci", "config.yml", FindCircleCI},
		{"azure", "azure-pipelines.yml", FindAzurePipelines},
		{"gitpod", ".gitpod.yml", FindGitpod},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			t.Parallel()
			runGolden(t, "../testdata/"+tc.dir, tc.find, tc.name)
		})
	}
}

func TestCIKindsRoute(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		path string
		want Kind
	}{
		{"cloudbuild.yaml", CloudBuild},
		{"deploy/cloudbuild-prod.yml", CloudBuild},
		{"cloudbuild.release.yaml", CloudBuild},
		{".woodpecker.yaml", Woodpecker},
		{".woodpecker/test.yml", Woodpecker},
		{"svc/.woodpecker/values.yaml", Woodpecker},
		{".drone.yml", Drone},
		{".gitpod.yml", Gitpod},
		{"sub/.gitpod.yaml", Gitpod},
		{"bitbucket-pipelines.yml", Bitbucket},
		{".circleci/config.yml", CircleCI},
		{"app/.circleci/config.yaml", CircleCI},
		{".circleci/other.yml", Kubernetes},
		{"config.yml", Kubernetes},
		{"azure-pipelines.yml", AzurePipelines},
		{".azure-pipelines/release.yaml", AzurePipelines},
		{"woodpecker/build.yml", Kubernetes},
	} {
		if kind, _, _ := FinderFor(tc.path); kind != tc.want {
			t.Errorf("FinderFor(%q) = %q, want %q", tc.path, kind, tc.want)
		}
	}
}

func TestCIErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, path, src, want string }{
		{"cloudbuild list", "cloudbuild.yaml", "- a\n", "cloudbuild.yaml:1:1: the build config is not a mapping"},
		{"drone second document", ".drone.yml", "kind: pipeline\n---\n- a\n", ".drone.yml:3:1: the pipeline is not a mapping"},
		{"circleci malformed", ".circleci/config.yml", "jobs:\n  a: [\n", ".circleci/config.yml:2: parsing YAML: did not find expected node content"},
		{"woodpecker multi-line image", ".woodpecker.yml", "steps:\n  a:\n    image: \"golang:\\\n      1.26\"\n", `.woodpecker.yml:3:12: "golang:1.26" is written across lines, as a block or with escapes; write it on one line, plain or quoted, so imagelock can edit it`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, find, _ := FinderFor(tt.path)
			_, _, err := find(Input{FS: fstest.MapFS{}, Path: tt.path, Src: []byte(tt.src)})
			var e *Error
			if !errors.As(err, &e) || err.Error() != tt.want {
				t.Errorf("err = %v, want %s", err, tt.want)
			}
		})
	}
}

// An alias of an anchored image is the anchor's one reference, however
// many steps use it, and its warning is given once.
func TestWoodpeckerAnchorOnce(t *testing.T) {
	t.Parallel()
	src := "x: &go golang:1.26\ny: &v ${GO}\nsteps:\n  a: {image: *go}\n  b: {image: *go}\n  c: {image: *v}\n  d: {image: *v}\n"
	files := fstest.MapFS{".woodpecker.yml": {Data: []byte(src)}}
	refs, warns, err := findIn(t, files, ".woodpecker.yml", Woodpecker)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1:8 golang:1.26"}, brief(t, files, refs)); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{".woodpecker.yml:2: image ${GO} uses a variable, skipped"}, warnings(warns)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}
