package workflow_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imagelock/imagelock/resolve"
	"github.com/imagelock/imagelock/rewrite"
	"github.com/imagelock/imagelock/workflow"
)

// placeholders is a tree where every source but one names no image: docs
// and fixtures with placeholders, and a deliberately invalid tag.
var placeholders = map[string]string{
	"Dockerfile":                   "FROM alpine:3.20\n",
	"docs/Dockerfile":              "FROM REPLACE-ME\n",
	"docs/gcr/Dockerfile":          "FROM gcr.io/<project_id>/app\n",
	"docs/modules/Dockerfile":      "FROM [server-modules]\n",
	"docs/compose.yaml":            "services:\n  app:\n    image: <YOUR-CONTAINER>\n",
	"e2e/compose.yaml":             "services:\n  bad:\n    image: alpine:invalid!\n",
	"examples/Dockerfile.bare":     "FROM\n",
	"kustomize/kustomization.yaml": "images:\n- name: registry.example.com/app\n  newTag: APP_IMAGE_TAG\n",
}

func warningTexts(ws []rewrite.Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.String())
	}
	return out
}

// One line that names no image is a warning naming it; the run goes on.
func TestTextThatIsNoImageIsAWarning(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := tree(t, placeholders)
	f := &resolve.Fake{}
	f.SetImage(key("alpine:3.20"), digest(t, "a"))
	o := workflow.Options{Dir: dir, Resolver: f}

	ls, err := workflow.List(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls.Refs) != 1 || ls.Refs[0].File != "Dockerfile" {
		t.Errorf("list refs = %+v, want the one in Dockerfile", ls.Refs)
	}
	want := []string{
		`docs/Dockerfile:1: "REPLACE-ME" is not an image reference: fix it, or exclude the file in .imagelock.toml: exclude = ["docs/Dockerfile"]`,
		`docs/compose.yaml:3: "<YOUR-CONTAINER>" is not an image reference: fix it, or exclude the file in .imagelock.toml: exclude = ["docs/compose.yaml"]`,
		`docs/gcr/Dockerfile:1: "gcr.io/<project_id>/app" is not an image reference: fix it, or exclude the file in .imagelock.toml: exclude = ["docs/gcr/Dockerfile"]`,
		`docs/modules/Dockerfile:1: "[server-modules]" is not an image reference: fix it, or exclude the file in .imagelock.toml: exclude = ["docs/modules/Dockerfile"]`,
		`e2e/compose.yaml:3: "alpine:invalid!" is not an image reference: fix it, or exclude the file in .imagelock.toml: exclude = ["e2e/compose.yaml"]`,
		`examples/Dockerfile.bare:1: FROM names no image (write FROM <image> [AS <name>]): fix it, or exclude the file in .imagelock.toml: exclude = ["examples/Dockerfile.bare"]`,
		`kustomize/kustomization.yaml:3: "registry.example.com/app:APP_IMAGE_TAG" is not an image reference: its tag APP_IMAGE_TAG is a placeholder a script replaces: fix it, or exclude the file in .imagelock.toml: exclude = ["kustomize/kustomization.yaml"]`,
	}
	if diff := cmp.Diff(want, warningTexts(ls.Warnings)); diff != "" {
		t.Errorf("list warnings (-want +got):\n%s", diff)
	}

	res, err := workflow.Lock(ctx, o, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Images != 1 || len(res.Warnings) != len(want) {
		t.Errorf("lock = %d images, %d warnings; want 1 image and the %d warnings", res.Images, len(res.Warnings), len(want))
	}
	if lk := read(t, filepath.Join(dir, "images.lock")); !strings.Contains(lk, `"docker.io/library/alpine"`) {
		t.Errorf("the lock misses alpine:\n%s", lk)
	}
	if _, err := workflow.Pin(ctx, o, true); err != nil {
		t.Errorf("pin: %v", err)
	}
}

// verify passes over lines it could not check, and --strict fails on them.
func TestVerifyStrictFailsOnWarnings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	f.SetImage(key("alpine:3.20"), digest(t, "a"))
	for _, tc := range []struct {
		name        string
		files       map[string]string
		warn, fails bool
	}{
		{"no warnings", map[string]string{"Dockerfile": "FROM alpine:3.20\n"}, false, false},
		{"a placeholder", map[string]string{"Dockerfile": "FROM alpine:3.20\n", "docs/Dockerfile": "FROM REPLACE-ME\n"}, true, true},
		{"an unset variable", map[string]string{"Dockerfile": "FROM alpine:3.20\nFROM $BASE\n"}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := workflow.Options{Dir: tree(t, tc.files), Resolver: f}
			if _, err := workflow.Lock(ctx, o, false); err != nil {
				t.Fatal(err)
			}
			res, err := workflow.Verify(ctx, o, workflow.VerifyOptions{Offline: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(res.Warnings) > 0; got != tc.warn {
				t.Errorf("warnings = %v", res.Warnings)
			}
			if res.Failed(false) {
				t.Errorf("verify failed without --strict: %+v", res)
			}
			if got := res.Failed(true); got != tc.fails {
				t.Errorf("Failed(strict) = %v, want %v", got, tc.fails)
			}
		})
	}
}

// A compose build's Dockerfile is read twice, from the compose file and
// on its own; each of its lines warns once.
func TestWarningsOncePerLine(t *testing.T) {
	t.Parallel()
	dir := tree(t, map[string]string{
		"compose.yaml":   "services:\n  app:\n    build: app\n",
		"app/Dockerfile": "FROM REPLACE-ME\n",
	})
	ls, err := workflow.List(context.Background(), workflow.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(ls.Warnings) != 1 {
		t.Errorf("warnings = %q, want one", warningTexts(ls.Warnings))
	}
}

// lock names every image no registry has, with its places, writes
// nothing, and gives the ignore list that lets the next lock through.
func TestLockNamesEveryUnresolvedImage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	f.SetImage(key("alpine:3.20"), digest(t, "a"))
	for _, k := range []string{"myapp:dev", "ghcr.io/acme/fixture:1"} {
		f.SetError(key(k), &resolve.Error{Image: key(k).String(), Status: 404, Code: "MANIFEST_UNKNOWN"})
	}
	dir := tree(t, map[string]string{
		"Dockerfile":        "FROM alpine:3.20\n",
		"deploy/app.yaml":   "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: myapp:dev\n",
		"test/Dockerfile":   "FROM ghcr.io/acme/fixture:1\n",
		"test/compose.yaml": "services:\n  a:\n    image: myapp:dev\n",
	})
	o := workflow.Options{Dir: dir, Resolver: f}
	_, err := workflow.Lock(ctx, o, false)
	var ue *workflow.UnresolvedError
	if !errors.As(err, &ue) {
		t.Fatalf("lock = %v, want an *UnresolvedError", err)
	}
	want := `2 images are in no registry, so nothing was written:
  docker.io/library/myapp:dev: tag not found (MANIFEST_UNKNOWN)
      deploy/app.yaml:5:14
      test/compose.yaml:3:12
  ghcr.io/acme/fixture:1: tag not found (MANIFEST_UNKNOWN)
      test/Dockerfile:1:6
fix the names or tags; or, for images built here or that exist only in tests, add to .imagelock.toml:
ignore = ["myapp:dev", "ghcr.io/acme/fixture:1"]`
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(dir, "images.lock")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lock wrote images.lock: %v", err)
	}
	snippet := err.Error()[strings.LastIndex(err.Error(), "\n")+1:]
	if err := os.WriteFile(filepath.Join(dir, ".imagelock.toml"), []byte(snippet+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := workflow.Lock(ctx, o, false)
	if err != nil || res.Images != 1 {
		t.Errorf("lock with the ignore list = %+v, %v; want alpine alone", res, err)
	}
}

// A name compose gives a build as an additional context is no image, also
// where the walk reads the Dockerfile on its own; the image a
// docker-image:// context names is.
func TestComposeContextsAreNotLocked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	f.SetImage(key("alpine:3.20"), digest(t, "a"))
	dir := tree(t, map[string]string{
		"compose.yaml":   "services:\n  app:\n    build:\n      context: app\n      additional_contexts:\n        base: docker-image://alpine:3.20\n        src: ../src\n",
		"app/Dockerfile": "FROM base\nCOPY --from=src /a /b\nCOPY --from=alpine:3.20 /x /y\n",
	})
	o := workflow.Options{Dir: dir, Resolver: f}
	ls, err := workflow.List(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range ls.Refs {
		got = append(got, fmt.Sprintf("%s:%d:%d %s", r.File, r.Line, r.Col, r.Image))
	}
	if diff := cmp.Diff([]string{"app/Dockerfile:3:13 alpine:3.20", "compose.yaml:6:30 alpine:3.20"}, got); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	if res, err := workflow.Lock(ctx, o, false); err != nil || res.Images != 1 {
		t.Errorf("lock = %+v, %v; want alpine alone", res, err)
	}
}

// A kustomization that sets an image whole (newName and newTag): the
// lock has the entry's image alone, not the placeholder the manifest
// writes, and pin writes into the kustomization, not the manifest.
func TestKustomizeReplacedManifestImageNotLocked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	f.SetImage(key("registry.example.com/web:2.1"), digest(t, "c"))
	manifest := "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: web-image\n"
	dir := tree(t, map[string]string{
		"deploy/kustomization.yaml": "resources: [pod.yaml]\nimages:\n  - name: web-image\n    newName: registry.example.com/web\n    newTag: \"2.1\"\n",
		"deploy/pod.yaml":           manifest,
	})
	o := workflow.Options{Dir: dir, Resolver: f}
	ls, err := workflow.List(ctx, o)
	if err != nil || len(ls.Refs) != 1 || ls.Refs[0].File != "deploy/kustomization.yaml" {
		t.Fatalf("list = %+v, %v; want the kustomization's entry alone", ls, err)
	}
	if _, err := workflow.Lock(ctx, o, false); err != nil {
		t.Fatal(err)
	}
	if _, err := workflow.Pin(ctx, o, true); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "deploy/pod.yaml")); got != manifest {
		t.Errorf("pin changed the manifest:\n%s", got)
	}
	if got := read(t, filepath.Join(dir, "deploy/kustomization.yaml")); !strings.Contains(got, "digest: "+digest(t, "c").String()) {
		t.Errorf("pin wrote no digest into the kustomization:\n%s", got)
	}
}

// A kustomization that renames an image without a tag: the lock has what
// the build pulls, newName at the manifest's tag, never the name the
// manifest writes; pin writes that digest into the manifest.
func TestKustomizeRenameLocksNewName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	f.SetImage(key("registry.example.com/postgres:16"), digest(t, "b"))
	manifest := "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: postgres:16\n"
	dir := tree(t, map[string]string{
		"deploy/kustomization.yaml": "resources: [pod.yaml]\nimages:\n  - name: postgres\n    newName: registry.example.com/postgres\n",
		"deploy/pod.yaml":           manifest,
	})
	o := workflow.Options{Dir: dir, Resolver: f}
	res, err := workflow.Lock(ctx, o, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Images != 1 || len(res.Warnings) != 0 {
		t.Errorf("lock = %+v", res)
	}
	lk := read(t, filepath.Join(dir, "images.lock"))
	if !strings.Contains(lk, `name = "registry.example.com/postgres"`) || strings.Contains(lk, "library/postgres") {
		t.Errorf("the lock should have the renamed image alone:\n%s", lk)
	}
	if _, err := workflow.Pin(ctx, o, true); err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(manifest, "postgres:16", "postgres:16@"+digest(t, "b").String(), 1)
	if got := read(t, filepath.Join(dir, "deploy/pod.yaml")); got != want {
		t.Errorf("pinned manifest:\n%s\nwant:\n%s", got, want)
	}
	v, err := workflow.Verify(ctx, o, workflow.VerifyOptions{Offline: true})
	if err != nil || v.Failed(true) {
		t.Errorf("verify after pin = %+v, %v", v, err)
	}
	if _, err := workflow.Unpin(ctx, o, true); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "deploy/pod.yaml")); got != manifest {
		t.Errorf("unpin gave\n%s\nwant\n%s", got, manifest)
	}
}

// A kustomization entry whose digest field unpin could not give back (a
// null ~) is locked, and pin leaves it alone with a warning that says how
// to write it, while pinning the rest of the tree.
func TestOddDigestFieldIsAWarningNotTheEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kust := "images:\n- name: nginx\n  newTag: \"1.25\"\n  digest: ~\n"
	dir := tree(t, map[string]string{
		"Dockerfile":                "FROM alpine:3.20\n",
		"deploy/kustomization.yaml": kust,
	})
	f := &resolve.Fake{}
	f.SetImage(key("alpine:3.20"), digest(t, "a"))
	f.SetImage(key("nginx:1.25"), digest(t, "b"))
	o := workflow.Options{Dir: dir, Resolver: f}
	if _, err := workflow.Lock(ctx, o, false); err != nil {
		t.Fatal(err)
	}
	if lk := read(t, filepath.Join(dir, "images.lock")); !strings.Contains(lk, `"docker.io/library/nginx"`) {
		t.Errorf("the lock misses nginx:\n%s", lk)
	}
	res, err := workflow.Pin(ctx, o, true)
	if err != nil {
		t.Fatalf("pin: %v", err)
	}
	want := `deploy/kustomization.yaml:3: the digest field of nginx:1.25 is null (~); write it digest: "" so imagelock can fill it and unpin can empty it`
	if got := warningTexts(res.Warnings); !slices.Contains(got, want) {
		t.Errorf("pin warnings = %q, want %q", got, want)
	}
	if got := read(t, filepath.Join(dir, "deploy/kustomization.yaml")); got != kust {
		t.Errorf("kustomization.yaml = %q, want it untouched", got)
	}
	if got := read(t, filepath.Join(dir, "Dockerfile")); !strings.Contains(got, "alpine:3.20@"+digest(t, "a").String()) {
		t.Errorf("Dockerfile = %q, want alpine pinned", got)
	}
}
