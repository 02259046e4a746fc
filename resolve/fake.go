package resolve

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Fake is a Resolver backed by maps, for tests. It fails on any key or
// index it was not told about, so a test notices a lookup it did not
// expect, and it counts calls, so a test can assert what was asked. Like
// a registry, it keeps what a tag pointed at after the tag moves, until
// Delete. The zero value is ready to use and safe for concurrent use.
type Fake struct {
	mu        sync.Mutex
	tags      map[Key]Descriptor
	errs      map[Key]error
	indexes   map[string]map[string]v1.Hash // by name@digest
	held      map[string]bool               // every manifest set, by name@digest, until Delete
	heads     map[Key]int
	platforms map[string]int // by name@digest
	exists    map[string]int // by name@digest
	lists     map[string]int // by name
}

var _ Resolver = (*Fake)(nil)

// SetImage makes k's tag point at a single-platform manifest.
func (f *Fake) SetImage(k Key, digest v1.Hash) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.init()
	f.tags[k] = Descriptor{Digest: digest}
	f.held[k.Name+"@"+digest.String()] = true
	delete(f.errs, k)
}

// SetIndex makes k's tag point at an index whose manifests are platforms.
func (f *Fake) SetIndex(k Key, digest v1.Hash, platforms map[string]v1.Hash) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.init()
	f.tags[k] = Descriptor{Digest: digest, Index: true}
	delete(f.errs, k)
	f.indexes[k.Name+"@"+digest.String()] = maps.Clone(platforms)
	f.held[k.Name+"@"+digest.String()] = true
	for _, d := range platforms {
		f.held[k.Name+"@"+d.String()] = true
	}
}

// Delete removes a manifest or index from the repository name, as a
// registry's garbage collection or retention policy would; tags that
// point at it keep pointing there.
func (f *Fake) Delete(name string, digest v1.Hash) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.init()
	delete(f.held, name+"@"+digest.String())
}

// SetError makes Head of k fail with err: to make a tag vanish, pass
// &Error{Image: k.String(), Status: 404, Code: "MANIFEST_UNKNOWN"}.
func (f *Fake) SetError(k Key, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.init()
	f.errs[k] = err
	delete(f.tags, k)
}

// HeadCalls returns how many times Head was called for k.
func (f *Fake) HeadCalls(k Key) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.heads[k]
}

// PlatformsCalls returns how many times Platforms was called for the index
// at digest in the repository name.
func (f *Fake) PlatformsCalls(name string, digest v1.Hash) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.platforms[name+"@"+digest.String()]
}

// ExistsCalls returns how many times Exists was called for the manifest at
// digest in the repository name.
func (f *Fake) ExistsCalls(name string, digest v1.Hash) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.exists[name+"@"+digest.String()]
}

// Head returns what k was set to.
func (f *Fake) Head(ctx context.Context, k Key) (Descriptor, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.init()
	f.heads[k]++
	if err := ctx.Err(); err != nil {
		return Descriptor{}, err
	}
	if err, ok := f.errs[k]; ok {
		return Descriptor{}, err
	}
	d, ok := f.tags[k]
	if !ok {
		return Descriptor{}, fmt.Errorf("fake resolver: Head of %s, which the test did not set", k)
	}
	return d, nil
}

// Platforms returns the platforms given to SetIndex for the index, and nil
// for a digest a tag was given by SetImage.
func (f *Fake) Platforms(ctx context.Context, name string, digest v1.Hash) (map[string]v1.Hash, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.init()
	id := name + "@" + digest.String()
	f.platforms[id]++
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !f.held[id] {
		return nil, fmt.Errorf("fake resolver: Platforms of %s, which the test did not set or deleted", id)
	}
	return maps.Clone(f.indexes[id]), nil
}

// Exists finds digest among what the repository name was set to hold: the
// digests its tags point or pointed at and the manifests of its indexes,
// but those deleted. Any other digest is ErrNotFound.
func (f *Fake) Exists(ctx context.Context, name string, digest v1.Hash) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.init()
	id := name + "@" + digest.String()
	f.exists[id]++
	if err := ctx.Err(); err != nil {
		return err
	}
	if f.held[id] {
		return nil
	}
	return &Error{Image: id, Op: "checking", Status: http.StatusNotFound, Code: string(transport.ManifestUnknownErrorCode)}
}

// Tags lists the tags of name that SetImage and SetIndex set, sorted;
// a repository with none is an error, as a registry's NAME_UNKNOWN.
func (f *Fake) Tags(ctx context.Context, name string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.init()
	f.lists[name]++
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var tags []string
	for k := range f.tags {
		if k.Name == name {
			tags = append(tags, k.Tag)
		}
	}
	if len(tags) == 0 {
		return nil, &Error{Image: name, Op: "listing tags", Status: http.StatusNotFound, Code: string(transport.NameUnknownErrorCode)}
	}
	slices.Sort(tags)
	return tags, nil
}

// TagsCalls returns how many times Tags was called for the repository name.
func (f *Fake) TagsCalls(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lists[name]
}

func (f *Fake) init() {
	if f.tags == nil {
		f.tags = map[Key]Descriptor{}
		f.errs = map[Key]error{}
		f.indexes = map[string]map[string]v1.Hash{}
		f.held = map[string]bool{}
		f.heads = map[Key]int{}
		f.platforms = map[string]int{}
		f.exists = map[string]int{}
		f.lists = map[string]int{}
	}
}
