package testimage

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestIndex(t *testing.T) {
	t.Parallel()
	idx, manifests, err := Index(types.OCIImageIndex, "linux/amd64", "linux/arm64/v8")
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if im.MediaType != types.OCIImageIndex {
		t.Errorf("media type = %s", im.MediaType)
	}
	got := map[string]v1.Hash{}
	for _, m := range im.Manifests {
		got[m.Platform.String()] = m.Digest
		img, err := idx.Image(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if p := cf.Platform().String(); p != m.Platform.String() {
			t.Errorf("image config says %s, index says %s", p, m.Platform)
		}
	}
	if diff := cmp.Diff(manifests, got); diff != "" {
		t.Errorf("manifests (-returned +in the index):\n%s", diff)
	}
	if _, _, err := Index(types.OCIImageIndex, "linux/amd64/v8/x/y"); err == nil {
		t.Error("a malformed platform was accepted")
	}
}

// A derived image starts with its base's layers, per platform, and
// carries the annotations.
func TestDerived(t *testing.T) {
	t.Parallel()
	base, _, err := Index(types.OCIImageIndex, "linux/amd64", "linux/arm64/v8")
	if err != nil {
		t.Fatal(err)
	}
	idx, err := Derived(base, 2, map[string]string{BaseName: "docker.io/library/node:16"})
	if err != nil {
		t.Fatal(err)
	}
	layers := func(idx v1.ImageIndex) map[string][]v1.Hash {
		im, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]v1.Hash{}
		for _, d := range im.Manifests {
			img, err := idx.Image(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			m, err := img.Manifest()
			if err != nil {
				t.Fatal(err)
			}
			if idx != base && m.Annotations[BaseName] != "docker.io/library/node:16" {
				t.Errorf("%s: annotations = %v", d.Platform, m.Annotations)
			}
			for _, l := range m.Layers {
				out[d.Platform.String()] = append(out[d.Platform.String()], l.Digest)
			}
		}
		return out
	}
	b, d := layers(base), layers(idx)
	for p, bl := range b {
		if len(d[p]) != len(bl)+2 || !cmp.Equal(d[p][:len(bl)], bl) {
			t.Errorf("%s: derived layers %v do not start with the base's %v and add 2", p, d[p], bl)
		}
	}
}
