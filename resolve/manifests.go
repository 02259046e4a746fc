package resolve

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"sort"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Manifest is one platform's image: the layers its build stacked, base
// first, and the annotations its builder wrote.
type Manifest struct {
	Platform    string // e.g. "linux/arm64/v8"; empty when the image names none
	Digest      v1.Hash
	Layers      []v1.Hash
	Annotations map[string]string
}

// Inspector fetches what images are made of.
type Inspector interface {
	// Manifests fetches the image k names (at digest d when not nil)
	// and returns one Manifest per platform, sorted by platform: each
	// image of an index, attestations left out, or the single image,
	// whose platform its config tells.
	Manifests(ctx context.Context, k Key, d *v1.Hash) ([]Manifest, error)
}

var _ Inspector = (*Registry)(nil)

// Manifests is Inspector's, against the registry: a GET of the index or
// manifest, a GET of each platform's manifest, and for a single image a
// GET of its config. An image's annotations are completed by those of
// the index's descriptor for it, then those of the index: builders write
// org.opencontainers.image.base.* at any of the three.
func (r *Registry) Manifests(ctx context.Context, k Key, d *v1.Hash) ([]Manifest, error) {
	const op = "fetching manifests"
	image := k.String()
	if d != nil {
		image = k.Name + "@" + d.String()
	}
	ref, host, err := r.target(k, d)
	if err != nil {
		return nil, &Error{Image: image, Op: op, Err: err}
	}
	var out []Manifest
	err = r.pull(ctx, ref, host, func(ctx context.Context, p *remote.Puller) error {
		rd, err := p.Get(ctx, ref)
		if err != nil {
			return err
		}
		if !mediaType(rd).IsIndex() {
			m, err := single(rd)
			if err != nil {
				return err
			}
			out = []Manifest{m}
			return nil
		}
		im, err := v1.ParseIndexManifest(bytes.NewReader(rd.Manifest))
		if err != nil {
			return fmt.Errorf("parsing index: %w", err)
		}
		wanted := platforms(im)
		if len(wanted) > maxPlatforms {
			return fmt.Errorf("the index lists %d platforms; imagelock reads at most %d", len(wanted), maxPlatforms)
		}
		for _, desc := range im.Manifests {
			if desc.Platform == nil || wanted[desc.Platform.String()] != desc.Digest {
				continue
			}
			md, err := p.Get(ctx, ref.Context().Digest(desc.Digest.String()))
			if err != nil {
				return err
			}
			mf, err := v1.ParseManifest(bytes.NewReader(md.Manifest))
			if err != nil {
				return fmt.Errorf("parsing manifest %s: %w", desc.Digest, err)
			}
			m := manifest(desc.Digest, mf)
			m.Platform = desc.Platform.String()
			fill(m.Annotations, desc.Annotations)
			fill(m.Annotations, im.Annotations)
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, newError(ctx, image, host, op, r.o.Timeout, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Platform < out[j].Platform })
	return out, nil
}

// maxPlatforms bounds the manifests Manifests fetches for one index, one
// GET each: real indexes list a dozen at most.
const maxPlatforms = 64

// single reads a manifest that is no index, and its config for the
// platform.
func single(rd *remote.Descriptor) (Manifest, error) {
	mf, err := v1.ParseManifest(bytes.NewReader(rd.Manifest))
	if err != nil {
		return Manifest{}, fmt.Errorf("parsing manifest: %w", err)
	}
	m := manifest(rd.Digest, mf)
	img, err := rd.Image()
	if err != nil {
		return Manifest{}, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return Manifest{}, fmt.Errorf("reading the image's config: %w", err)
	}
	if p := cf.Platform(); p != nil {
		m.Platform = p.String()
	}
	return m, nil
}

func manifest(d v1.Hash, mf *v1.Manifest) Manifest {
	m := Manifest{Digest: d, Annotations: maps.Clone(mf.Annotations)}
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	for _, l := range mf.Layers {
		m.Layers = append(m.Layers, l.Digest)
	}
	return m
}

// fill adds to dst the keys of src it lacks.
func fill(dst, src map[string]string) {
	for k, v := range src {
		if _, ok := dst[k]; !ok {
			dst[k] = v
		}
	}
}
