package rewrite

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// digestA is a well-formed digest for tests that pin.
var digestA = "sha256:" + strings.Repeat("a", 64)

func TestFindKustomize(t *testing.T) {
	t.Parallel()
	src := `resources: [deploy.yaml]
images:
  - name: nginx
    newTag: "1.25"
  - name: redis
    newName: ghcr.io/acme/redis
    newTag: 7
    digest: ` + digestA + `
  - name: busybox
    digest: ` + digestA + `
  - name: postgres
    newName: my/postgres
  - {name: caddy, newTag: '2'}
labels:
  - pairs: {image: nope}
`
	files := fstest.MapFS{"kustomization.yaml": {Data: []byte(src)}}
	refs, warns, err := findIn(t, files, "kustomization.yaml", Kustomize)
	if err != nil {
		t.Fatal(err)
	}
	wantWarns := []string{"kustomization.yaml:12: images: postgres is renamed my/postgres at the tag of manifests imagelock does not read from here (a directory, a remote or missing resource): there, postgres is locked, not the my/postgres the build pulls; give the entry a newTag, or write the tag in name (postgres:<tag>)"}
	if diff := cmp.Diff(wantWarns, warnings(warns)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	want := []string{
		"4:14 nginx:1.25 field",
		"7:13 ghcr.io/acme/redis:7@" + digestA + " field",
		"9:11 busybox@" + digestA + " field",
		"13:28 caddy:2 field",
	}
	if diff := cmp.Diff(want, brief(t, files, refs)); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
}

// TestDigestFieldEdits pins and unpins single entries, in the layouts a
// digest field can take.
func TestDigestFieldEdits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, src, pinned, unpinned string
	}{
		{
			name:     "kustomize block inserts after newTag",
			file:     "kustomization.yaml",
			src:      "images:\n- name: nginx\n  newTag: \"1.25\" # web\n  newName: my/nginx\n",
			pinned:   "images:\n- name: nginx\n  newTag: \"1.25\" # web\n  digest: " + digestA + "\n  newName: my/nginx\n",
			unpinned: "images:\n- name: nginx\n  newTag: \"1.25\" # web\n  newName: my/nginx\n",
		},
		{
			name:     "kustomize last line without a line break",
			file:     "kustomization.yaml",
			src:      "images:\r\n- name: nginx\r\n  newTag: 1.25",
			pinned:   "images:\r\n- name: nginx\r\n  newTag: 1.25\r\n  digest: " + digestA,
			unpinned: "images:\r\n- name: nginx\r\n  newTag: 1.25",
		},
		{
			name:     "kustomize digest first in its entry",
			file:     "kustomization.yaml",
			src:      "images:\n- digest: sha256:" + strings.Repeat("b", 64) + "\n  name: nginx\n  newTag: \"1\"\n",
			pinned:   "images:\n- digest: " + digestA + "\n  name: nginx\n  newTag: \"1\"\n",
			unpinned: "images:\n- name: nginx\n  newTag: \"1\"\n",
		},
		{
			name:     "kustomize flow entry",
			file:     "kustomization.yaml",
			src:      "images: [{name: nginx, newTag: '1'}]\n",
			pinned:   "images: [{name: nginx, newTag: '1', digest: " + digestA + "}]\n",
			unpinned: "images: [{name: nginx, newTag: '1'}]\n",
		},
		{
			name:     "kustomize flow entry, digest first",
			file:     "kustomization.yaml",
			src:      "images: [{digest: " + digestA + ",  name: nginx, newTag: '1'}]\n",
			pinned:   "images: [{digest: " + digestA + ",  name: nginx, newTag: '1'}]\n",
			unpinned: "images: [{name: nginx, newTag: '1'}]\n",
		},
		{
			name:     "helm empty quoted digest",
			file:     "values.yaml",
			src:      "image:\n  repository: nginx\n  tag: 1.25\n  digest: \"\"\n",
			pinned:   "image:\n  repository: nginx\n  tag: 1.25\n  digest: \"" + digestA + "\"\n",
			unpinned: "image:\n  repository: nginx\n  tag: 1.25\n  digest: \"\"\n",
		},
		{
			name:     "helm null digest",
			file:     "values.yaml",
			src:      "image:\n  repository: nginx\n  digest:\n  tag: 1.25\n",
			pinned:   "image:\n  repository: nginx\n  digest: " + digestA + "\n  tag: 1.25\n",
			unpinned: "image:\n  repository: nginx\n  digest:\n  tag: 1.25\n",
		},
		{
			name:     "helm without a digest key",
			file:     "values.yaml",
			src:      "image: {repository: nginx, tag: '1.25'}\n",
			pinned:   "image: {repository: nginx, tag: '1.25@" + digestA + "'}\n",
			unpinned: "image: {repository: nginx, tag: '1.25'}\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := fstest.MapFS{tt.file: {Data: []byte(tt.src)}, "Chart.yaml": {Data: []byte("name: c\n")}}
			_, find, _ := FinderFor(tt.file)
			refs, _, err := find(Input{FS: files, Path: tt.file, Src: []byte(tt.src)})
			if err != nil || len(refs) != 1 {
				t.Fatalf("got %v, %v; want one reference", refs, err)
			}
			edits, err := PinEdits([]byte(tt.src), refs[0], digestA)
			if err != nil {
				t.Fatal(err)
			}
			pinned, err := Splice([]byte(tt.src), edits)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.pinned, string(pinned)); diff != "" {
				t.Errorf("pinned (-want +got):\n%s", diff)
			}
			refs, _, err = find(Input{FS: files, Path: tt.file, Src: pinned})
			if err != nil || len(refs) != 1 {
				t.Fatalf("pinned: got %v, %v; want one reference", refs, err)
			}
			edits, err = UnpinEdits(pinned, refs[0])
			if err != nil {
				t.Fatal(err)
			}
			unpinned, err := Splice(pinned, edits)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.unpinned, string(unpinned)); diff != "" {
				t.Errorf("unpinned (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKustomizeGolden(t *testing.T) {
	t.Parallel()
	runGolden(t, "../testdata/kustomize", FindKustomize, "kustomization.yaml")
}
