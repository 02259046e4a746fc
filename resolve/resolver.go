package resolve

import (
	"context"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Resolver asks registries what tags point at.
type Resolver interface {
	// Head returns the digest a tag points at now, with one HEAD request,
	// and whether that digest names an index (a multi-platform image).
	Head(ctx context.Context, k Key) (Descriptor, error)
	// Platforms fetches the index at digest and maps each platform
	// ("linux/arm64/v8") to its manifest digest. Platforms with an empty
	// os (attestation manifests) are left out. A single-platform manifest
	// at digest gives nil and no error: it has no platforms to list.
	Platforms(ctx context.Context, name string, digest v1.Hash) (map[string]v1.Hash, error)
	// Exists checks with one HEAD that the registry still has the
	// manifest or index at digest; ErrNotFound when it does not.
	Exists(ctx context.Context, name string, digest v1.Hash) error
	// Tags lists the tags of the repository name, every page of them.
	Tags(ctx context.Context, name string) ([]string, error)
}

// Descriptor is what a HEAD tells of a tag.
type Descriptor struct {
	Digest v1.Hash
	Index  bool
}
