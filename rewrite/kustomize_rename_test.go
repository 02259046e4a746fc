package rewrite

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// An entry with newName alone for an untagged name renames the images of
// the manifests: those listed as files are read, and their references
// come back as the build pulls them; a resource not read is a warning.
func TestKustomizeRenamesManifests(t *testing.T) {
	t.Parallel()
	deployment := `apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - image: postgres:16
        - image: postgres
        - image: postgresql:1
        - image: nginx:1.27
`
	kustomization := `resources:
  - deploy/deployment.yaml
images:
  - name: postgres
    newName: my/postgres
`
	for _, tc := range []struct {
		name, extra string
		warn        bool
	}{
		{"files only", "", false},
		{"and a directory", "  - ../base\n", true},
		{"and a remote resource", "  - https://github.com/acme/base?ref=v1\n", true},
		{"and a missing file", "  - missing.yaml\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k := strings.Replace(kustomization, "images:", tc.extra+"images:", 1)
			files := fstest.MapFS{
				"app/kustomization.yaml":        {Data: []byte(k)},
				"app/deploy/deployment.yaml":    {Data: []byte(deployment)},
				"base/kustomization.yaml":       {Data: []byte("resources: [d.yaml]\n")},
				"app/deploy/not-a-manifest.txt": {Data: []byte("x")},
			}
			refs, warns, err := FindKustomize(Input{FS: files, Path: "app/kustomization.yaml", Src: []byte(k)})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range refs {
				got = append(got, r.Pos()+" "+r.Image+" "+r.Written)
				if !r.Renamed {
					t.Errorf("%s: not marked Renamed", r.Pos())
				}
			}
			want := []string{
				"app/deploy/deployment.yaml:7:18 my/postgres:16 postgres:16",
				"app/deploy/deployment.yaml:8:18 my/postgres postgres",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("refs (-want +got):\n%s", diff)
			}
			if got := len(warns) == 1 && strings.HasPrefix(warns[0].String(), "app/kustomization.yaml:6: images: postgres is renamed my/postgres"); got != tc.warn {
				t.Errorf("warnings = %v, want a warning: %v", warns, tc.warn)
			}
		})
	}
}

// A digest field that unpin could not give back byte for byte is not
// edited: the reference is locked and verified, and pin says how to write
// the field instead (found by FuzzYAMLPinSplice; the inputs are kept). The
// run goes on: these were errors that stopped it.
func TestOddDigestFieldsAreLockedNotPinned(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, path, src, image, why string
		find                        Finder
	}{
		{"kustomize block", "kustomization.yaml", "images:\n  - name: nginx\n    newTag: \"1.25\"\n    digest: >-\n      " + digestA + "\n",
			"nginx:1.25@" + digestA, "is written as a block", FindKustomize},
		{"kustomize key without colon", "kustomization.yaml", "images:\n- {name: nginx, newTag: \"1.25\", digest}\n",
			"nginx:1.25", "has no value and no colon", FindKustomize},
		{"kustomize bare", "kustomization.yaml", "images:\n- name: nginx\n  newTag: \"1.25\"\n  digest:\n",
			"nginx:1.25", "is empty; write it digest: \"\"", FindKustomize},
		{"kustomize tilde", "kustomization.yaml", "images:\n- name: nginx\n  newTag: \"1.25\"\n  digest: ~\n",
			"nginx:1.25", "is null (~)", FindKustomize},
		{"helm null word", "values.yaml", "image:\n  repository: nginx\n  tag: \"1.25\"\n  digest: null\n",
			"nginx:1.25", "is null (null)", FindHelmValues},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refs, _, err := tc.find(Input{Path: tc.path, Src: []byte(tc.src), Declared: true})
			if err != nil {
				t.Fatalf("err = %v, want the reference and no error", err)
			}
			if len(refs) != 1 {
				t.Fatalf("refs = %+v, want one", refs)
			}
			r := refs[0]
			if r.Image != tc.image || r.Style != External || !strings.Contains(r.NoPin, tc.why) {
				t.Errorf("ref = %s %v %q, want %s External with a reason containing %q", r.Image, r.Style, r.NoPin, tc.image, tc.why)
			}
		})
	}
}

// An entry that sets the whole image (newName with newTag or digest, or
// newTag alone) replaces the manifests' image: their references come back
// marked Replaced, and a resource not read is no warning.
func TestKustomizeReplacesManifests(t *testing.T) {
	t.Parallel()
	deployment := `apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - image: web-image
        - image: redis:6
        - image: redis-exporter:1
        - image: nginx:1.27
`
	kustomization := `resources:
  - deploy.yaml
  - ../base
images:
  - name: web-image
    newName: registry.example.com/web
    newTag: "2.1"
  - name: redis
    newTag: "7.2"
`
	files := fstest.MapFS{
		"app/kustomization.yaml": {Data: []byte(kustomization)},
		"app/deploy.yaml":        {Data: []byte(deployment)},
	}
	refs, warns, err := FindKustomize(Input{FS: files, Path: "app/kustomization.yaml", Src: []byte(kustomization)})
	if err != nil || len(warns) > 0 {
		t.Fatalf("err = %v, warnings = %v; want neither", err, warns)
	}
	var got []string
	for _, r := range refs {
		got = append(got, fmt.Sprintf("%s %s replaced=%v", r.Pos(), r.Image, r.Replaced))
	}
	want := []string{
		"app/kustomization.yaml:7:14 registry.example.com/web:2.1 replaced=false",
		"app/kustomization.yaml:9:14 redis:7.2 replaced=false",
		"app/deploy.yaml:7:18 web-image replaced=true",
		"app/deploy.yaml:8:18 redis:6 replaced=true",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
}
