package resolve

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imagelock/imagelock/internal/testimage"
)

// layersOf returns each platform's layers and digest of an index.
func layersOf(t *testing.T, idx v1.ImageIndex) map[string]Manifest {
	t.Helper()
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Manifest{}
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		m, err := img.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		got := Manifest{Platform: d.Platform.String(), Digest: d.Digest, Annotations: map[string]string{}}
		for _, l := range m.Layers {
			got.Layers = append(got.Layers, l.Digest)
		}
		out[got.Platform] = got
	}
	return out
}

func TestManifests(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry(t, nil)
	ctx := ctxFor(t)
	r := newRegistry(testOptions(), fastRetry)

	// An index: each platform's layers, attestations left out, and the
	// index's annotations filling in what a manifest lacks.
	base, _, err := testimage.Index(types.OCIImageIndex, "linux/amd64", "linux/arm64/v8")
	if err != nil {
		t.Fatal(err)
	}
	app, err := testimage.Derived(base, 1, map[string]string{testimage.BaseDigest: "sha256:1111111111111111111111111111111111111111111111111111111111111111"})
	if err != nil {
		t.Fatal(err)
	}
	app = mutate.AppendManifests(app, mutate.IndexAddendum{Add: must(random.Image(32, 1)), Descriptor: v1.Descriptor{
		Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"}, Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest"}}})
	app = mutate.Annotations(app, map[string]string{testimage.BaseName: "docker.io/library/node:16.13"}).(v1.ImageIndex)
	ref, err := name.NewTag(reg.raw + "/acme/app:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, app); err != nil {
		t.Fatal(err)
	}
	got, err := r.Manifests(ctx, reg.key("acme/app", "1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := layersOf(t, app)
	delete(want, "unknown/unknown")
	var wantList []Manifest
	for _, p := range []string{"linux/amd64", "linux/arm64/v8"} {
		m := want[p]
		m.Annotations = map[string]string{testimage.BaseName: "docker.io/library/node:16.13",
			testimage.BaseDigest: "sha256:1111111111111111111111111111111111111111111111111111111111111111"}
		wantList = append(wantList, m)
	}
	if diff := cmp.Diff(wantList, got); diff != "" {
		t.Errorf("Manifests of an index (-want +got):\n%s", diff)
	}

	// A single image, by digest: its platform from its config.
	img := must(random.Image(32, 2))
	cf := must(img.ConfigFile()).DeepCopy()
	cf.OS, cf.Architecture = "linux", "riscv64"
	img = must(mutate.ConfigFile(img, cf))
	if err := remote.Write(must(name.NewTag(reg.raw+"/acme/tool:1")), img); err != nil {
		t.Fatal(err)
	}
	d := must(img.Digest())
	got, err = r.Manifests(ctx, Key{Name: reg.host + "/acme/tool"}, &d)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Platform != "linux/riscv64" || got[0].Digest != d || len(got[0].Layers) != 2 {
		t.Errorf("Manifests of a single image = %+v", got)
	}

	// What the registry lacks is ErrNotFound, naming the image.
	if _, err := r.Manifests(ctx, reg.key("acme/app", "2"), nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("Manifests of a missing tag = %v, want ErrNotFound", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestManifestsBoundsPlatforms checks that an index of more platforms
// than any real one has is refused before a GET per platform.
func TestManifestsBoundsPlatforms(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry(t, nil)
	var plats []v1.Platform
	for i := range maxPlatforms + 1 {
		plats = append(plats, v1.Platform{OS: "linux", Architecture: "arch" + string(rune('a'+i/26)) + string(rune('a'+i%26))})
	}
	reg.pushIndex(t, "many", "1", plats...)
	r := newRegistry(testOptions(), fastRetry)
	before := reg.count.get("GET manifest")
	_, err := r.Manifests(ctxFor(t), reg.key("many", "1"), nil)
	if err == nil || !strings.Contains(err.Error(), "the index lists 65 platforms; imagelock reads at most 64") {
		t.Errorf("Manifests = %v, want the platforms bounded", err)
	}
	if n := reg.count.get("GET manifest") - before; n != 1 {
		t.Errorf("GET manifest = %d, want 1 (the index alone)", n)
	}
}
