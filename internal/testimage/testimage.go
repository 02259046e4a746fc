// Package testimage makes small random images for tests and the benchmark:
// a multi-platform index is one random image per platform, each image's
// config naming its platform, as a real build would.
package testimage

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Index returns an index of media type mt (types.DockerManifestList or
// types.OCIImageIndex) with one random image per platform
// ("linux/arm64/v8"), and each image's digest keyed by the platform as
// given.
func Index(mt types.MediaType, platforms ...string) (v1.ImageIndex, map[string]v1.Hash, error) {
	idx := mutate.IndexMediaType(empty.Index, mt)
	manifests := make(map[string]v1.Hash, len(platforms))
	for _, p := range platforms {
		plat, err := v1.ParsePlatform(p)
		if err != nil {
			return nil, nil, fmt.Errorf("parsing platform %q: %w", p, err)
		}
		img, err := random.Image(256, 1)
		if err != nil {
			return nil, nil, fmt.Errorf("making a random image: %w", err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, nil, fmt.Errorf("reading image config: %w", err)
		}
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture, cf.Variant = plat.OS, plat.Architecture, plat.Variant
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			return nil, nil, fmt.Errorf("setting platform %s: %w", p, err)
		}
		if manifests[p], err = img.Digest(); err != nil {
			return nil, nil, err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: plat}})
	}
	return idx, manifests, nil
}

// The OCI annotations a builder writes on an image to name its base.
const (
	BaseName   = "org.opencontainers.image.base.name"
	BaseDigest = "org.opencontainers.image.base.digest"
)

// Derived returns an index built on base as FROM base and a RUN would
// build it: for each platform of base, an image of the base image's
// layers then n random layers of its own, with the base's config and
// platform, and annotations (BaseName, BaseDigest) on each manifest.
func Derived(base v1.ImageIndex, n int, annotations map[string]string) (v1.ImageIndex, error) {
	im, err := base.IndexManifest()
	if err != nil {
		return nil, err
	}
	idx := mutate.IndexMediaType(empty.Index, im.MediaType)
	for _, desc := range im.Manifests {
		img, err := base.Image(desc.Digest)
		if err != nil {
			return nil, fmt.Errorf("reading base image %s: %w", desc.Digest, err)
		}
		for range n {
			layer, err := random.Layer(256, types.OCILayer)
			if err != nil {
				return nil, fmt.Errorf("making a random layer: %w", err)
			}
			if img, err = mutate.AppendLayers(img, layer); err != nil {
				return nil, fmt.Errorf("adding a layer: %w", err)
			}
		}
		if len(annotations) > 0 {
			img = mutate.Annotations(img, annotations).(v1.Image)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: desc.Platform}})
	}
	return idx, nil
}
