package main

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/imagelock/imagelock/internal/testimage"
)

// image is one seeded image key: repo:tag on one of the proxy's host
// names, and the digest pushed there.
type image struct {
	host, repo, tag string
	index           bool
	digest          v1.Hash
}

func (m image) key() string    { return m.host + "/" + m.repo + ":" + m.tag }
func (m image) pinned() string { return m.key() + "@" + m.digest.String() }

// indexEvery makes every n-th key a two-platform index.
const indexEvery = 5

var indexPlatforms = []string{"linux/amd64", "linux/arm64/v8"}

// plan names n distinct keys spread over hosts. Keys on different hosts
// never share a repository:tag, because every host reaches one backend.
func plan(n int, hosts []string) []image {
	imgs := make([]image, n)
	for i := range imgs {
		imgs[i] = image{
			host:  hosts[i%len(hosts)],
			repo:  fmt.Sprintf("team%02d/svc%04d", i%12, i/3),
			tag:   fmt.Sprintf("1.%d", i%3),
			index: i%indexEvery == indexEvery-1,
		}
	}
	return imgs
}

// seed pushes every image straight to the registry at backend (host:port),
// bypassing the proxy, and records the digests in imgs. It pushes
// manifests only (one request per manifest): no run of the bench reads a
// blob (the faults run asserts it), and the in-process registry does not
// check that an image's blobs exist, so 6,000 keys seed in seconds.
func seed(ctx context.Context, backend string, imgs []image) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i := range imgs {
		g.Go(func() error {
			m := &imgs[i]
			ref, err := name.ParseReference(backend+"/"+m.repo+":"+m.tag, name.Insecure)
			if err != nil {
				return fmt.Errorf("parsing %s: %w", m.key(), err)
			}
			var top remote.Taggable
			if m.index {
				idx, err := platformIndex()
				if err != nil {
					return err
				}
				im, err := idx.IndexManifest()
				if err != nil {
					return err
				}
				// The registry wants an index's manifests before the index.
				for _, desc := range im.Manifests {
					img, err := idx.Image(desc.Digest)
					if err != nil {
						return err
					}
					if err := remote.Put(ref.Context().Digest(desc.Digest.String()), img, remote.WithContext(ctx)); err != nil {
						return fmt.Errorf("pushing %s's %s: %w", ref, desc.Platform, err)
					}
				}
				top = idx
				m.digest, err = idx.Digest()
				if err != nil {
					return err
				}
			} else {
				img, err := random.Image(256, 1)
				if err != nil {
					return fmt.Errorf("making a random image: %w", err)
				}
				top = img
				if m.digest, err = img.Digest(); err != nil {
					return err
				}
			}
			if err := remote.Put(ref, top, remote.WithContext(ctx)); err != nil {
				return fmt.Errorf("pushing %s: %w", ref, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// platformIndex is a Docker manifest list with one small random image per
// platform in indexPlatforms.
func platformIndex() (v1.ImageIndex, error) {
	idx, _, err := testimage.Index(types.DockerManifestList, indexPlatforms...)
	return idx, err
}
