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
