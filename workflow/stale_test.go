package workflow

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imagelock/imagelock/internal/testimage"
	"github.com/imagelock/imagelock/resolve"
)

// staleRegistry serves a registry in process and pushes indexes to it.
type staleRegistry struct {
	t    *testing.T
	host string
}

func newStaleRegistry(t *testing.T) *staleRegistry {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return &staleRegistry{t: t, host: strings.TrimPrefix(srv.URL, "http://")}
}

func (r *staleRegistry) push(repoTag string, idx v1.ImageIndex) v1.Hash {
	r.t.Helper()
	ref, err := name.NewTag(r.host + "/" + repoTag)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx); err != nil {
		r.t.Fatal(err)
	}
	d, err := idx.Digest()
	if err != nil {
		r.t.Fatal(err)
	}
	return d
}

// lockBase writes a lock whose one entry is repo:tag at the index d.
func lockBase(t *testing.T, dir, nm, tag string, d v1.Hash, platforms map[string]v1.Hash) {
	t.Helper()
	var ps []string
	for _, p := range []string{"linux/amd64", "linux/arm64/v8"} {
		ps = append(ps, fmt.Sprintf("%q = %q", p, platforms[p].String()))
	}
	data := fmt.Sprintf("version = 1\n\n[[image]]\nname = %q\ntag = %q\ndigest = %q\nplatforms = { %s }\nsources = [\"Dockerfile\"]\n",
		nm, tag, d, strings.Join(ps, ", "))
	if err := os.WriteFile(filepath.Join(dir, "images.lock"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// verdicts is each image's platforms' statuses, in one line each.
func verdicts(res *StaleResult) []string {
	var out []string
	for _, im := range res.Images {
		for _, p := range im.Platforms {
			out = append(out, fmt.Sprintf("%s %s %s base=%s from=%s", im.Image[strings.Index(im.Image, "/")+1:], p.Platform, p.Status,
				strings.TrimPrefix(im.Base, im.Image[:strings.Index(im.Image, "/")+1]), im.BaseFrom))
		}
	}
	return out
}

// A base moves, the lock follows (imagelock update), and the image built
// on the old base is behind on each platform; one rebuilt since is
// current. The base comes from the image's annotations, else from the
// Dockerfile's final stage, else it is unknown.
func TestStale(t *testing.T) {
	t.Parallel()
	reg := newStaleRegistry(t)
	base1, _, err := testimage.Index(types.OCIImageIndex, "linux/amd64", "linux/arm64/v8")
	if err != nil {
		t.Fatal(err)
	}
	d1 := reg.push("library/node:16.13", base1)
	annotated := func(base v1.Hash) map[string]string {
		return map[string]string{testimage.BaseName: reg.host + "/library/node:16.13", testimage.BaseDigest: base.String()}
	}
	old, err := testimage.Derived(base1, 2, annotated(d1))
	if err != nil {
		t.Fatal(err)
	}
	reg.push("acme/app:1", old)

	base2, p2, err := testimage.Index(types.OCIImageIndex, "linux/amd64", "linux/arm64/v8")
	if err != nil {
		t.Fatal(err)
	}
	d2 := reg.push("library/node:16.13", base2)
	fresh, err := testimage.Derived(base2, 1, annotated(d2))
	if err != nil {
		t.Fatal(err)
	}
	reg.push("acme/app:2", fresh)
	plain, err := testimage.Derived(base2, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg.push("acme/app:3", plain)
	plainOld, err := testimage.Derived(base1, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg.push("acme/app:4", plainOld)

	dir := t.TempDir()
	lockBase(t, dir, reg.host+"/library/node", "16.13", d2, p2)
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("ARG NODE=16.13\nFROM "+reg.host+"/library/node:${NODE} AS run\nFROM run\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	insp := resolve.New(resolve.Options{})
	images := func(tags ...string) []string {
		var out []string
		for _, tag := range tags {
			out = append(out, reg.host+"/acme/app:"+tag)
		}
		return out
	}

	res, err := Stale(context.Background(), Options{Dir: dir}, StaleOptions{Images: images("1", "2", "3", "4"), Dockerfile: "Dockerfile", Inspector: insp})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"acme/app:1 linux/amd64 behind base=library/node:16.13 from=annotation",
		"acme/app:1 linux/arm64/v8 behind base=library/node:16.13 from=annotation",
		"acme/app:2 linux/amd64 current base=library/node:16.13 from=annotation",
		"acme/app:2 linux/arm64/v8 current base=library/node:16.13 from=annotation",
		"acme/app:3 linux/amd64 current base=library/node:16.13 from=Dockerfile:2",
		"acme/app:3 linux/arm64/v8 current base=library/node:16.13 from=Dockerfile:2",
		"acme/app:4 linux/amd64 behind base=library/node:16.13 from=Dockerfile:2",
		"acme/app:4 linux/arm64/v8 behind base=library/node:16.13 from=Dockerfile:2",
	}
	if diff := cmp.Diff(want, verdicts(res)); diff != "" {
		t.Errorf("verdicts (-want +got):\n%s", diff)
	}
	if !res.Behind() {
		t.Error("Behind() = false")
	}
	behind := res.Images[0].Platforms[0]
	if behind.BuiltOn != d1.String() || behind.Locked != d2.String() || !strings.Contains(behind.Fix, "rebuild") {
		t.Errorf("behind = %+v, want built on %s, locked %s, and a fix", behind, d1, d2)
	}

	// Without the Dockerfile, an image with no annotation has no base.
	res, err = Stale(context.Background(), Options{Dir: dir}, StaleOptions{Images: images("3"), Inspector: insp})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Images[0].Platforms[0]; got.Status != StaleUnknown || !strings.Contains(got.Msg, "--dockerfile") || res.Behind() {
		t.Errorf("no base = %+v, want unknown, naming --dockerfile", got)
	}

	// A base the lock lacks is unknown, and says what to run.
	lockBase(t, dir, reg.host+"/library/other", "1", d2, p2)
	res, err = Stale(context.Background(), Options{Dir: dir}, StaleOptions{Images: images("2"), Inspector: insp})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Images[0].Platforms[1]; got.Status != StaleUnknown || !strings.Contains(got.Msg, "is not in images.lock: run 'imagelock lock'") {
		t.Errorf("unlocked base = %+v", got)
	}

	// An image the registry lacks fails the run, naming it.
	_, err = Stale(context.Background(), Options{Dir: dir}, StaleOptions{Images: images("9"), Inspector: insp})
	if err == nil || !strings.Contains(err.Error(), "acme/app:9") {
		t.Errorf("Stale of a missing image = %v, want an error naming it", err)
	}
}
