package workflow

import (
	"context"
	"errors"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/imagelock/imagelock/lock"
	"github.com/imagelock/imagelock/resolve"
)

// ErrOffline is returned when a command needs a registry and has none.
var ErrOffline = errors.New("this needs a registry, and the command runs offline")

// forEach runs f for i in [0, n) with at most jobs at once, and returns
// every error, joined in index order. Cancelling ctx stops new work.
func forEach(ctx context.Context, n, jobs int, f func(ctx context.Context, i int) error) error {
	errs := make([]error, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	for i := 0; i < n; i++ {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			errs[i] = f(gctx, i)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// progress returns a function that reports one more of total done to
// Options.Progress, serialized; a no-op when Progress is nil.
func (e *env) progress(total int) func(image string) {
	if e.Progress == nil {
		return func(string) {}
	}
	var mu sync.Mutex
	done := 0
	return func(image string) {
		mu.Lock()
		defer mu.Unlock()
		done++
		e.Progress(done, total, image)
	}
}

// headAll waits for the HEAD of every key, starting those not started.
func (e *env) headAll(ctx context.Context, l *lookups, keys []resolve.Key) (map[resolve.Key]resolve.Descriptor, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	if l == nil {
		return nil, ErrOffline
	}
	for _, k := range keys {
		l.head(k)
	}
	descs := make([]resolve.Descriptor, len(keys))
	step := e.progress(len(keys))
	err := forEach(ctx, len(keys), len(keys), func(ctx context.Context, i int) error {
		d, err := l.head(keys[i]).wait(ctx)
		descs[i] = d
		step(keys[i].String())
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make(map[resolve.Key]resolve.Descriptor, len(keys))
	for i, k := range keys {
		out[k] = descs[i]
	}
	return out, nil
}

// lookups asks the registry about each image once, starting as soon as a
// scan worker names it, so the first round trips overlap the rest of the
// scan. Whoever needs an answer waits for it; a key nobody asked about
// before is started then.
type lookups struct {
	ctx context.Context
	r   resolve.Resolver
	sem chan struct{}

	mu sync.Mutex
	m  map[lookupKey]*lookup
}

// lookupKey is a tag to HEAD, or a digest (digest set) to check exists.
type lookupKey struct {
	key    resolve.Key
	digest v1.Hash
}

type lookup struct {
	done chan struct{}
	desc resolve.Descriptor
	err  error
}

// newLookups returns lookups against e's resolver, at most e.Jobs at once.
// Cancel ctx to stop the ones still running.
func (e *env) newLookups(ctx context.Context) *lookups {
	return &lookups{ctx: ctx, r: e.Resolver, sem: make(chan struct{}, e.Jobs), m: map[lookupKey]*lookup{}}
}

// start begins the lookup of k unless it has begun.
func (l *lookups) start(k lookupKey) *lookup {
	l.mu.Lock()
	defer l.mu.Unlock()
	if lk, ok := l.m[k]; ok {
		return lk
	}
	lk := &lookup{done: make(chan struct{})}
	l.m[k] = lk
	go func() {
		defer close(lk.done)
		select {
		case l.sem <- struct{}{}:
			defer func() { <-l.sem }()
		case <-l.ctx.Done():
			lk.err = l.ctx.Err()
			return
		}
		if k.digest.Hex != "" {
			lk.err = l.r.Exists(l.ctx, k.key.Name, k.digest)
			return
		}
		lk.desc, lk.err = l.r.Head(l.ctx, k.key)
	}()
	return lk
}

// head starts the HEAD of a tag.
func (l *lookups) head(k resolve.Key) *lookup { return l.start(lookupKey{key: k}) }

// exists starts the check that a digest is still in its repository.
func (l *lookups) exists(name string, d v1.Hash) *lookup {
	return l.start(lookupKey{key: resolve.Key{Name: name}, digest: d})
}

// wait returns the answer, or ctx's error if it ends first.
func (lk *lookup) wait(ctx context.Context) (resolve.Descriptor, error) {
	select {
	case <-lk.done:
		return lk.desc, lk.err
	case <-ctx.Done():
		return resolve.Descriptor{}, ctx.Err()
	}
}

// nameDigest is a manifest or index in a repository.
type nameDigest struct {
	name   string
	digest v1.Hash
}

// platformsAll returns the platform manifests of each index, from the old
// lock where it already knows the digest (content addresses never change),
// from the registry otherwise, one GET each.
func (e *env) platformsAll(ctx context.Context, old *lock.File, need []nameDigest) (map[nameDigest]map[string]v1.Hash, error) {
	out := make(map[nameDigest]map[string]v1.Hash, len(need))
	var fetch []nameDigest
	for _, nd := range need {
		if p, ok := old.KnownPlatforms(nd.name, nd.digest); ok {
			out[nd] = e.filterPlatforms(p)
			continue
		}
		fetch = append(fetch, nd)
	}
	if len(fetch) == 0 {
		return out, nil
	}
	if e.Resolver == nil {
		for _, nd := range fetch {
			out[nd] = nil
		}
		return out, nil
	}
	var mu sync.Mutex
	step := e.progress(len(fetch))
	err := forEach(ctx, len(fetch), e.Jobs, func(ctx context.Context, i int) error {
		p, err := e.Resolver.Platforms(ctx, fetch[i].name, fetch[i].digest)
		step(fetch[i].name + "@" + fetch[i].digest.String())
		if err != nil {
			return err
		}
		mu.Lock()
		out[fetch[i]] = e.filterPlatforms(p)
		mu.Unlock()
		return nil
	})
	return out, err
}

// filterPlatforms keeps the configured platforms; "linux/arm64" keeps
// "linux/arm64/v8" too.
func (e *env) filterPlatforms(all map[string]v1.Hash) map[string]v1.Hash {
	if len(e.Platforms) == 0 || all == nil {
		return all
	}
	out := map[string]v1.Hash{}
	for p, d := range all {
		have, err := v1.ParsePlatform(p)
		if err != nil {
			continue
		}
		for _, want := range e.Platforms {
			w, err := v1.ParsePlatform(want)
			if err == nil && have.Satisfies(*w) {
				out[p] = d
			}
		}
	}
	return out
}
