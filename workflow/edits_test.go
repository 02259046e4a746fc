package workflow_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imagelock/imagelock/internal/dirlock"
	"github.com/imagelock/imagelock/resolve"
	"github.com/imagelock/imagelock/workflow"
)

// snapshot reads every file of a tree, by slash path.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Type()&os.ModeSymlink != 0 {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = read(t, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// roundTrip locks, pins, and checks what DESIGN promises after pin: every
// source still parses with the same references, pin again changes
// nothing, the lock stays as it was on a re-lock, verify finds nothing,
// and unpin gives every file back byte for byte. It returns the pinned tree.
func roundTrip(t *testing.T, f resolve.Resolver, dir string) map[string]string {
	t.Helper()
	ctx := context.Background()
	o := workflow.Options{Dir: dir, Resolver: f}
	before := snapshot(t, dir)
	if _, err := workflow.Lock(ctx, o, false); err != nil {
		t.Fatal(err)
	}
	locked := read(t, filepath.Join(dir, "images.lock"))
	listed, err := workflow.List(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := workflow.Pin(ctx, o, true); err != nil {
		t.Fatalf("pin: %v", err)
	}
	pinned := snapshot(t, dir)
	again, err := workflow.List(ctx, o)
	if err != nil {
		t.Fatalf("list after pin: %v", err)
	}
	if len(again.Refs) != len(listed.Refs) || len(again.Warnings) != len(listed.Warnings) {
		t.Errorf("after pin, list finds %d references and %d warnings; before, %d and %d", len(again.Refs), len(again.Warnings), len(listed.Refs), len(listed.Warnings))
	}
	if res, err := workflow.Pin(ctx, o, true); err != nil || len(res.Changes) != 0 {
		t.Errorf("pin of the pinned tree = %v changes, %v; want none", res, err)
	}
	if _, err := workflow.Lock(ctx, o, false); err != nil {
		t.Fatalf("lock after pin: %v", err)
	}
	if got := read(t, filepath.Join(dir, "images.lock")); got != locked {
		t.Errorf("lock after pin changed the lock (-before +after):\n%s", cmp.Diff(locked, got))
	}
	v, err := workflow.Verify(ctx, o, workflow.VerifyOptions{Offline: true})
	if err != nil || len(v.Findings) != 0 {
		t.Errorf("verify after pin = %+v, %v; want no finding", v, err)
	}
	if _, err := workflow.Unpin(ctx, o, true); err != nil {
		t.Fatalf("unpin: %v", err)
	}
	after := snapshot(t, dir)
	delete(after, "images.lock")
	delete(before, "images.lock")
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("unpin did not give the tree back (-before +after):\n%s", diff)
	}
	return pinned
}

// A Dockerfile that compose builds with build args is read twice: on its
// own with its ARG defaults, and as compose builds it. Each view's image
// is pinned where its value is defined, so both builds stay valid.
func TestComposeBuildArgsPinWhereDefined(t *testing.T) {
	t.Parallel()
	a, b := digest(t, "a"), digest(t, "b")
	tests := []struct {
		name       string
		dockerfile string
		args       string
		images     map[string]v1.Hash
		// wantDockerfile and wantArgs are the pinned files' lines that
		// change; % stands for the digest.
		wantDockerfile, wantArgs string
	}{
		{
			name:           "the arg replaces the whole image",
			dockerfile:     "ARG BASE=golang:1.26\nFROM ${BASE}\n",
			args:           "        BASE: golang:1.25\n",
			images:         map[string]v1.Hash{"golang:1.26": a, "golang:1.25": b},
			wantDockerfile: "ARG BASE=golang:1.26@" + a.String() + "\nFROM ${BASE}\n",
			wantArgs:       "        BASE: golang:1.25@" + b.String() + "\n",
		},
		{
			name:           "the arg is the tag",
			dockerfile:     "ARG V=1.26\nFROM golang:${V}\n",
			args:           "        V: \"1.25\"\n",
			images:         map[string]v1.Hash{"golang:1.26": a, "golang:1.25": b},
			wantDockerfile: "ARG V=1.26@" + a.String() + "\nFROM golang:${V}\n",
			wantArgs:       "        V: \"1.25@" + b.String() + "\"\n",
		},
		{
			name:           "the arg is the tag, in list form",
			dockerfile:     "ARG V=1.26\nFROM golang:$V AS build\n",
			args:           "        - V=1.25\n",
			images:         map[string]v1.Hash{"golang:1.26": a, "golang:1.25": b},
			wantDockerfile: "ARG V=1.26@" + a.String() + "\nFROM golang:$V AS build\n",
			wantArgs:       "        - V=1.25@" + b.String() + "\n",
		},
		{
			name:           "the arg is the registry, and both registries serve the same digest",
			dockerfile:     "ARG REG=docker.io\nFROM ${REG}/library/golang:1.26\n",
			args:           "        REG: mirror.example\n",
			images:         map[string]v1.Hash{"golang:1.26": a, "mirror.example/library/golang:1.26": a},
			wantDockerfile: "ARG REG=docker.io\nFROM ${REG}/library/golang:1.26@" + a.String() + "\n",
			wantArgs:       "        REG: mirror.example\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &resolve.Fake{}
			for img, d := range tt.images {
				f.SetImage(key(img), d)
			}
			compose := "services:\n  app:\n    build:\n      context: .\n      args:\n" + tt.args
			dir := tree(t, map[string]string{"Dockerfile": tt.dockerfile, "compose.yaml": compose})
			pinned := roundTrip(t, f, dir)
			if diff := cmp.Diff(tt.wantDockerfile, pinned["Dockerfile"]); diff != "" {
				t.Errorf("pinned Dockerfile (-want +got):\n%s", diff)
			}
			wantCompose := "services:\n  app:\n    build:\n      context: .\n      args:\n" + tt.wantArgs
			if diff := cmp.Diff(wantCompose, pinned["compose.yaml"]); diff != "" {
				t.Errorf("pinned compose.yaml (-want +got):\n%s", diff)
			}
		})
	}
}

// Where compose's args change a part of the image that no variable ends
// (the registry), the Dockerfile and the compose build need different
// digests at one FROM: pin writes nothing and names both.
func TestPinConflictWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	f.SetImage(key("golang:1.26"), digest(t, "a"))
	f.SetImage(key("mirror.example/library/golang:1.26"), digest(t, "b"))
	f.SetImage(key("redis:7"), digest(t, "c"))
	dir := tree(t, map[string]string{
		"Dockerfile":   "ARG REG=docker.io\nFROM ${REG}/library/golang:1.26\n",
		"compose.yaml": "services:\n  app:\n    build:\n      context: .\n      args:\n        REG: mirror.example\n  db:\n    image: redis:7\n",
	})
	o := workflow.Options{Dir: dir, Resolver: f}
	if _, err := workflow.Lock(ctx, o, false); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	_, err := workflow.Pin(ctx, o, true)
	var ce *workflow.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("pin = %v, want a *ConflictError", err)
	}
	for _, want := range []string{
		"Dockerfile:2: two references need different text",
		"Dockerfile:2:6: docker.io/library/golang:1.26 needs",
		"Dockerfile:2:6 (as compose.yaml:4 builds it): mirror.example/library/golang:1.26 needs",
		digest(t, "a").String(), digest(t, "b").String(),
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
		t.Errorf("a failed pin changed files (-before +after):\n%s", diff)
	}
}

// An image written without a tag pulls latest. Pin writes name@digest
// (a tag added would not unpin to the input); the lock keeps tracking
// latest, every command still works, update moves the pin, and unpin
// gives the input back.
func TestPinUntaggedRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	images := []string{"gcr.io/distroless/base-debian12", "some/image", "mongo", "nginx", "alpine", "node", "redis"}
	for i, img := range images {
		f.SetImage(key(img), digest(t, string(rune('1'+i))))
	}
	dir := tree(t, map[string]string{
		"Dockerfile":                "FROM gcr.io/distroless/base-debian12\nCOPY --from=some/image /a /a\n",
		"compose.yaml":              "services:\n  db:\n    image: mongo\n  cache:\n    image: ${CACHE:-redis}\n",
		"deploy/app.yaml":           "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n    - name: app\n      image: nginx\n",
		".gitlab-ci.yml":            "image: alpine\ntest:\n  script: [true]\n",
		".github/workflows/ci.yaml": "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    container: node\n    steps:\n      - run: true\n",
	})
	pinned := roundTrip(t, f, dir)
	if want := "    image: mongo@" + digest(t, "3").String() + "\n"; !strings.Contains(pinned["compose.yaml"], want) {
		t.Errorf("pinned compose.yaml:\n%s\nwant a line %q", pinned["compose.yaml"], want)
	}
	lk := read(t, filepath.Join(dir, "images.lock"))
	for _, img := range images {
		if !strings.Contains(lk, "name = \""+key(img).Name+"\"\ntag = \"latest\"\n") {
			t.Errorf("the lock does not track %s at latest:\n%s", img, lk)
		}
	}

	// Pinned again, a moved latest is taken by update, which re-pins.
	o := workflow.Options{Dir: dir, Resolver: f}
	if _, err := workflow.Pin(ctx, o, true); err != nil {
		t.Fatal(err)
	}
	f.SetImage(key("mongo"), digest(t, "9"))
	res, err := workflow.Update(ctx, o, workflow.UpdateOptions{Images: []string{"mongo"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) != 1 || res.Changes[0].Image != "docker.io/library/mongo:latest" {
		t.Errorf("update changes = %+v, want mongo:latest", res.Changes)
	}
	if got := read(t, filepath.Join(dir, "compose.yaml")); !strings.Contains(got, "image: mongo@"+digest(t, "9").String()+"\n") {
		t.Errorf("update did not re-pin mongo:\n%s", got)
	}
	if _, err := workflow.Unpin(ctx, o, true); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "compose.yaml")); !strings.Contains(got, "image: mongo\n") || !strings.Contains(got, "${CACHE:-redis}\n") {
		t.Errorf("unpin after update left:\n%s", got)
	}
}

// A digest-only reference written by hand stays digest-only: it is
// locked on its own, pin leaves it, unpin leaves it.
func TestDigestOnlyStaysDigestOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	d := digest(t, "a")
	f.SetImage(key("alpine"), digest(t, "b"))
	f.SetImage(key("alpine:3.20"), d)
	dir := tree(t, map[string]string{"Dockerfile": "FROM alpine@" + d.String() + "\n"})
	o := workflow.Options{Dir: dir, Resolver: f}
	if _, err := workflow.Lock(ctx, o, false); err != nil {
		t.Fatal(err)
	}
	if lk := read(t, filepath.Join(dir, "images.lock")); strings.Contains(lk, "tag = ") {
		t.Errorf("a digest-only reference was locked with a tag:\n%s", lk)
	}
	for _, run := range []func(context.Context, workflow.Options, bool) (*workflow.EditResult, error){workflow.Pin, workflow.Unpin} {
		if res, err := run(ctx, o, true); err != nil || len(res.Changes) != 0 {
			t.Errorf("edit of a digest-only reference = %+v, %v; want no change", res, err)
		}
	}
}

// Nothing outside the lock's directory is read as a source or written,
// whatever symbolic links say; a link inside it stays a link, and pin
// writes the file it names.
func TestPinStaysUnderTheRoot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	f.SetImage(key("alpine:3.20"), digest(t, "a"))
	base := t.TempDir()
	outside := "FROM alpine:3.20\n"
	files := map[string]string{
		"outside/Dockerfile":     outside,
		"repo/shared/Dockerfile": "FROM alpine:3.20\n",
		"repo/compose.yaml":      "services:\n  app:\n    build: ./app\n",
	}
	for name, content := range files {
		p := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root := filepath.Join(base, "repo")
	if err := os.Symlink("shared", filepath.Join(root, "app")); err != nil {
		t.Fatal(err)
	}
	o := workflow.Options{Dir: root, Resolver: f}
	if _, err := workflow.Lock(ctx, o, false); err != nil {
		t.Fatal(err)
	}
	if _, err := workflow.Pin(ctx, o, true); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(filepath.Join(root, "app")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("app is no longer a symbolic link: %v, %v", fi, err)
	}
	if got := read(t, filepath.Join(root, "shared/Dockerfile")); got != "FROM alpine:3.20@"+digest(t, "a").String()+"\n" {
		t.Errorf("the linked Dockerfile holds %q", got)
	}

	// A build whose directory links outside the root: refused, naming it.
	if err := os.Symlink("../outside", filepath.Join(root, "ext")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "compose.yaml"), []byte("services:\n  app:\n    build: ./ext\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, run := range map[string]func() error{
		"lock": func() error { _, err := workflow.Lock(ctx, o, false); return err },
		"pin":  func() error { _, err := workflow.Pin(ctx, o, true); return err },
	} {
		if err := run(); err == nil || !strings.Contains(err.Error(), "ext/Dockerfile") {
			t.Errorf("%s through a link out of the root = %v, want an error naming ext/Dockerfile", name, err)
		}
	}
	if got := read(t, filepath.Join(base, "outside/Dockerfile")); got != outside {
		t.Errorf("a file outside the root was rewritten: %q", got)
	}
}

// update writes the summary, the re-pinned sources and the lock all or
// nothing: a summary it cannot write leaves the lock and sources as they were.
func TestUpdateSummaryFailureWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	f.SetImage(key("alpine:3.20"), digest(t, "a"))
	dir := tree(t, map[string]string{"Dockerfile": "FROM alpine:3.20\n"})
	o := workflow.Options{Dir: dir, Resolver: f}
	if _, err := workflow.Lock(ctx, o, false); err != nil {
		t.Fatal(err)
	}
	if _, err := workflow.Pin(ctx, o, true); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	f.SetImage(key("alpine:3.20"), digest(t, "b"))
	_, err := workflow.Update(ctx, o, workflow.UpdateOptions{Summary: filepath.Join(dir, "no/such/dir/pr.md")})
	if err == nil || !strings.Contains(err.Error(), "pr.md") {
		t.Fatalf("update with an unwritable summary = %v, want an error naming it", err)
	}
	if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
		t.Errorf("a failed update changed files (-before +after):\n%s", diff)
	}
	summary := filepath.Join(dir, "pr.md")
	if _, err := workflow.Update(ctx, o, workflow.UpdateOptions{Summary: summary}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, summary); !strings.Contains(got, digest(t, "b").String()[7:19]) {
		t.Errorf("the summary does not name the new digest:\n%s", got)
	}
	if got := read(t, filepath.Join(dir, "Dockerfile")); !strings.Contains(got, digest(t, "b").String()) {
		t.Errorf("update did not re-pin: %q", got)
	}
}

// pin refuses to grow a YAML source past the size imagelock reads: the
// pin could not be undone.
func TestPinDoesNotGrowASourcePastTheReadLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	f.SetImage(key("alpine:3.20"), digest(t, "a"))
	pod := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: alpine:3.20\n"
	pad := "#" + strings.Repeat("x", 10<<20-len(pod)-3) + "\n"
	dir := tree(t, map[string]string{"pod.yaml": pad + pod})
	o := workflow.Options{Dir: dir, Resolver: f}
	if _, err := workflow.Lock(ctx, o, false); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	if _, err := workflow.Pin(ctx, o, true); err == nil || !strings.Contains(err.Error(), "pod.yaml would grow") {
		t.Fatalf("pin = %v, want a refusal naming pod.yaml", err)
	}
	if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
		t.Error("a refused pin changed files")
	}
}

// slowResolver answers as its Fake does, a while later.
type slowResolver struct{ *resolve.Fake }

func (s slowResolver) Head(ctx context.Context, k resolve.Key) (resolve.Descriptor, error) {
	time.Sleep(50 * time.Millisecond)
	return s.Fake.Head(ctx, k)
}

// Two runs that write one lock at once take turns: neither builds on the
// old lock while the other is writing, so no entry is lost.
func TestConcurrentLocksLoseNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	f.SetImage(key("alpine:3.20"), digest(t, "a"))
	f.SetImage(key("redis:7"), digest(t, "b"))
	dir := tree(t, map[string]string{"a/Dockerfile": "FROM alpine:3.20\n", "b/Dockerfile": "FROM redis:7\n"})
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, scope := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = workflow.Lock(ctx, workflow.Options{Dir: dir, Paths: []string{scope}, Resolver: slowResolver{f}}, false)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	lk := read(t, filepath.Join(dir, "images.lock"))
	for _, name := range []string{"docker.io/library/alpine", "docker.io/library/redis"} {
		if !strings.Contains(lk, `name = "`+name+`"`) {
			t.Errorf("the lock lost %s:\n%s", name, lk)
		}
	}
	release, err := dirlock.Acquire(ctx, dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	_, err = workflow.Lock(ctx, workflow.Options{Dir: dir, Resolver: f, LockWait: 100 * time.Millisecond}, false)
	if !errors.Is(err, dirlock.ErrBusy) {
		t.Errorf("lock while another run writes = %v, want ErrBusy", err)
	}
}

// Inputs that would never end (a lock, config, .gitignore or .env linked
// to /dev/zero) are refused at once, naming them, instead of exhausting
// memory.
func TestEndlessInputsAreRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, name := range []string{"images.lock", ".imagelock.toml", ".gitignore", ".env"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := tree(t, map[string]string{"compose.yaml": "services:\n  a:\n    image: alpine:3.20\n"})
			if err := os.Symlink("/dev/zero", filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
			_, err := workflow.List(ctx, workflow.Options{Dir: dir})
			if name == "images.lock" {
				_, err = workflow.Verify(ctx, workflow.Options{Dir: dir}, workflow.VerifyOptions{Offline: true})
			}
			// Read through the root, a link out of it is refused before
			// its kind is known.
			if err == nil || !strings.Contains(err.Error(), name) ||
				!strings.Contains(err.Error(), "not a regular file") && !strings.Contains(err.Error(), "path escapes") &&
					!strings.Contains(err.Error(), "outside") {
				t.Errorf("= %v, want a refusal naming %s", err, name)
			}
		})
	}
}

// A source that is a symbolic link is not read through the link, and
// says so: verify cannot pass in silence over a file it did not read.
func TestLinkedSourceIsAWarning(t *testing.T) {
	t.Parallel()
	dir := tree(t, map[string]string{"base/Dockerfile": "FROM alpine:3.20\n"})
	if err := os.Symlink("base/Dockerfile", filepath.Join(dir, "Dockerfile")); err != nil {
		t.Fatal(err)
	}
	res, err := workflow.List(context.Background(), workflow.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Refs) != 1 || res.Refs[0].File != "base/Dockerfile" {
		t.Errorf("refs = %+v, want the one of base/Dockerfile", res.Refs)
	}
	if len(res.Warnings) != 1 || res.Warnings[0].File != "Dockerfile" || !strings.Contains(res.Warnings[0].Msg, "symbolic link") {
		t.Errorf("warnings = %v, want one naming the link", res.Warnings)
	}
}

// An image that skaffold builds here is its build's output where a
// manifest uses it: not a reference to lock, so lock asks no registry.
func TestSkaffoldArtifactsAreNotLocked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	f.SetImage(key("redis:7"), digest(t, "a"))
	pod := func(image string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: " + image + "\n"
	}
	files := map[string]string{
		"skaffold.yaml":       "apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n    - image: adservice\n",
		"k8s/adservice.yaml":  pod("adservice"),
		"k8s/redis-cart.yaml": pod("redis:7"),
	}
	// Files are parsed while the walk goes on: a manifest parsed long
	// before the walk reaches the skaffold config is held back all the
	// same.
	for i := range 300 {
		files[fmt.Sprintf("m/%03d/Dockerfile", i)] = "FROM redis:7\n"
	}
	dir := tree(t, files)
	if _, err := workflow.Lock(ctx, workflow.Options{Dir: dir, Resolver: f}, false); err != nil {
		t.Fatal(err)
	}
	if n := f.HeadCalls(key("adservice")); n != 0 {
		t.Errorf("lock asked a registry for skaffold's own output %d times", n)
	}
	if lk := read(t, filepath.Join(dir, "images.lock")); strings.Contains(lk, "adservice") || !strings.Contains(lk, "redis") {
		t.Errorf("the lock:\n%s", lk)
	}
	// The skaffold config outside the paths given still says so.
	v, err := workflow.Verify(ctx, workflow.Options{Dir: dir, Paths: []string{"k8s"}}, workflow.VerifyOptions{Offline: true})
	if err != nil || len(v.Findings) != 0 {
		t.Errorf("verify k8s = %+v, %v; want no finding", v, err)
	}
}

// A digest-only reference written by hand, with the digest the lock
// records for latest, in a file that entry does not name, is not taken
// for a pin of "mongo": unpin leaves it.
func TestHandWrittenDigestIsNotAdopted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	d := digest(t, "a")
	f.SetImage(key("mongo"), d)
	dir := tree(t, map[string]string{"compose.yaml": "services:\n  db:\n    image: mongo\n"})
	o := workflow.Options{Dir: dir, Resolver: f}
	if _, err := workflow.Lock(ctx, o, false); err != nil {
		t.Fatal(err)
	}
	handWritten := "FROM mongo@" + d.String() + "\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(handWritten), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := workflow.Lock(ctx, o, false); err != nil {
		t.Fatal(err)
	}
	if _, err := workflow.Unpin(ctx, o, true); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "Dockerfile")); got != handWritten {
		t.Errorf("unpin changed a hand-written digest-only reference: %q", got)
	}
}

// One file reached by two paths (a linked directory) that the references
// read through each need different edits of: nothing is written, where
// the last rename would otherwise have won.
func TestPinOneFileTwoPathsDifferentEdits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	f.SetImage(key("golang:1.26"), digest(t, "a"))
	f.SetImage(key("mirror.example/library/golang:1.26"), digest(t, "b"))
	dir := tree(t, map[string]string{
		"shared/Dockerfile": "ARG REG=docker.io\nFROM ${REG}/library/golang:1.26\n",
		"compose.yaml":      "services:\n  app:\n    build:\n      context: ./app\n      args:\n        REG: mirror.example\n",
	})
	if err := os.Symlink("shared", filepath.Join(dir, "app")); err != nil {
		t.Fatal(err)
	}
	o := workflow.Options{Dir: dir, Resolver: f}
	if _, err := workflow.Lock(ctx, o, false); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	if _, err := workflow.Pin(ctx, o, true); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("pin = %v, want a refusal naming the link", err)
	}
	if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
		t.Errorf("a refused pin changed files (-before +after):\n%s", diff)
	}
}

// The summary can be neither the lock nor a source: the pull-request
// body must not replace them.
func TestUpdateSummaryIsNotTheLockNorASource(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	f.SetImage(key("alpine:3.20"), digest(t, "a"))
	dir := tree(t, map[string]string{"Dockerfile": "FROM alpine:3.20\n"})
	o := workflow.Options{Dir: dir, Resolver: f}
	if _, err := workflow.Lock(ctx, o, false); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	for _, name := range []string{"images.lock", "Dockerfile"} {
		_, err := workflow.Update(ctx, o, workflow.UpdateOptions{Summary: filepath.Join(dir, name)})
		var ue *workflow.UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), name) {
			t.Errorf("update --summary %s = %v, want a usage error naming it", name, err)
		}
	}
	if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
		t.Errorf("a refused update changed files (-before +after):\n%s", diff)
	}
}

// update moves the lock of an image pinned in .env, and says the pin
// there is the user's to move.
func TestUpdateWarnsAboutAPinItCannotEdit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	a := digest(t, "a")
	f.SetImage(key("alpine:3.20"), a)
	dir := tree(t, map[string]string{
		"compose.yaml": "services:\n  app:\n    image: ${IMG}\n",
		".env":         "IMG=alpine:3.20@" + a.String() + "\n",
	})
	o := workflow.Options{Dir: dir, Resolver: f}
	if _, err := workflow.Lock(ctx, o, false); err != nil {
		t.Fatal(err)
	}
	f.SetImage(key("alpine:3.20"), digest(t, "b"))
	res, err := workflow.Update(ctx, o, workflow.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0].Msg, "update it where it is set") {
		t.Errorf("warnings = %v, want one saying to update the pin in .env", res.Warnings)
	}
}

// A source whose path holds a control character is not read, with a
// warning: the lock could not record it, and lock would write a lock it
// then refuses to read.
func TestControlCharacterPathIsAWarning(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := digest(t, "a")
	dir := tree(t, map[string]string{"x\ty/Dockerfile": "FROM alpine:3.20@" + d.String() + "\n", "Dockerfile": "FROM alpine:3.20@" + d.String() + "\n"})
	f := &resolve.Fake{}
	f.SetImage(key("alpine:3.20"), d)
	o := workflow.Options{Dir: dir, Resolver: f}
	res, err := workflow.Lock(ctx, o, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0].String(), `"x\ty/Dockerfile"`) {
		t.Errorf("warnings = %v, want one naming the path, quoted", res.Warnings)
	}
	if _, err := workflow.Verify(ctx, o, workflow.VerifyOptions{Offline: true}); err != nil {
		t.Errorf("the lock lock wrote cannot be read: %v", err)
	}
}

// A lock that is a symbolic link out of its directory is refused before
// anything is read or written there.
func TestLockLinkedOutsideIsRefused(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	for _, d := range []string{"repo", "out"} {
		if err := os.Mkdir(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(base, "out/images.lock"), []byte("version = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../out/images.lock", filepath.Join(base, "repo/images.lock")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "repo/Dockerfile"), []byte("FROM alpine:3.20\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &resolve.Fake{}
	f.SetImage(key("alpine:3.20"), digest(t, "a"))
	_, err := workflow.Lock(context.Background(), workflow.Options{Dir: filepath.Join(base, "repo"), Resolver: f}, false)
	if err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("lock through a link out of the tree = %v, want a refusal", err)
	}
	if got := read(t, filepath.Join(base, "out/images.lock")); got != "version = 1\n" {
		t.Errorf("the lock outside the tree was written: %q", got)
	}
}

// One reference per span: an image that several jobs read through one
// variable is one reference, where its value is written, and so is a
// compose build's Dockerfile, found from the compose file and on its own,
// in whichever order the files are parsed.
func TestOneReferencePerSpan(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		".github/workflows/ci.yml": "on: push\nenv:\n  IMG: alpine:3.19\njobs:\n  a:\n    runs-on: ubuntu-latest\n    container: ${{ env.IMG }}\n    steps:\n      - run: true\n" +
			"  b:\n    runs-on: ubuntu-latest\n    container: ${{ env.IMG }}\n    services:\n      db:\n        image: ${{ env.IMG }}\n    steps:\n      - run: true\n",
		"compose.yaml":      "services:\n  app:\n    build: app\n",
		"app/Dockerfile":    "FROM golang:1.23\n",
		"zz/compose.yaml":   "services:\n  app:\n    build: ../app\n",
		"aa/Dockerfile":     "FROM redis:7\n",
		"aa/b/Dockerfile":   "FROM redis:7\n",
		"aa-b/Dockerfile":   "FROM redis:7\n",
		"aa.b/Dockerfile":   "FROM redis:7\n",
		"aa/b/c/Dockerfile": "FROM redis:7\n",
	}
	res, err := workflow.List(context.Background(), workflow.Options{Dir: tree(t, files)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Refs {
		got = append(got, fmt.Sprintf("%s:%d %s", r.File, r.Line, r.Image))
	}
	want := []string{
		".github/workflows/ci.yml:3 alpine:3.19",
		"aa-b/Dockerfile:1 redis:7",
		"aa.b/Dockerfile:1 redis:7",
		"aa/Dockerfile:1 redis:7",
		"aa/b/Dockerfile:1 redis:7",
		"aa/b/c/Dockerfile:1 redis:7",
		"app/Dockerfile:1 golang:1.23",
	}
	if !slices.Equal(got, want) {
		t.Errorf("list =\n%s\nwant, in path order, one per span:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
