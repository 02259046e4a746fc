package workflow

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"sort"

	"golang.org/x/sync/errgroup"

	"github.com/imagelock/imagelock/internal/fileerr"
	"github.com/imagelock/imagelock/lock"
	"github.com/imagelock/imagelock/resolve"
	"github.com/imagelock/imagelock/rewrite"
)

// BumpRule is a [[bump]] table of the config: how far update --bump may
// move the tags of some images.
type BumpRule struct {
	// Images are the images the rule applies to: a name or a list of
	// names, as ignore takes them ("node", "ghcr.io/acme/app",
	// "node:20" for that tag alone). None is every image.
	Images any `toml:"images"`
	// Max is the widest bump allowed: "patch", "minor" or "major".
	Max string `toml:"max"`
	// IgnoreTags are globs (path.Match) of tags never moved to: "*-rc*".
	IgnoreTags []string `toml:"ignore-tags"`

	at     string // .imagelock.toml:LINE of the rule
	images []resolve.Key
	max    resolve.Level // 0 when Max is not set
}

// checkBump reads the [[bump]] rules; an error names the line of the
// config that is wrong.
func (c *Config) checkBump(data []byte) error {
	lines := tableLines(data, "bump")
	for i := range c.Bump {
		r := &c.Bump[i]
		at := tableAt(lines, i)
		r.at = fileerr.At(ConfigFile, at(""), 0)
		bad := func(key string, err error) error {
			return &fileerr.Error{File: ConfigFile, Line: at(key), Err: err}
		}
		var names []string
		switch v := r.Images.(type) {
		case nil:
		case string:
			names = []string{v}
		case []any:
			for _, n := range v {
				s, ok := n.(string)
				if !ok {
					return bad("images", fmt.Errorf("bump: images: %v is not an image name", n))
				}
				names = append(names, s)
			}
		default:
			return bad("images", fmt.Errorf("bump: images: want a name or a list of names, not %v", v))
		}
		for _, n := range names {
			k, err := namePattern(n)
			if err != nil {
				return bad("images", fmt.Errorf("bump: images: %w", err))
			}
			r.images = append(r.images, k)
		}
		if r.Max != "" {
			l, err := resolve.ParseLevel(r.Max)
			if err != nil {
				return bad("max", fmt.Errorf("bump: max: %w", err))
			}
			r.max = l
		}
		for _, g := range r.IgnoreTags {
			if _, err := path.Match(g, ""); err != nil {
				return bad("ignore-tags", fmt.Errorf("bump: ignore-tags: invalid glob %q", g))
			}
		}
	}
	return nil
}

// bumpRule returns the first rule that applies to k, or nil.
func (c *Config) bumpRule(k resolve.Key) *BumpRule {
	for i, r := range c.Bump {
		if len(r.images) == 0 || keyMatches(r.images, k) {
			return &c.Bump[i]
		}
	}
	return nil
}

// ignored returns the first of the rule's ignore-tags globs that tag
// matches, or "".
func (r *BumpRule) ignored(tag string) string {
	for _, g := range r.IgnoreTags {
		if ok, _ := path.Match(g, tag); ok {
			return g
		}
	}
	return ""
}

// TagBump is an image whose tag update --bump moved to a newer version.
type TagBump struct {
	// Image is the normalized name, e.g. docker.io/library/node.
	Image string `json:"image"`
	Old   string `json:"old_tag"`
	New   string `json:"new_tag"`
	// OldDigest is what the lock recorded for the old tag; "" when it
	// had no entry for it.
	OldDigest string `json:"old_digest"`
	NewDigest string `json:"new_digest"`
	// Platforms are those of the new digest's index; none for a single
	// manifest.
	Platforms []string `json:"platforms"`
	// Files are the sources whose tags were rewritten.
	Files []string `json:"files"`
}

// BumpSkip is a newer tag update --bump did not move to, and why: a
// config rule held it back, or the tag is written where imagelock cannot
// edit it.
type BumpSkip struct {
	// Image is the image key as the sources have it, e.g.
	// docker.io/library/node:20.11.
	Image string `json:"image"`
	// Newer is the tag it was not moved to.
	Newer string `json:"newer_tag"`
	// At is the config rule (.imagelock.toml:LINE) or the reference
	// (file:line:col).
	At     string `json:"at"`
	Reason string `json:"reason"`
}

// bumper moves tags to newer versions for update --bump. Before the
// lock is planned, it lists each repository's tags once, picks for each
// image the newest tag of its line that the level and the config's
// rules allow, and moves the references whose tags it can edit to it:
// the plan then resolves the new tags like any other. Nothing is written
// here.
type bumper struct {
	e      *env
	level  resolve.Level
	filter func(resolve.Key) bool
	moved  map[resolve.Key]bool // the keys references were moved to
	skips  []BumpSkip
	moving bool // set once retag has moved the references
}

// refresh says which tags the plan asks the registry about again: those
// the user asked for, and those the references were moved to. While the
// scan goes on, none: a tag about to be moved from is not worth a HEAD.
func (b *bumper) refresh(k resolve.Key) bool {
	return b.moving && (b.filter(k) || b.moved[k])
}

// retag moves the scanned references to newer tags.
func (b *bumper) retag(ctx context.Context, s *scanResult) error {
	var keys []resolve.Key
	seen := map[resolve.Key]bool{}
	for _, r := range s.refs {
		if r.Key.Tag == "" || seen[r.Key] || !b.filter(r.Key) {
			continue
		}
		seen[r.Key] = true
		if _, ok := resolve.ParseVersion(r.Key.Tag); ok {
			keys = append(keys, r.Key)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	tags, err := b.list(ctx, keys)
	if err != nil {
		return err
	}
	next := map[resolve.Key]string{}
	for _, k := range keys {
		level, rule := b.level, b.e.cfg.bumpRule(k)
		var skip func(string) bool
		if rule != nil {
			if rule.max != 0 {
				level = min(level, rule.max)
			}
			skip = func(t string) bool { return rule.ignored(t) != "" }
		}
		to := resolve.Newest(k.Tag, tags[k.Name], level, skip)
		// Without the rule, the newest tag would be another: the rule
		// held that one back.
		if widest := resolve.Newest(k.Tag, tags[k.Name], b.level, nil); widest != to {
			why := fmt.Sprintf("max = %q", rule.Max)
			if g := rule.ignored(widest); g != "" {
				why = fmt.Sprintf("ignore-tags %q", g)
			}
			b.skips = append(b.skips, BumpSkip{Image: k.String(), Newer: widest, At: rule.at, Reason: "held back by " + why})
		}
		if to != "" {
			next[k] = to
		}
	}
	b.move(s, next)
	b.moving = true
	return nil
}

// list lists the tags of each repository of keys, once each, at most
// Jobs at a time.
func (b *bumper) list(ctx context.Context, keys []resolve.Key) (map[string][]string, error) {
	var names []string
	for _, k := range keys {
		names = append(names, k.Name)
	}
	names = uniq(names)
	lists := make([][]string, len(names))
	errs := make([]error, len(names))
	step := b.e.progress(len(names))
	var g errgroup.Group
	g.SetLimit(b.e.Jobs)
	for i, n := range names {
		g.Go(func() error {
			lists[i], errs[i] = b.e.Resolver.Tags(ctx, n)
			step(n + " (tags)")
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := resolve.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w\nlisting tags is how --bump finds newer versions: limit it with --image, or fix the access", err)
	}
	out := make(map[string][]string, len(names))
	for i, n := range names {
		out[n] = lists[i]
	}
	return out, nil
}

// move moves each reference whose key has a newer tag in next, where
// its tag can be edited. References that share one place in a file (an
// ARG default several FROMs read) move together or not at all: the edit
// changes what each of them pulls.
func (b *bumper) move(s *scanResult, next map[resolve.Key]string) {
	var places []place
	at := map[place][]int{}
	for i, r := range s.refs {
		id := placeOf(r.Ref)
		if _, ok := at[id]; !ok {
			places = append(places, id)
		}
		at[id] = append(at[id], i)
	}
	for _, id := range places {
		var want []rewrite.Edit
		reason, moving := "", 0
		for _, i := range at[id] {
			r := s.refs[i]
			to, ok := next[r.Key]
			if !ok {
				continue
			}
			moving++
			es, err := rewrite.RetagEdits(s.files[r.File], r.Ref, r.Key.Tag, to, "")
			switch {
			case err != nil:
				reason = err.Error()
			case want == nil:
				want = es
			case !slices.Equal(es, want):
				reason = "the references that read this text would need different tags in it"
			}
		}
		if moving == 0 {
			continue
		}
		if reason == "" && moving < len(at[id]) {
			reason = "another reference reads the same text and has no newer tag to move to"
		}
		for _, i := range at[id] {
			r := s.refs[i]
			to, ok := next[r.Key]
			if !ok {
				continue
			}
			if reason != "" {
				b.skips = append(b.skips, BumpSkip{Image: r.Key.String(), Newer: to, At: r.Pos(), Reason: reason})
				continue
			}
			r.from, r.Key.Tag = r.Key.Tag, to
			b.moved[r.Key] = true
		}
	}
}

// bumpEdits returns the edits that write r's new tag, and the new digest
// where r pinned the old one.
func bumpEdits(src []byte, r Found, im *lock.Image) ([]rewrite.Edit, error) {
	digest := ""
	if r.Digest != nil {
		digest = im.Digest.String()
	}
	return rewrite.RetagEdits(src, r.Ref, r.from, r.Key.Tag, digest)
}

// bumps lists the tags moved, each with the old and new digests.
func bumps(groups []*group, old, next *lock.File) []TagBump {
	oldIndex, nextIndex := old.Index(), next.Index()
	var out []TagBump
	for _, g := range groups {
		files := map[string][]string{} // by old tag
		for _, r := range g.refs {
			if r.from != "" {
				files[r.from] = append(files[r.from], r.File)
			}
		}
		im := nextIndex[g.id()]
		for _, from := range slices.Sorted(maps.Keys(files)) {
			tb := TagBump{Image: g.key.Name, Old: from, New: g.key.Tag, NewDigest: im.Digest.String(),
				Platforms: slices.Sorted(maps.Keys(im.Platforms)), Files: uniq(files[from])}
			if was := oldIndex[resolve.Key{Name: g.key.Name, Tag: from}.String()]; was != nil {
				tb.OldDigest = was.Digest.String()
			}
			out = append(out, tb)
		}
	}
	return out
}
