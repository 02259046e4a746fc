package workflow

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/imagelock/imagelock/internal/bounded"
	"github.com/imagelock/imagelock/internal/fileerr"
	"github.com/imagelock/imagelock/lock"
	"github.com/imagelock/imagelock/resolve"
	"github.com/imagelock/imagelock/rewrite"
)

// The OCI annotations a builder (buildkit, with its default exporter
// settings) writes on an image to name the base it was built on.
const (
	AnnotationBaseName   = "org.opencontainers.image.base.name"
	AnnotationBaseDigest = "org.opencontainers.image.base.digest"
)

// The verdicts of Stale, per platform.
const (
	StaleCurrent = "current" // built on the base the lock records
	StaleBehind  = "behind"  // built on another digest of the base: rebuild
	StaleUnknown = "unknown" // no base to compare with
)

// StaleOptions say which built images Stale checks.
type StaleOptions struct {
	// Images are registry references of built images ("ghcr.io/acme/app:1.0").
	Images []string
	// Dockerfile, relative to Options.Dir, names the base for an image
	// whose builder wrote no base annotation: its final stage's.
	Dockerfile string
	// Inspector fetches the images' and bases' layers.
	Inspector resolve.Inspector
}

// StaleResult is each image's verdicts, in the order given.
type StaleResult struct {
	Images []StaleImage `json:"images"`
}

// Behind reports whether any platform of any image is behind its base.
func (r *StaleResult) Behind() bool {
	for _, im := range r.Images {
		for _, p := range im.Platforms {
			if p.Status == StaleBehind {
				return true
			}
		}
	}
	return false
}

// StaleImage is one built image and its base.
type StaleImage struct {
	// Image is the normalized reference checked.
	Image string `json:"image"`
	// Base is the base's lock key, and BaseFrom where it was learned:
	// "annotation", or the Dockerfile's FROM as file:line. Both are
	// empty when the base is unknown.
	Base      string          `json:"base,omitempty"`
	BaseFrom  string          `json:"base_from,omitempty"`
	Platforms []StalePlatform `json:"platforms"`
}

// StalePlatform is the verdict for one platform of an image.
type StalePlatform struct {
	Platform string `json:"platform"`
	Status   string `json:"status"`
	// Digest is the built image's manifest for the platform.
	Digest string `json:"digest"`
	// BuiltOn is the base digest the image's annotation names, if any.
	BuiltOn string `json:"built_on,omitempty"`
	// Locked is the digest the lock records for the base.
	Locked string `json:"locked,omitempty"`
	Msg    string `json:"message"`
	Fix    string `json:"fix,omitempty"`
}

// Stale tells, for each platform of each built image, whether it was
// built on the base the lock records: the base's layers (the locked
// index's manifest for the platform) must be the image's first layers.
// The base is what the image's annotations name, else the final stage's
// of the Dockerfile given. Registry requests: one GET of each image and
// of each platform's manifest, the same for each locked base.
func Stale(ctx context.Context, o Options, so StaleOptions) (*StaleResult, error) {
	e, err := prepare(o)
	if err != nil {
		return nil, err
	}
	lk, err := e.readLock(true)
	if err != nil {
		return nil, err
	}
	var df *dockerfileBase
	if so.Dockerfile != "" {
		if df, err = e.finalBase(so.Dockerfile); err != nil {
			return nil, err
		}
	}
	keys := make([]resolve.Parsed, len(so.Images))
	for i, s := range so.Images {
		if keys[i], err = resolve.Parse(s); err != nil {
			return nil, &UsageError{Msg: err.Error()}
		}
	}
	built := make([][]resolve.Manifest, len(keys))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.Jobs)
	for i, p := range keys {
		g.Go(func() error {
			ms, err := so.Inspector.Manifests(gctx, p.Key, p.Digest)
			if err != nil {
				return fmt.Errorf("fetching %s: %w", so.Images[i], err)
			}
			built[i] = ms
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	index := lk.Index()
	res := &StaleResult{Images: []StaleImage{}}
	bases := &baseCache{inspector: so.Inspector, got: map[string]*baseLayers{}}
	for i, p := range keys {
		im := StaleImage{Image: p.Key.String(), Platforms: []StalePlatform{}}
		if p.Digest != nil {
			im.Image += "@" + p.Digest.String()
		}
		var entry *lock.Image
		var baseText string
		for _, m := range built[i] {
			if n := m.Annotations[AnnotationBaseName]; n != "" {
				baseText, im.BaseFrom = n, "annotation"
				break
			}
		}
		if baseText == "" && df != nil && df.image != "" {
			baseText, im.BaseFrom = df.image, df.at
		}
		var why string
		switch {
		case baseText != "":
			var key string
			entry, key, err = lockedEntry(lk, index, baseText)
			if err != nil {
				return nil, fmt.Errorf("%s: base %q: %w", im.Image, baseText, err)
			}
			im.Base = key
			if entry == nil {
				why = "its base " + key + " is not in " + e.lockName + ": run 'imagelock lock' where the Dockerfile is"
			}
		case df != nil:
			why = "built FROM scratch (" + df.at + "): no base to fall behind"
		default:
			why = "no base annotation (" + AnnotationBaseName + "): name the Dockerfile it was built from with --dockerfile"
		}
		var base *baseLayers
		if entry != nil {
			if base, err = bases.get(ctx, entry); err != nil {
				return nil, err
			}
			if base.gone {
				why = "the locked digest of its base " + entry.Key() + " is no longer in the registry: run 'imagelock update --image " + shortName(resolveKey(entry)) + "'"
			}
		}
		for _, m := range built[i] {
			sp := StalePlatform{Platform: m.Platform, Digest: m.Digest.String(), BuiltOn: m.Annotations[AnnotationBaseDigest]}
			if why != "" {
				sp.Status, sp.Msg = StaleUnknown, why
				im.Platforms = append(im.Platforms, sp)
				continue
			}
			sp.Locked = entry.Digest.String()
			judge(&sp, m, base, entry, im.Image)
			im.Platforms = append(im.Platforms, sp)
		}
		res.Images = append(res.Images, im)
	}
	return res, nil
}

// judge compares one platform's layers with its locked base's.
func judge(sp *StalePlatform, m resolve.Manifest, base *baseLayers, entry *lock.Image, image string) {
	bm := base.forPlatform(m.Platform)
	if bm == nil {
		sp.Status, sp.Msg = StaleUnknown, fmt.Sprintf("the locked base %s has no %s image", entry.Key(), orAny(m.Platform))
		return
	}
	if len(bm.Layers) <= len(m.Layers) && slices.Equal(bm.Layers, m.Layers[:len(bm.Layers)]) {
		sp.Status, sp.Msg = StaleCurrent, "built on the locked "+entry.Key()
		return
	}
	if sp.BuiltOn != "" {
		if h, err := v1.NewHash(sp.BuiltOn); err == nil && records(entry, h) {
			sp.Status = StaleUnknown
			sp.Msg = "its annotation names the locked base, but its first layers are not the base's (squashed, or rebased?)"
			return
		}
	}
	sp.Status = StaleBehind
	sp.Msg = "built on another digest of " + entry.Key() + ": its first layers are not the locked base's"
	sp.Fix = "rebuild " + image + " (if the lock is older than the build, run 'imagelock update --image " + shortName(resolveKey(entry)) + "' first)"
}

func orAny(platform string) string {
	if platform == "" {
		return "image for a platform the image does not name"
	}
	return platform
}

// dockerfileBase is the image a Dockerfile's final stage builds on.
type dockerfileBase struct {
	image string // empty for scratch
	at    string // file:line of its FROM
}

func (e *env) finalBase(path string) (*dockerfileBase, error) {
	p := path
	if !filepath.IsAbs(p) {
		p = filepath.Join(e.Dir, p)
	}
	src, err := bounded.Read(p, bounded.Source)
	if err != nil {
		return nil, fmt.Errorf("reading the Dockerfile: %w", err)
	}
	image, line, err := rewrite.FinalBase(path, src)
	if err != nil {
		return nil, err
	}
	return &dockerfileBase{image: image, at: fileerr.At(path, line, 0)}, nil
}

// baseLayers is a locked base's manifests, by platform; gone when the
// registry no longer has the locked digest.
type baseLayers struct {
	manifests []resolve.Manifest
	gone      bool
}

// forPlatform returns the base's manifest for platform: the one of that
// platform, or one it satisfies ("linux/arm64" for "linux/arm64/v8"), or
// the only one of a single-platform base.
func (b *baseLayers) forPlatform(platform string) *resolve.Manifest {
	for i := range b.manifests {
		if b.manifests[i].Platform == platform {
			return &b.manifests[i]
		}
	}
	for i := range b.manifests {
		if platform != "" && (satisfies(b.manifests[i].Platform, platform) || satisfies(platform, b.manifests[i].Platform)) {
			return &b.manifests[i]
		}
	}
	if len(b.manifests) == 1 {
		return &b.manifests[0]
	}
	return nil
}

// baseCache fetches each locked base once.
type baseCache struct {
	inspector resolve.Inspector
	got       map[string]*baseLayers
}

func (c *baseCache) get(ctx context.Context, im *lock.Image) (*baseLayers, error) {
	id := im.Name + "@" + im.Digest.String()
	if b := c.got[id]; b != nil {
		return b, nil
	}
	ms, err := c.inspector.Manifests(ctx, resolve.Key{Name: im.Name}, &im.Digest)
	b := &baseLayers{manifests: ms}
	switch {
	case errors.Is(err, resolve.ErrNotFound):
		b.gone = true
	case err != nil:
		return nil, fmt.Errorf("fetching the locked base %s: %w", im.Key(), err)
	}
	c.got[id] = b
	return b, nil
}
