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

// headAll asks the registry, once per key, what each tag points at now.
func (e *env) headAll(ctx context.Context, keys []resolve.Key) (map[resolve.Key]resolve.Descriptor, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	if e.Resolver == nil {
		return nil, ErrOffline
	}
	descs := make([]resolve.Descriptor, len(keys))
	step := e.progress(len(keys))
	err := forEach(ctx, len(keys), e.Jobs, func(ctx context.Context, i int) error {
		d, err := e.Resolver.Head(ctx, keys[i])
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
