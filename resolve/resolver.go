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

// Authorizer is a Resolver whose requests to a repository need a
// handshake first (a token). Authorize makes the handshake of repository
// name, as its first request would, and returns once it is done; what
// went wrong is that request's to report. A caller that bounds its
// requests calls it before it takes a slot: the tokens of every
// repository it will ask about are then asked for together, in a few
// requests, while the slots are busy, instead of a few at a time.
type Authorizer interface {
	Authorize(ctx context.Context, name string)
}

// Descriptor is what a HEAD tells of a tag.
type Descriptor struct {
	Digest v1.Hash
	Index  bool
}
