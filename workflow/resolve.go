package workflow

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imagelock/imagelock/lock"
	"github.com/imagelock/imagelock/resolve"
)

// ErrOffline is returned when a command needs a registry and has none.
var ErrOffline = errors.New("this needs a registry, and the command runs offline")

// waitAll waits for every lookup and calls step with the index of each as
// it ends. Cancelling ctx stops the wait with ctx's error; the lookups'
// own errors are theirs to read (lookupErrs).
func waitAll(ctx context.Context, lks []*lookup, step func(i int)) error {
	ended := make(chan int)
	for i, lk := range lks {
		go func() {
			select {
			case <-lk.done:
				select {
				case ended <- i:
				case <-ctx.Done():
				}
			case <-ctx.Done():
			}
		}()
	}
	for range lks {
		select {
		case i := <-ended:
			step(i)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return ctx.Err()
}

// lookupErrs joins the lookups' errors, in order, but those that are
// expected (nil expects none); the lookups of a registry host taken for
// dead fold into one line (resolve.Join).
func lookupErrs(lks []*lookup, expected error) error {
	var errs []error
	for _, lk := range lks {
		if lk.err != nil && (expected == nil || !errors.Is(lk.err, expected)) {
			errs = append(errs, lk.err)
		}
	}
	return resolve.Join(errs...)
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
// When registries answer, but some have no such tag, the error is an
// *UnresolvedError naming every one.
func (e *env) headAll(ctx context.Context, l *lookups, keys []resolve.Key) (map[resolve.Key]resolve.Descriptor, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	if l == nil {
		return nil, ErrOffline
	}
	lks := make([]*lookup, len(keys))
	for i, k := range keys {
		lks[i] = l.head(k)
	}
	step := e.progress(len(keys))
	if err := waitAll(ctx, lks, func(i int) { step(keys[i].String()) }); err != nil {
		return nil, err
	}
	if err := lookupErrs(lks, resolve.ErrNotFound); err != nil {
		return nil, err
	}
	var missing UnresolvedError
	for i, lk := range lks {
		if lk.err != nil {
			missing.Images = append(missing.Images, Unresolved{Key: keys[i], Err: lk.err})
		}
	}
	if len(missing.Images) > 0 {
		return nil, &missing
	}
	out := make(map[resolve.Key]resolve.Descriptor, len(keys))
	for i, k := range keys {
		out[k] = lks[i].desc
	}
	return out, nil
}

// UnresolvedError is a lock that cannot be written because registries
// have no such images: typically images built here, or that exist only in
// tests. It names every one, with the places that use it.
type UnresolvedError struct {
	Images []Unresolved
}

// Unresolved is an image no registry has.
type Unresolved struct {
	Key resolve.Key
	Err error
	// Places are the file:line:col of the references that use it.
	Places []string
}

func (e *UnresolvedError) Error() string {
	var b strings.Builder
	if len(e.Images) == 1 {
		b.WriteString("1 image is in no registry, so nothing was written:\n")
	} else {
		fmt.Fprintf(&b, "%d images are in no registry, so nothing was written:\n", len(e.Images))
	}
	ignore := make([]string, len(e.Images))
	for i, im := range e.Images {
		fmt.Fprintf(&b, "  %v\n", im.Err)
		for _, p := range im.Places {
			fmt.Fprintf(&b, "      %s\n", p)
		}
		ignore[i] = strconv.Quote(shortName(im.Key) + ":" + im.Key.Tag)
	}
	fmt.Fprintf(&b, "fix the names or tags; or, for images built here or that exist only in tests, add to %s:\n", ConfigFile)
	fmt.Fprintf(&b, "ignore = [%s]", strings.Join(ignore, ", "))
	return b.String()
}

// placeUnresolved adds to an *UnresolvedError the places that use each
// image; other errors it returns as they are.
func placeUnresolved(err error, groups []*group) error {
	var ue *UnresolvedError
	if !errors.As(err, &ue) {
		return err
	}
	for i, im := range ue.Images {
		for _, g := range groups {
			if g.key == im.Key && g.digest == nil {
				for _, r := range g.refs {
					ue.Images[i].Places = append(ue.Images[i].Places, r.Pos())
				}
			}
		}
	}
	return ue
}

// lookups asks the registry about each image once, starting as soon as a
// scan worker names it, so the first round trips overlap the rest of the
// scan. Whoever needs an answer waits for it; a lookup nobody asked for
// before is started then.
type lookups struct {
	ctx context.Context
	r   resolve.Resolver
	// work hands a lookup to an idle worker; at most jobs workers run,
	// each started when a lookup finds none idle. A worker keeps its
	// stack, grown deep in the HTTP path, for the next lookup: a
	// goroutine per request grew one anew each time.
	work    chan func()
	jobs    int
	workers int // started; under mu
	// afterHead, when set, sees each tag's answer before anyone waiting
	// does: it may start the lookups that follow from it.
	afterHead func(resolve.Key, resolve.Descriptor)

	mu sync.Mutex
	m  map[lookupKey]*lookup
}

type op int

const (
	opHead      op = iota // HEAD a tag
	opExists              // HEAD a digest: is it still there?
	opPlatforms           // GET an index: its platform manifests
)

type lookupKey struct {
	op     op
	key    resolve.Key // the name alone for opExists and opPlatforms
	digest v1.Hash
}

type lookup struct {
	done      chan struct{}
	desc      resolve.Descriptor
	platforms map[string]v1.Hash
	err       error
}

// newLookups returns lookups against e's resolver, at most e.Jobs at once,
// or nil offline; stop cancels the ones still running.
func (e *env) newLookups(ctx context.Context) (l *lookups, stop func()) {
	if e.Resolver == nil {
		return nil, func() {}
	}
	ctx, stop = context.WithCancel(ctx)
	return &lookups{ctx: ctx, r: e.Resolver, work: make(chan func()), jobs: e.Jobs, m: map[lookupKey]*lookup{}}, stop
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
		if a, ok := l.r.(resolve.Authorizer); ok {
			// A token comes from the token server, not the registry:
			// waiting for it holds no worker.
			a.Authorize(l.ctx, k.key.Name)
		}
		l.run(func() {
			defer close(lk.done)
			switch k.op {
			case opHead:
				lk.desc, lk.err = l.r.Head(l.ctx, k.key)
			case opExists:
				lk.err = l.r.Exists(l.ctx, k.key.Name, k.digest)
			case opPlatforms:
				lk.platforms, lk.err = l.r.Platforms(l.ctx, k.key.Name, k.digest)
			}
			if k.op == opHead && lk.err == nil && l.afterHead != nil {
				l.afterHead(k.key, lk.desc)
			}
		}, func() {
			lk.err = l.ctx.Err()
			close(lk.done)
		})
	}()
	return lk
}

// run hands f to an idle worker, or a new one while fewer than jobs run,
// else waits for one; cancel runs instead once the lookups are stopped.
func (l *lookups) run(f, cancel func()) {
	select {
	case l.work <- f:
		return
	default:
	}
	l.mu.Lock()
	if l.workers < l.jobs {
		l.workers++
		l.mu.Unlock()
		go l.worker(f)
		return
	}
	l.mu.Unlock()
	select {
	case l.work <- f:
	case <-l.ctx.Done():
		cancel()
	}
}

// worker runs f, then the lookups handed to it, until they are stopped.
func (l *lookups) worker(f func()) {
	for {
		f()
		select {
		case f = <-l.work:
		case <-l.ctx.Done():
			return
		}
	}
}

// head starts the HEAD of a tag.
func (l *lookups) head(k resolve.Key) *lookup { return l.start(lookupKey{op: opHead, key: k}) }

// exists starts the check that a digest is still in its repository.
func (l *lookups) exists(name string, d v1.Hash) *lookup {
	return l.start(lookupKey{op: opExists, key: resolve.Key{Name: name}, digest: d})
}

// platforms starts the GET of an index.
func (l *lookups) platforms(nd nameDigest) *lookup {
	return l.start(lookupKey{op: opPlatforms, key: resolve.Key{Name: nd.name}, digest: nd.digest})
}

// nameDigest is a manifest or index in a repository.
type nameDigest struct {
	name   string
	digest v1.Hash
}

// knownPlatforms indexes what the lock knows of each digest's platforms
// (nil for a single manifest). Digests are content addresses: what an
// index once listed, it always lists.
func knownPlatforms(f *lock.File) map[nameDigest]map[string]v1.Hash {
	out := make(map[nameDigest]map[string]v1.Hash, len(f.Images))
	for _, im := range f.Images {
		out[nameDigest{im.Name, im.Digest}] = im.Platforms
	}
	return out
}

// platformsAll returns the platform manifests of each index, from the old
// lock where it already knows the digest (but those to refetch), from the
// registry otherwise, one GET each (nil offline).
func (e *env) platformsAll(ctx context.Context, l *lookups, known map[nameDigest]map[string]v1.Hash, need []nameDigest, refetch map[nameDigest]bool) (map[nameDigest]map[string]v1.Hash, error) {
	out := make(map[nameDigest]map[string]v1.Hash, len(need))
	var fetch []nameDigest
	for _, nd := range need {
		if p, ok := known[nd]; ok && !refetch[nd] {
			out[nd] = e.filterPlatforms(p)
			continue
		}
		out[nd] = nil
		if l != nil {
			fetch = append(fetch, nd)
		}
	}
	lks := make([]*lookup, len(fetch))
	for i, nd := range fetch {
		lks[i] = l.platforms(nd)
	}
	step := e.progress(len(fetch))
	if err := waitAll(ctx, lks, func(i int) { step(fetch[i].name + "@" + fetch[i].digest.String()) }); err != nil {
		return nil, err
	}
	if err := lookupErrs(lks, nil); err != nil {
		return nil, err
	}
	for i, nd := range fetch {
		out[nd] = e.filterPlatforms(lks[i].platforms)
	}
	return out, nil
}

// filterPlatforms keeps the configured platforms; "linux/arm64" keeps
// "linux/arm64/v8" too.
func (e *env) filterPlatforms(all map[string]v1.Hash) map[string]v1.Hash {
	if len(e.Platforms) == 0 || all == nil {
		return all
	}
	out := map[string]v1.Hash{}
	for p, d := range all {
		if slices.ContainsFunc(e.Platforms, func(want string) bool { return satisfies(p, want) }) {
			out[p] = d
		}
	}
	return out
}

// missing returns the wanted platforms that an index's platforms lack;
// none for a single manifest (nil) or when every platform is wanted.
func (e *env) missing(platforms map[string]v1.Hash) []string {
	if platforms == nil {
		return nil
	}
	var out []string
	for _, want := range e.Platforms {
		if !slices.ContainsFunc(slices.Collect(maps.Keys(platforms)), func(have string) bool { return satisfies(have, want) }) {
			out = append(out, want)
		}
	}
	return out
}

// satisfies reports whether platform have is one that want asks for.
func satisfies(have, want string) bool {
	h, err := v1.ParsePlatform(have)
	if err != nil {
		return false
	}
	w, err := v1.ParsePlatform(want)
	return err == nil && h.Satisfies(*w)
}
