package workflow

import (
	"context"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/xrash/smetrics"

	"github.com/imagelock/imagelock/internal/atomicfile"
	"github.com/imagelock/imagelock/lock"
	"github.com/imagelock/imagelock/resolve"
	"github.com/imagelock/imagelock/rewrite"
)

// UpdateOptions tune Update.
type UpdateOptions struct {
	// Images limits the refresh to these images, each a name as written
	// or normalized ("alpine", "docker.io/library/alpine"), with or
	// without a tag. Empty refreshes every tag.
	Images []string
	// Summary, when set, is a file to write the Markdown summary to
	// (Summary), in the same all-or-nothing write as the lock and the
	// sources.
	Summary string
	// AcceptSigner takes new digests signed by someone other than the
	// signer the lock records (a [[trust]] rule must still accept them).
	AcceptSigner bool
	// Bump, when set, also moves tags to newer versions of their line,
	// this far at most (and no further than the config's [[bump]]
	// rules allow), rewriting them where the sources write them.
	Bump resolve.Level
}

// ImageChange is one lock entry whose digest changed.
type ImageChange struct {
	Image string `json:"image"`
	Old   string `json:"old_digest"`
	New   string `json:"new_digest"`
	// PlatformsChanged lists the locked platforms whose manifest changed;
	// PlatformsAdded and PlatformsRemoved those only in the new or the
	// old index.
	PlatformsChanged []string `json:"platforms_changed"`
	PlatformsAdded   []string `json:"platforms_added"`
	PlatformsRemoved []string `json:"platforms_removed"`
	// SameImages is true when the index changed but no platform's
	// manifest did: the index was re-published with the same images.
	SameImages bool     `json:"same_images"`
	Files      []string `json:"files"`
	// PinnedAt, for an image update did not refresh, is where a source
	// pins the new digest ("Dockerfile:3"): the pin won over the lock.
	PinnedAt string `json:"pinned_at,omitempty"`
	// Signer and OldSigner are who signed the new and the old digest,
	// where a [[trust]] rule covers the image.
	Signer    string `json:"signer,omitempty"`
	OldSigner string `json:"old_signer,omitempty"`
}

// UpdateResult says what Update changed.
type UpdateResult struct {
	Lockfile string        `json:"lockfile"`
	Wrote    bool          `json:"wrote"`
	Changes  []ImageChange `json:"changes"`
	// Added and Removed are the keys of entries new to the lock, and of
	// those no source uses any more.
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
	// Held are moved tags whose new digests are younger than min-age.
	Held []Held `json:"held"`
	// Bumps are the tags update --bump moved; BumpSkipped the newer tags
	// it did not move to, and why.
	Bumps       []TagBump  `json:"bumps"`
	BumpSkipped []BumpSkip `json:"bump_skipped"`
	// Repinned are the sources update rewrote: pins that now name the
	// new digests, and tags --bump moved.
	Repinned []FileChange      `json:"-"`
	Warnings []rewrite.Warning `json:"-"`
}

// Update re-resolves tags, pinned or not, rewrites the lock and re-pins
// the sources that pinned the old digests; with uo.Bump, it also moves
// tags to newer versions where the sources write them, and locks and pins
// those. Nothing moved: nothing is written.
func Update(ctx context.Context, o Options, uo UpdateOptions) (*UpdateResult, error) {
	e, err := prepare(o)
	if err != nil {
		return nil, err
	}
	release, err := e.writer(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	if e.Resolver == nil {
		return nil, ErrOffline
	}
	e.acceptSigner, e.reverify = uo.AcceptSigner, len(uo.Images) > 0
	filter, err := imageFilter(uo.Images)
	if err != nil {
		return nil, err
	}
	refresh, retag := filter, (func(context.Context, *scanResult) error)(nil)
	var bump *bumper
	if uo.Bump != 0 {
		bump = &bumper{e: e, level: uo.Bump, filter: filter, moved: map[resolve.Key]bool{}}
		refresh, retag = bump.refresh, bump.retag
	}
	p, err := e.plan(ctx, refresh, retag, true)
	if err != nil {
		return nil, err
	}
	if err := unmatched(uo.Images, filter, p.groups); err != nil {
		return nil, err
	}
	res := &UpdateResult{Lockfile: e.lockName, Added: p.res.Added, Removed: p.res.Removed, Held: p.held, Warnings: p.res.Warnings,
		Bumps: bumps(p.groups, p.old, p.next)}
	if bump != nil {
		res.BumpSkipped = bump.skips
	}
	pinnedAt := map[string]string{}
	for _, pc := range p.res.Pinned {
		pinnedAt[pc.Image] = pc.At
	}
	edits := newEditPlan(p.scan.files)
	oldIndex, nextIndex := p.old.Index(), p.next.Index()
	for _, g := range p.groups {
		if g.key.Tag == "" {
			continue
		}
		im := nextIndex[g.id()]
		for _, r := range g.refs {
			if r.from != "" {
				es, err := bumpEdits(p.scan.files[r.File], *r, im)
				if err != nil {
					return nil, err
				}
				edits.add(*r, es)
				continue
			}
			if r.Digest == nil || *r.Digest == im.Digest || !filter(g.key) {
				continue
			}
			if ok, w := editable(*r, "update"); !ok {
				// The lock moves; the pin, written where imagelock
				// cannot edit it, is the user's to move.
				if w != nil {
					res.Warnings = append(res.Warnings, *w)
				}
				continue
			}
			es, err := rewrite.PinEdits(p.scan.files[r.File], r.Ref, im.Digest.String())
			if err != nil {
				return nil, err
			}
			edits.add(*r, es)
		}
		// A digest that moved, or platforms fetched again and widened.
		if was := oldIndex[g.id()]; was != nil && (was.Digest != im.Digest || !maps.Equal(was.Platforms, im.Platforms)) {
			c := change(was, im)
			c.PinnedAt = pinnedAt[c.Image]
			res.Changes = append(res.Changes, c)
		}
	}
	if res.Repinned, err = edits.changes(); err != nil {
		return nil, err
	}
	// The sources, the summary, then the lock: all or nothing, and the
	// lock, which records the rest, renamed last.
	var b atomicfile.Batch
	err = e.stageChanges(&b, res.Repinned)
	if err == nil && uo.Summary != "" {
		err = e.stageSummary(&b, uo.Summary, []byte(Summary(res)), p.scan.files)
	}
	if err == nil {
		res.Wrote, err = lock.Stage(&b, e.lockPath, p.next, p.old)
	}
	if err := commit(&b, err); err != nil {
		return nil, err
	}
	return res, nil
}

// stageSummary adds the summary to a batch, unless its path is the lock
// or a source: the pull-request body must not replace either.
func (e *env) stageSummary(b *atomicfile.Batch, name string, data []byte, sources map[string][]byte) error {
	abs, err := filepath.Abs(name)
	if err != nil {
		return err
	}
	real := func(p string) string {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return r
		}
		return p
	}
	if rel, err := filepath.Rel(e.root, abs); err == nil && filepath.IsLocal(rel) {
		if _, ok := sources[filepath.ToSlash(rel)]; ok || real(abs) == real(e.lockPath) {
			return &UsageError{Msg: fmt.Sprintf("--summary %s is %s, which imagelock reads: write the summary to another file", name, filepath.ToSlash(rel))}
		}
	}
	return b.Stage(abs, data, 0o644)
}

// imageFilter returns whether a key is one of the images asked for.
func imageFilter(images []string) (func(resolve.Key) bool, error) {
	if len(images) == 0 {
		return func(resolve.Key) bool { return true }, nil
	}
	var want []resolve.Key
	for _, s := range images {
		k, err := namePattern(s)
		if err != nil {
			return nil, &UsageError{Msg: fmt.Sprintf("--image %s: %v", s, err)}
		}
		want = append(want, k)
	}
	return func(k resolve.Key) bool { return keyMatches(want, k) }, nil
}

// unmatched is the error for --image patterns that name no image in
// scope, with the closest names there are; nil when each matches.
func unmatched(images []string, filter func(resolve.Key) bool, groups []*group) error {
	if len(images) == 0 {
		return nil
	}
	var names []string
	for _, g := range groups {
		names = append(names, shortName(g.key))
	}
	names = uniq(names)
	var msgs []string
	for _, s := range images {
		one, _ := imageFilter([]string{s})
		found := false
		for _, g := range groups {
			// A reference update --bump moved matches by the tag it had.
			found = found || one(g.key) || slices.ContainsFunc(g.refs, func(r *Found) bool {
				return r.from != "" && one(resolve.Key{Name: r.Key.Name, Tag: r.from})
			})
		}
		if found {
			continue
		}
		msg := fmt.Sprintf("--image %s matches no image in scope", s)
		if near := closest(s, names); len(near) > 0 {
			msg += "; did you mean " + strings.Join(near, ", ") + "?"
		}
		msgs = append(msgs, msg)
	}
	if len(msgs) == 0 {
		return nil
	}
	return &UsageError{Msg: strings.Join(msgs, "\n") + "\nrun 'imagelock list' to see every image"}
}

// closest returns up to three names near s (its name without a tag, or
// its last part), by edit distance, nearest first.
func closest(s string, names []string) []string {
	want := rewrite.StripDigest(s)
	if i := strings.LastIndex(want, ":"); i > strings.LastIndex(want, "/") {
		want = want[:i]
	}
	type scored struct {
		name string
		d    int
	}
	var near []scored
	for _, n := range names {
		d := min(smetrics.WagnerFischer(want, n, 1, 1, 1), smetrics.WagnerFischer(path.Base(want), path.Base(n), 1, 1, 1))
		if d <= max(2, len(path.Base(want))/3) {
			near = append(near, scored{n, d})
		}
	}
	sort.SliceStable(near, func(i, j int) bool { return near[i].d < near[j].d })
	var out []string
	for _, n := range near[:min(3, len(near))] {
		out = append(out, n.name)
	}
	return out
}

func change(was, now *lock.Image) ImageChange {
	c := ImageChange{Image: now.Key(), Old: was.Digest.String(), New: now.Digest.String(), Files: now.Sources, Signer: now.Signer, OldSigner: was.Signer,
		PlatformsChanged: []string{}, PlatformsAdded: []string{}, PlatformsRemoved: []string{}}
	for p, d := range now.Platforms {
		old, ok := was.Platforms[p]
		switch {
		case !ok:
			c.PlatformsAdded = append(c.PlatformsAdded, p)
		case old != d:
			c.PlatformsChanged = append(c.PlatformsChanged, p)
		}
	}
	for p := range was.Platforms {
		if _, ok := now.Platforms[p]; !ok {
			c.PlatformsRemoved = append(c.PlatformsRemoved, p)
		}
	}
	sort.Strings(c.PlatformsChanged)
	sort.Strings(c.PlatformsAdded)
	sort.Strings(c.PlatformsRemoved)
	c.SameImages = len(now.Platforms) > 0 && len(c.PlatformsChanged)+len(c.PlatformsAdded)+len(c.PlatformsRemoved) == 0
	return c
}
