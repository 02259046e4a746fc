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
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imagelock/imagelock/lock"
	"github.com/imagelock/imagelock/resolve"
	"github.com/imagelock/imagelock/rewrite"
	"github.com/imagelock/imagelock/workflow"
)

func digest(t testing.TB, c string) v1.Hash {
	t.Helper()
	h, err := v1.NewHash("sha256:" + strings.Repeat(c, 64))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func key(s string) resolve.Key {
	p, err := resolve.Parse(s)
	if err != nil {
		panic(err)
	}
	return p.Key
}

func tree(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func read(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// counting is a Resolver that counts every request made through it.
type counting struct {
	resolve.Resolver
	n atomic.Int64
}

func (c *counting) Head(ctx context.Context, k resolve.Key) (resolve.Descriptor, error) {
	c.n.Add(1)
	return c.Resolver.Head(ctx, k)
}

func (c *counting) Platforms(ctx context.Context, name string, d v1.Hash) (map[string]v1.Hash, error) {
	c.n.Add(1)
	return c.Resolver.Platforms(ctx, name, d)
}

func (c *counting) Exists(ctx context.Context, name string, d v1.Hash) error {
	c.n.Add(1)
	return c.Resolver.Exists(ctx, name, d)
}

// DESIGN: lock never moves an entry by itself. A re-lock after every tag
// moved upstream leaves the lock's bytes alone and asks the registry
// nothing; update is the command that accepts the moves.
func TestRelockMakesNoRequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	f.SetIndex(key("golang:1.26"), digest(t, "a"), map[string]v1.Hash{"linux/amd64": digest(t, "b")})
	f.SetImage(key("alpine:3.20"), digest(t, "c"))
	f.SetImage(key("redis:7"), digest(t, "d"))
	dir := tree(t, map[string]string{
		"Dockerfile":        "FROM golang:1.26 AS b\nFROM alpine:3.20\n",
		"ci/Dockerfile":     "FROM docker.io/library/golang:1.26\nFROM index.docker.io/library/alpine:3.20\n",
		"pinned/Dockerfile": "FROM redis:7@" + digest(t, "d").String() + "\nFROM busybox@" + digest(t, "e").String() + "\n",
	})
	f.SetImage(key("busybox:latest"), digest(t, "e"))
	c := &counting{Resolver: f}
	o := workflow.Options{Dir: dir, Resolver: c}
	if _, err := workflow.Lock(ctx, o, false); err != nil {
		t.Fatal(err)
	}
	first := read(t, filepath.Join(dir, "images.lock"))
	cold := c.n.Load()

	f.SetIndex(key("golang:1.26"), digest(t, "5"), map[string]v1.Hash{"linux/amd64": digest(t, "6")})
	f.SetImage(key("alpine:3.20"), digest(t, "7"))
	f.SetImage(key("redis:7"), digest(t, "8"))
	res, err := workflow.Lock(ctx, o, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Wrote || read(t, filepath.Join(dir, "images.lock")) != first {
		t.Errorf("a re-lock after tags moved rewrote the lock:\n%s", cmp.Diff(first, read(t, filepath.Join(dir, "images.lock"))))
	}
	if n := c.n.Load() - cold; n != 0 {
		t.Errorf("a re-lock with nothing new made %d requests, want 0", n)
	}
	if len(res.Added)+len(res.Changed)+len(res.Removed) != 0 {
		t.Errorf("re-lock: added %v, changed %v, removed %v; want none", res.Added, res.Changed, res.Removed)
	}

	up, err := workflow.Update(ctx, o, workflow.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var moved []string
	for _, ch := range up.Changes {
		moved = append(moved, ch.Image+" "+ch.New)
	}
	want := []string{
		"docker.io/library/alpine:3.20 " + digest(t, "7").String(),
		"docker.io/library/golang:1.26 " + digest(t, "5").String(),
		"docker.io/library/redis:7 " + digest(t, "8").String(),
	}
	if diff := cmp.Diff(want, moved); diff != "" || !up.Wrote {
		t.Errorf("update changes (-want +got):\n%s(wrote %v)", diff, up.Wrote)
	}
}

// lock asks the registry only about what is new to the lock: a new key
// costs one HEAD (and one GET for an index), is the one entry added, and
// the entries it already had stay as they were though their tags moved.
// A key no source uses any more is dropped, with no request.
func TestLockResolvesOnlyWhatIsNew(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	f.SetImage(key("alpine:3.20"), digest(t, "a"))
	f.SetImage(key("redis:7"), digest(t, "b"))
	dir := tree(t, map[string]string{"Dockerfile": "FROM alpine:3.20\n", "cache/Dockerfile": "FROM redis:7\n"})
	c := &counting{Resolver: f}
	o := workflow.Options{Dir: dir, Resolver: c}
	if _, err := workflow.Lock(ctx, o, false); err != nil {
		t.Fatal(err)
	}
	f.SetImage(key("alpine:3.20"), digest(t, "c"))
	f.SetIndex(key("golang:1.26"), digest(t, "d"), map[string]v1.Hash{"linux/amd64": digest(t, "e")})
	if err := os.WriteFile(filepath.Join(dir, "build.Dockerfile"), []byte("FROM golang:1.26\nFROM alpine:3.20\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "cache")); err != nil {
		t.Fatal(err)
	}
	before := c.n.Load()
	res, err := workflow.Lock(ctx, o, false)
	if err != nil {
		t.Fatal(err)
	}
	type result struct{ Added, Changed, Removed []string }
	if diff := cmp.Diff(result{Added: []string{"docker.io/library/golang:1.26"}, Removed: []string{"docker.io/library/redis:7"}},
		result{res.Added, res.Changed, res.Removed}); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	got := map[string]int64{
		"all":         c.n.Load() - before,
		"HEAD golang": int64(f.HeadCalls(key("golang:1.26"))),
		"GET golang":  int64(f.PlatformsCalls("docker.io/library/golang", digest(t, "d"))),
		"HEAD alpine": int64(f.HeadCalls(key("alpine:3.20"))),
		"HEAD redis":  int64(f.HeadCalls(key("redis:7"))),
	}
	want := map[string]int64{"all": 2, "HEAD golang": 1, "GET golang": 1, "HEAD alpine": 1, "HEAD redis": 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got; HEADs count the first lock's):\n%s", diff)
	}
	lf, _, err := lock.Read(filepath.Join(dir, "images.lock"), "images.lock")
	if err != nil {
		t.Fatal(err)
	}
	if im := lf.Find("docker.io/library/alpine", "3.20"); im == nil || im.Digest != digest(t, "a") ||
		!slices.Equal(im.Sources, []string{"Dockerfile", "build.Dockerfile"}) {
		t.Errorf("alpine's entry = %+v, want the first lock's digest, used by both Dockerfiles", im)
	}
}

// A digest a source pins wins over the lock's: the source is the truth
// for a pin. lock takes it with no HEAD, fetches the index it names (new
// to the lock), and names the entry, both digests and the pin's place.
// Where the sources pin different digests, the lock keeps its own and
// each pin that differs is a warning.
func TestLockPinWins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	k := key("golang:1.26")
	old, pinned := digest(t, "a"), digest(t, "c")
	f.SetIndex(k, old, map[string]v1.Hash{"linux/amd64": digest(t, "b")})
	dir := tree(t, map[string]string{"Dockerfile": "FROM golang:1.26\n", "ci/Dockerfile": "FROM golang:1.26\n"})
	c := &counting{Resolver: f}
	o := workflow.Options{Dir: dir, Resolver: c}
	if _, err := workflow.Lock(ctx, o, false); err != nil {
		t.Fatal(err)
	}
	f.SetIndex(k, pinned, map[string]v1.Hash{"linux/amd64": digest(t, "d")})
	heads := f.HeadCalls(k)
	src := "# build\n\nFROM golang:1.26@" + pinned.String() + "\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	before := c.n.Load()
	res, err := workflow.Lock(ctx, o, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []workflow.PinChange{{Image: "docker.io/library/golang:1.26", Old: old.String(), New: pinned.String(), At: "Dockerfile:3"}}
	if diff := cmp.Diff(want, res.Pinned); diff != "" || !slices.Equal(res.Changed, []string{"docker.io/library/golang:1.26"}) {
		t.Errorf("pinned (-want +got):\n%s(changed %v)", diff, res.Changed)
	}
	if n, h, g := c.n.Load()-before, f.HeadCalls(k)-heads, f.PlatformsCalls("docker.io/library/golang", pinned); n != 1 || h != 0 || g != 1 {
		t.Errorf("requests = %d (%d HEADs, %d GETs of the pinned index), want 1: the GET", n, h, g)
	}
	lf, _, err := lock.Read(filepath.Join(dir, "images.lock"), "images.lock")
	if err != nil {
		t.Fatal(err)
	}
	if im := lf.Find(k.Name, k.Tag); im.Digest != pinned || im.Platforms["linux/amd64"] != digest(t, "d") {
		t.Errorf("golang's entry = %+v, want the pinned index and its platforms", im)
	}

	// Two sources pin two digests: neither wins, the lock keeps its own.
	other := "FROM golang:1.26@" + old.String() + "\n"
	if err := os.WriteFile(filepath.Join(dir, "ci/Dockerfile"), []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	before = c.n.Load()
	res, err = workflow.Lock(ctx, o, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Wrote || c.n.Load() != before {
		t.Errorf("pins that disagree: wrote %v, %d requests; want the lock kept, no request", res.Wrote, c.n.Load()-before)
	}
	if len(res.Warnings) != 1 || res.Warnings[0].File != "ci/Dockerfile" || !strings.Contains(res.Warnings[0].Msg, "run 'imagelock pin'") {
		t.Errorf("warnings = %+v, want one at ci/Dockerfile saying to run pin", res.Warnings)
	}
}

// Locking one directory keeps what the lock says of the others.
func TestLockScopeKeepsOtherEntries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	f.SetImage(key("alpine:3.20"), digest(t, "a"))
	f.SetImage(key("redis:7"), digest(t, "b"))
	dir := tree(t, map[string]string{
		"a/Dockerfile": "FROM alpine:3.20\n",
		"b/Dockerfile": "FROM redis:7\nFROM alpine:3.20\n",
	})
	o := workflow.Options{Dir: dir, Resolver: f}
	if _, err := workflow.Lock(ctx, o, false); err != nil {
		t.Fatal(err)
	}
	before := read(t, filepath.Join(dir, "images.lock"))
	o.Paths = []string{"a"}
	if _, err := workflow.Lock(ctx, o, false); err != nil {
		t.Fatal(err)
	}
	if after := read(t, filepath.Join(dir, "images.lock")); after != before {
		t.Errorf("locking a/ changed what the lock says of b/:\n%s", cmp.Diff(before, after))
	}
	o.Paths = []string{"b"}
	res, err := workflow.Verify(ctx, o, workflow.VerifyOptions{})
	if err != nil || res.Failed(true) {
		t.Errorf("verify b/ = %+v, %v", res, err)
	}
}

// update --image refreshes only the image named, however it is written.
func TestUpdateImageFilter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	f.SetImage(key("alpine:3.20"), digest(t, "a"))
	f.SetImage(key("redis:7"), digest(t, "b"))
	dir := tree(t, map[string]string{"Dockerfile": "FROM alpine:3.20\nFROM redis:7\n"})
	o := workflow.Options{Dir: dir, Resolver: f}
	if _, err := workflow.Lock(ctx, o, false); err != nil {
		t.Fatal(err)
	}
	f.SetImage(key("alpine:3.20"), digest(t, "c"))
	f.SetImage(key("redis:7"), digest(t, "d"))
	for _, name := range []string{"docker.io/library/redis", "redis:7"} {
		res, err := workflow.Update(ctx, o, workflow.UpdateOptions{Images: []string{name}})
		if err != nil {
			t.Fatal(err)
		}
		var changed []string
		for _, c := range res.Changes {
			changed = append(changed, c.Image+" "+c.New)
		}
		want := []string{"docker.io/library/redis:7 " + digest(t, "d").String()}
		if name == "redis:7" {
			want = nil // already updated by the first call
		}
		if diff := cmp.Diff(want, changed); diff != "" {
			t.Errorf("update --image %s changes (-want +got):\n%s", name, diff)
		}
	}
	lk := read(t, filepath.Join(dir, "images.lock"))
	if !strings.Contains(lk, digest(t, "a").String()) {
		t.Error("update --image redis moved alpine too")
	}
}

// A tag that vanished upstream fails verify where a source relies on it.
func TestVerifyVanishedTag(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	k := key("alpine:3.20")
	f.SetImage(k, digest(t, "a"))
	dir := tree(t, map[string]string{"Dockerfile": "# base\nFROM alpine:3.20\n"})
	o := workflow.Options{Dir: dir, Resolver: f}
	if _, err := workflow.Lock(ctx, o, false); err != nil {
		t.Fatal(err)
	}
	f.SetError(k, &resolve.Error{Image: k.String(), Status: 404, Code: "MANIFEST_UNKNOWN"})
	res, err := workflow.Verify(ctx, o, workflow.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || res.Findings[0].Code != workflow.CodeVanished || res.Findings[0].Line != 2 || !res.Failed(false) {
		t.Errorf("findings = %+v, want one vanished at line 2", res.Findings)
	}
}

// Progress counts every lookup, one call at a time, up to the total.
func TestProgress(t *testing.T) {
	t.Parallel()
	f := &resolve.Fake{}
	var files = map[string]string{}
	for _, c := range "12345678" {
		k := "app" + string(c) + ":1"
		f.SetImage(key(k), digest(t, string(c)))
		files[string(c)+"/Dockerfile"] = "FROM " + k + "\n"
	}
	dir := tree(t, files)
	var calls []int
	total := 0
	o := workflow.Options{Dir: dir, Resolver: f, Jobs: 4, Progress: func(done, n int, image string) {
		calls = append(calls, done)
		total = n
	}}
	if _, err := workflow.Lock(context.Background(), o, false); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{1, 2, 3, 4, 5, 6, 7, 8}, calls); diff != "" || total != 8 {
		t.Errorf("progress calls (-want +got):\n%s (total %d)", diff, total)
	}
}

// Ctrl-C (a cancelled context) stops the run and writes nothing.
func TestCancelWritesNothing(t *testing.T) {
	t.Parallel()
	f := &resolve.Fake{}
	f.SetImage(key("alpine:3.20"), digest(t, "a"))
	dir := tree(t, map[string]string{"Dockerfile": "FROM alpine:3.20\n"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := workflow.Lock(ctx, workflow.Options{Dir: dir, Resolver: f}, false)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Lock with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "images.lock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a cancelled lock wrote images.lock (%v)", err)
	}
}

// signalFake closes started at its first HEAD or existence check.
type signalFake struct {
	*resolve.Fake
	once    sync.Once
	started chan struct{}
}

func (s *signalFake) Head(ctx context.Context, k resolve.Key) (resolve.Descriptor, error) {
	s.once.Do(func() { close(s.started) })
	return s.Fake.Head(ctx, k)
}

func (s *signalFake) Exists(ctx context.Context, name string, d v1.Hash) error {
	s.once.Do(func() { close(s.started) })
	return s.Fake.Exists(ctx, name, d)
}

// The registry's round trips overlap the scan: a key is looked up as soon
// as the file naming it is parsed, not after the whole walk. The compose
// file's interpolation waits for the Dockerfile's HEAD; were the HEADs
// started after the scan, it would wait in vain.
func TestLookupsStartDuringScan(t *testing.T) {
	t.Parallel()
	f := &resolve.Fake{}
	f.SetImage(key("golang:1.26"), digest(t, "a"))
	f.SetImage(key("app:1"), digest(t, "b"))
	f.SetImage(key("redis:7"), digest(t, "c"))
	dir := tree(t, map[string]string{
		"a/Dockerfile":   "FROM golang:1.26\nFROM redis@" + digest(t, "c").String() + "\n",
		"b/compose.yaml": "services:\n  app:\n    image: app:${TAG}\n",
	})
	ctx := context.Background()
	env := func(started chan struct{}) func(string) (string, bool) {
		return func(name string) (string, bool) {
			if name != "TAG" {
				return "", false
			}
			select {
			case <-started:
			case <-time.After(10 * time.Second):
				t.Errorf("the scan reached the compose file, but no lookup had started")
			}
			return "1", true
		}
	}
	for _, run := range []struct {
		name string
		do   func(workflow.Options) error
	}{
		{"lock", func(o workflow.Options) error { _, err := workflow.Lock(ctx, o, false); return err }},
		{"verify", func(o workflow.Options) error {
			_, err := workflow.Verify(ctx, o, workflow.VerifyOptions{})
			return err
		}},
	} {
		s := &signalFake{Fake: f, started: make(chan struct{})}
		if err := run.do(workflow.Options{Dir: dir, Resolver: s, Env: env(s.started)}); err != nil {
			t.Fatalf("%s: %v", run.name, err)
		}
	}
	for _, k := range []string{"golang:1.26", "app:1"} {
		if n := f.HeadCalls(key(k)); n != 2 {
			t.Errorf("HEADs of %s over lock and verify = %d, want 2", k, n)
		}
	}
	if n := f.ExistsCalls("docker.io/library/redis", digest(t, "c")); n != 1 {
		t.Errorf("existence checks of the digest-only redis over lock and verify = %d, want 1 (verify's)", n)
	}
}

// DESIGN: verify reports a locked platform that is gone. After a tag
// moves, the digests the lock names are left behind; builds pinned to them
// work only while the registry keeps them (a retention policy or garbage
// collection removes them). Verify HEADs each, and only after a move.
func TestVerifyWhatAMovedTagLeftBehind(t *testing.T) {
	t.Parallel()
	type finding struct {
		Severity workflow.Severity
		Code     string
		Line     int
	}
	const name = "docker.io/library/app"
	amd, arm := digest(t, "b"), digest(t, "c")
	for _, tc := range []struct {
		name    string
		src     string // the Dockerfile; {pin} is the locked digest
		moved   bool
		deleted []v1.Hash
		want    []finding
		exists  int // HEADs of digests
	}{
		{"nothing moved: no HEAD of what is locked", "FROM app:1@{pin}\n", false, nil, nil, 0},
		{"moved, pinned, all kept: a notice", "FROM app:1@{pin}\n", true, nil,
			[]finding{{workflow.Notice, workflow.CodeUpdate, 1}}, 3},
		{"moved, pinned, the index gone: pinned builds fail", "FROM app:1@{pin}\n", true, []v1.Hash{digest(t, "a"), amd, arm},
			[]finding{{workflow.Failure, workflow.CodeVanished, 1}}, 3},
		{"moved, pinned, one platform gone", "FROM app:1@{pin}\n", true, []v1.Hash{arm},
			[]finding{{workflow.Failure, workflow.CodePlatformGone, 1}}, 3},
		{"moved, relied on and pinned, one platform gone", "FROM app:1\nFROM app:1@{pin}\n", true, []v1.Hash{arm},
			[]finding{{workflow.Failure, workflow.CodeMoved, 1}, {workflow.Failure, workflow.CodePlatformGone, 2}}, 3},
		{"moved, relied on, one platform gone: the lock is stale", "FROM app:1\n", true, []v1.Hash{arm},
			[]finding{{workflow.Failure, workflow.CodeMoved, 1}, {workflow.Failure, workflow.CodePlatformGone, 1}}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := &resolve.Fake{}
			k := key("app:1")
			f.SetIndex(k, digest(t, "a"), map[string]v1.Hash{"linux/amd64": amd, "linux/arm64/v8": arm})
			dir := tree(t, map[string]string{"Dockerfile": strings.ReplaceAll(tc.src, "{pin}", digest(t, "a").String())})
			o := workflow.Options{Dir: dir, Resolver: f}
			if _, err := workflow.Lock(ctx, o, false); err != nil {
				t.Fatal(err)
			}
			if tc.moved {
				f.SetIndex(k, digest(t, "d"), map[string]v1.Hash{"linux/amd64": digest(t, "e")})
			}
			for _, d := range tc.deleted {
				f.Delete(name, d)
			}
			res, err := workflow.Verify(ctx, o, workflow.VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var got []finding
			for _, fd := range res.Findings {
				got = append(got, finding{fd.Severity, fd.Code, fd.Line})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s\n%+v", diff, res.Findings)
			}
			n := 0
			for _, d := range []v1.Hash{digest(t, "a"), amd, arm} {
				n += f.ExistsCalls(name, d)
			}
			if n != tc.exists {
				t.Errorf("HEADs of locked digests = %d, want %d", n, tc.exists)
			}
		})
	}
}

// A digest's platforms never change, so lock reuses what images.lock
// records. When more platforms are wanted than it records, lock says so
// and asks the registry nothing; update fetches the index again. An
// index that lacks a wanted platform is reported either way.
func TestWidenedPlatforms(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	idx, amd, arm := digest(t, "a"), digest(t, "b"), digest(t, "c")
	f.SetIndex(key("app:1"), idx, map[string]v1.Hash{"linux/amd64": amd, "linux/arm64/v8": arm})
	f.SetIndex(key("tool:1"), digest(t, "d"), map[string]v1.Hash{"linux/amd64": digest(t, "e")})
	dir := tree(t, map[string]string{"Dockerfile": "FROM app:1\nFROM tool:1\n"})
	lockfile := filepath.Join(dir, "images.lock")
	platforms := func() map[string]v1.Hash {
		t.Helper()
		lf, _, err := lock.Read(lockfile, "images.lock")
		if err != nil {
			t.Fatal(err)
		}
		return lf.Find("docker.io/library/app", "1").Platforms
	}
	warnings := func(ws []rewrite.Warning) string {
		var b strings.Builder
		for _, w := range ws {
			fmt.Fprintf(&b, "%s:%d: %s\n", w.File, w.Line, w.Msg)
		}
		return b.String()
	}

	narrow := workflow.Options{Dir: dir, Resolver: f, Platforms: []string{"linux/amd64"}}
	res, err := workflow.Lock(ctx, narrow, false)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]v1.Hash{"linux/amd64": amd}, platforms()); diff != "" || len(res.Warnings) != 0 {
		t.Fatalf("narrow lock: platforms (-want +got):\n%s\nwarnings: %s", diff, warnings(res.Warnings))
	}

	wide := workflow.Options{Dir: dir, Resolver: f, Platforms: []string{"linux/amd64", "linux/arm64"}}
	res, err = workflow.Lock(ctx, wide, false)
	if err != nil {
		t.Fatal(err)
	}
	if n := f.PlatformsCalls("docker.io/library/app", idx); n != 1 || res.Wrote {
		t.Errorf("wider lock: %d GETs of the index, wrote %v; want 1 (the first lock's) and false", n, res.Wrote)
	}
	want := "Dockerfile:1: docker.io/library/app:1: images.lock records no linux/arm64 for " + idx.String() +
		"; if the index has it, run 'imagelock update --image app' to fetch the index again\n" +
		"Dockerfile:2: docker.io/library/tool:1: images.lock records no linux/arm64 for " + digest(t, "d").String() +
		"; if the index has it, run 'imagelock update --image tool' to fetch the index again\n"
	if diff := cmp.Diff(want, warnings(res.Warnings)); diff != "" {
		t.Errorf("wider lock warnings (-want +got):\n%s", diff)
	}

	up, err := workflow.Update(ctx, wide, workflow.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := f.PlatformsCalls("docker.io/library/app", idx); n != 2 || !up.Wrote {
		t.Errorf("update: %d GETs of the index, wrote %v; want 2 and true", n, up.Wrote)
	}
	if diff := cmp.Diff(map[string]v1.Hash{"linux/amd64": amd, "linux/arm64/v8": arm}, platforms()); diff != "" {
		t.Errorf("after update: platforms (-want +got):\n%s", diff)
	}
	if len(up.Changes) != 1 || up.Changes[0].Image != "docker.io/library/app:1" || !slices.Equal(up.Changes[0].PlatformsAdded, []string{"linux/arm64/v8"}) {
		t.Errorf("update changes = %+v, want app:1 with linux/arm64/v8 added", up.Changes)
	}
	want = "Dockerfile:2: docker.io/library/tool:1 offers no linux/arm64\n"
	if diff := cmp.Diff(want, warnings(up.Warnings)); diff != "" {
		t.Errorf("update warnings (-want +got):\n%s", diff)
	}
}

// DESIGN: a moved index whose platform manifests are the locked ones
// (re-published, with new attestations say) is a notice, not a failure:
// builds cannot change. Telling costs one GET of the new index, and only
// for a tag that moved and that a source relies on. The platforms
// compared are those wanted (--platform or the config; all when none):
// the lock and the new index must offer the same of them, each with the
// same manifest; a platform left out may differ.
func TestVerifyRepublished(t *testing.T) {
	t.Parallel()
	amd, arm := digest(t, "b"), digest(t, "c")
	locked := map[string]v1.Hash{"linux/amd64": amd, "linux/arm64/v8": arm}
	for _, tc := range []struct {
		name      string
		src       string // {pin} is the locked digest
		platforms []string
		moved     map[string]v1.Hash // nil: the tag points at a single manifest
		want      workflow.Finding   // Severity and Code
		gets      int                // GETs of the new index
	}{
		{"same manifests: a notice", "FROM app:1\n", nil,
			map[string]v1.Hash{"linux/amd64": amd, "linux/arm64/v8": arm},
			workflow.Finding{Severity: workflow.Notice, Code: workflow.CodeRepublished}, 1},
		{"one manifest changed: moved", "FROM app:1\n", nil,
			map[string]v1.Hash{"linux/amd64": amd, "linux/arm64/v8": digest(t, "f")},
			workflow.Finding{Severity: workflow.Failure, Code: workflow.CodeMoved}, 1},
		{"a platform added: moved", "FROM app:1\n", nil,
			map[string]v1.Hash{"linux/amd64": amd, "linux/arm64/v8": arm, "linux/riscv64": digest(t, "f")},
			workflow.Finding{Severity: workflow.Failure, Code: workflow.CodeMoved}, 1},
		{"a platform removed: moved", "FROM app:1\n", nil,
			map[string]v1.Hash{"linux/amd64": amd},
			workflow.Finding{Severity: workflow.Failure, Code: workflow.CodeMoved}, 1},
		{"filtered: a platform left out changed", "FROM app:1\n", []string{"linux/amd64"},
			map[string]v1.Hash{"linux/amd64": amd, "linux/arm64/v8": digest(t, "f"), "linux/riscv64": digest(t, "9")},
			workflow.Finding{Severity: workflow.Notice, Code: workflow.CodeRepublished}, 1},
		{"filtered: the platform wanted changed", "FROM app:1\n", []string{"linux/amd64"},
			map[string]v1.Hash{"linux/amd64": digest(t, "f"), "linux/arm64/v8": arm},
			workflow.Finding{Severity: workflow.Failure, Code: workflow.CodeMoved}, 1},
		{"now a single manifest: moved, no GET", "FROM app:1\n", nil, nil,
			workflow.Finding{Severity: workflow.Failure, Code: workflow.CodeMoved}, 0},
		{"every source pins: an update, no GET", "FROM app:1@{pin}\n", nil,
			map[string]v1.Hash{"linux/amd64": amd, "linux/arm64/v8": arm},
			workflow.Finding{Severity: workflow.Notice, Code: workflow.CodeUpdate}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := &resolve.Fake{}
			k := key("app:1")
			f.SetIndex(k, digest(t, "a"), locked)
			dir := tree(t, map[string]string{"Dockerfile": strings.ReplaceAll(tc.src, "{pin}", digest(t, "a").String())})
			c := &counting{Resolver: f}
			o := workflow.Options{Dir: dir, Resolver: c, Platforms: tc.platforms}
			if _, err := workflow.Lock(ctx, o, false); err != nil {
				t.Fatal(err)
			}
			if tc.moved == nil {
				f.SetImage(k, digest(t, "d"))
			} else {
				f.SetIndex(k, digest(t, "d"), tc.moved)
			}
			before := c.n.Load()
			res, err := workflow.Verify(ctx, o, workflow.VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var got []workflow.Finding
			for _, fd := range res.Findings {
				got = append(got, workflow.Finding{Severity: fd.Severity, Code: fd.Code})
			}
			if diff := cmp.Diff([]workflow.Finding{tc.want}, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s\n%+v", diff, res.Findings)
			}
			if res.Failed(false) != (tc.want.Severity == workflow.Failure) {
				t.Errorf("Failed(false) = %v for a %s", res.Failed(false), tc.want.Severity)
			}
			// One HEAD of the tag, one of each digest the lock leaves
			// behind (the index and its locked platforms), and the GETs.
			plats := len(locked)
			if tc.platforms != nil {
				plats = len(tc.platforms)
			}
			want := int64(1 + 1 + plats + tc.gets)
			if n, g := c.n.Load()-before, f.PlatformsCalls("docker.io/library/app", digest(t, "d")); g != tc.gets || n != want {
				t.Errorf("requests = %d with %d GETs of the new index, want %d with %d", n, g, want, tc.gets)
			}
		})
	}
}

// apps writes a tree of n Dockerfiles, each FROM an image of its own
// (registry.example/appN:1), and returns a resolver that knows them.
func apps(t *testing.T, n int) (*resolve.Fake, string) {
	f := &resolve.Fake{}
	files := map[string]string{}
	for i := range n {
		image := fmt.Sprintf("registry.example/app%d:1", i)
		f.SetImage(key(image), digest(t, string("0123456789abcdef"[i%16])))
		files[fmt.Sprintf("s%02d/Dockerfile", i)] = "FROM " + image + "\n"
	}
	return f, tree(t, files)
}

// authorizing is a resolver with a handshake per repository whose HEADs
// wait until every repository of the run has had its handshake.
type authorizing struct {
	*resolve.Fake
	want       int
	mu         sync.Mutex
	authorized map[string]bool
	all        chan struct{}
}

func (a *authorizing) Authorize(_ context.Context, name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.authorized[name] = true
	if len(a.authorized) == a.want {
		close(a.all)
	}
}

func (a *authorizing) Head(ctx context.Context, k resolve.Key) (resolve.Descriptor, error) {
	select {
	case <-a.all:
		return a.Fake.Head(ctx, k)
	case <-time.After(5 * time.Second):
		return resolve.Descriptor{}, fmt.Errorf("%s: HEAD before every repository's handshake", k)
	}
}

// The lookups make each repository's handshake (a token) before they take
// one of their slots: with one slot, the HEAD that holds it must not wait
// for the handshakes of the others.
func TestHandshakesHoldNoSlot(t *testing.T) {
	t.Parallel()
	f, dir := apps(t, 5)
	r := &authorizing{Fake: f, want: 5, authorized: map[string]bool{}, all: make(chan struct{})}
	res, err := workflow.Lock(context.Background(), workflow.Options{Dir: dir, Resolver: r, Jobs: 1}, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Refs != 5 {
		t.Errorf("lock = %+v, want 5 references", res)
	}
}

// inFlight is a resolver that counts its HEADs in flight.
type inFlight struct {
	*resolve.Fake
	mu       sync.Mutex
	now, max int
}

func (c *inFlight) Head(ctx context.Context, k resolve.Key) (resolve.Descriptor, error) {
	c.mu.Lock()
	c.now++
	c.max = max(c.max, c.now)
	c.mu.Unlock()
	time.Sleep(5 * time.Millisecond)
	c.mu.Lock()
	c.now--
	c.mu.Unlock()
	return c.Fake.Head(ctx, k)
}

// Jobs bounds the lookups in flight, whatever the number of keys.
func TestJobsBoundLookups(t *testing.T) {
	t.Parallel()
	f, dir := apps(t, 24)
	c := &inFlight{Fake: f}
	if _, err := workflow.Lock(context.Background(), workflow.Options{Dir: dir, Resolver: c, Jobs: 3}, false); err != nil {
		t.Fatal(err)
	}
	if c.max > 3 || c.max == 0 {
		t.Errorf("%d HEADs in flight at most, want 1 to 3 (Jobs)", c.max)
	}
	if n := f.HeadCalls(key("registry.example/app7:1")); n != 1 {
		t.Errorf("app7:1 HEADed %d times, want once", n)
	}
}
