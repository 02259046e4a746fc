package workflow

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imagelock/imagelock/internal/fileerr"
	"github.com/imagelock/imagelock/lock"
	"github.com/imagelock/imagelock/resolve"
	"github.com/imagelock/imagelock/rewrite"
)

// LockResult says what Lock did.
type LockResult struct {
	// Lockfile is the lock's path as given.
	Lockfile string `json:"lockfile"`
	// Wrote is false when the lock already said all of this.
	Wrote bool `json:"wrote"`
	// Refs and Images count the references found and the entries locked.
	Refs   int `json:"references"`
	Images int `json:"images"`
	// Added, Changed and Removed list the keys whose entries changed.
	Added   []string `json:"added"`
	Changed []string `json:"changed"`
	Removed []string `json:"removed"`
	// Pinned tells, for each key of Changed, where a source pins the
	// digest that replaced the lock's: the one reason lock changes the
	// digest of an entry it has.
	Pinned   []PinChange       `json:"pinned"`
	Warnings []rewrite.Warning `json:"-"`
}

// PinChange is a lock entry whose digest gave way to the one a source pins.
type PinChange struct {
	// Image is the entry's key, e.g. docker.io/library/golang:1.26.
	Image string `json:"image"`
	// Old is the digest the lock had, New the one the source pins.
	Old string `json:"old_digest"`
	New string `json:"new_digest"`
	// At is where the source pins it: "Dockerfile:3".
	At string `json:"pinned_at"`
}

// group is the references that share one lock entry.
type group struct {
	key    resolve.Key
	digest *v1.Hash // for a digest-only entry
	refs   []*Found
}

func (g *group) id() string {
	if g.digest != nil {
		return g.key.Name + "@" + g.digest.String()
	}
	return g.key.String()
}

// pin returns the one digest the references of a tag group that pin a
// digest agree on, and the first of them; nil when none pins, or when
// they disagree.
func (g *group) pin() (*v1.Hash, *Found) {
	var d *v1.Hash
	var at *Found
	for _, r := range g.refs {
		switch {
		case r.Digest == nil:
		case d == nil:
			d, at = r.Digest, r
		case *d != *r.Digest:
			return nil, nil
		}
	}
	return d, at
}

func (g *group) sources() []string {
	var out []string
	for _, r := range g.refs {
		if len(out) == 0 || out[len(out)-1] != r.File {
			out = append(out, r.File)
		}
	}
	return uniq(out)
}

// groupRefs gathers references by lock entry, in key order.
func groupRefs(refs []*Found) []*group {
	byID := map[string]*group{}
	for _, r := range refs {
		g := &group{key: r.Key}
		if r.Key.Tag == "" {
			g.digest = r.Digest
		}
		id := g.id()
		if have, ok := byID[id]; ok {
			g = have
		} else {
			byID[id] = g
		}
		g.refs = append(g.refs, r)
	}
	// Sorted by id, each made once: a sort that made two per comparison
	// made hundreds of thousands at 6,000 keys.
	ids := slices.Sorted(maps.Keys(byID))
	out := make([]*group, len(ids))
	for i, id := range ids {
		out[i] = byID[id]
	}
	return out
}

// Lock records every reference in scope and writes the lock. It asks the
// registry only about what is new to the lock and never moves a locked
// tag (see plan). Offline, it records only references pinned in the
// sources and fails, naming them, for any that rely on a tag.
func Lock(ctx context.Context, o Options, offline bool) (*LockResult, error) {
	e, err := prepare(o)
	if err != nil {
		return nil, err
	}
	release, err := e.writer(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	if offline {
		e.Resolver, e.Signatures = nil, nil
	}
	p, err := e.plan(ctx, nil, nil, false)
	if err != nil {
		return nil, err
	}
	if p.res.Wrote, err = lock.Write(e.lockPath, p.next, p.old); err != nil {
		return nil, err
	}
	return p.res, nil
}

// lockPlan is a new lock, resolved and not yet written.
type lockPlan struct {
	old, next *lock.File
	scan      *scanResult
	groups    []*group
	res       *LockResult
	held      []Held // updates min-age held back
}

// plan resolves the references in scope into a new lock. A digest-only
// reference is its own entry. A tag takes, in this order: what the
// registry says now, where refresh (update) selects it; the digest its
// pinning sources agree on (the source is the truth for a pin); the old
// entry's digest (lock never moves a tag by itself); what the registry
// says, for a tag new to the lock. So lock (refresh nil) asks the
// registry only about keys new to it, and about the platforms of digests
// it has not seen. retag, when set, sees the references before they are
// grouped, and may move them to other tags (update --bump). keep keeps
// the sources' bytes, for update to edit.
func (e *env) plan(ctx context.Context, refresh func(resolve.Key) bool, retag func(context.Context, *scanResult) error, keep bool) (*lockPlan, error) {
	old, err := e.readLock(false)
	if err != nil {
		return nil, err
	}
	refreshed := func(k resolve.Key) bool { return refresh != nil && refresh(k) }
	known := knownPlatforms(old)
	l, stop := e.newLookups(ctx)
	defer stop()
	var early func(Found)
	if l != nil {
		// A tag to refresh, or new to the lock and relied on, is HEADed
		// whatever the other sources say: start it while the scan goes
		// on. (Should another source pin it, the pin wins and the HEAD
		// was for nothing; the scan cannot know yet.) An index new to
		// the lock is fetched as soon as its HEAD says so.
		l.afterHead = func(k resolve.Key, d resolve.Descriptor) {
			if _, ok := known[nameDigest{k.Name, d.Digest}]; d.Index && !ok {
				l.platforms(nameDigest{k.Name, d.Digest})
			}
		}
		locked := lockedKeys(old)
		early = func(f Found) {
			k := f.Key
			if k.Tag != "" && (refreshed(k) || f.Digest == nil && !locked[k.String()]) {
				l.head(k)
			}
		}
	}
	s, err := e.scan(early, keep)
	if err != nil {
		return nil, err
	}
	adoptBare(old, s.refs)
	if retag != nil {
		if err := retag(ctx, s); err != nil {
			return nil, err
		}
	}
	res := &LockResult{Lockfile: e.lockName, Refs: len(s.refs), Warnings: s.warnings}
	groups := groupRefs(s.refs)

	digests := map[string]v1.Hash{}
	pinnedAt := map[string]string{}
	index := map[string]bool{}
	var heads []resolve.Key
	var offline []string
	oldIndex := old.Index()
	for _, g := range groups {
		if g.digest != nil {
			digests[g.id()] = *g.digest
			continue
		}
		was := oldIndex[g.id()]
		pin, at := g.pin()
		switch {
		case e.Resolver == nil && len(tagReliant(g.refs)) > 0:
			for _, r := range tagReliant(g.refs) {
				offline = append(offline, fmt.Sprintf("%s: %s relies on its tag", r.Pos(), r.Image))
			}
		case refreshed(g.key):
			heads = append(heads, g.key)
		case pin != nil:
			digests[g.id()] = *pin
			pinnedAt[g.id()] = fileerr.At(at.File, at.Line, 0)
		case was != nil:
			digests[g.id()] = was.Digest
		case e.Resolver == nil:
			offline = append(offline, fmt.Sprintf("%s: %s and the other references of %s pin different digests", g.refs[0].Pos(), g.refs[0].Image, g.id()))
		default:
			heads = append(heads, g.key)
		}
	}
	if len(offline) > 0 {
		return nil, fmt.Errorf("lock --offline records only pinned references; these rely on a tag:\n  %s\nrun 'imagelock lock' with the registry reachable, or pin them", strings.Join(offline, "\n  "))
	}
	descs, err := e.headAll(ctx, l, heads)
	if err != nil {
		return nil, placeUnresolved(err, groups)
	}
	var need []nameDigest
	// update fetches an index again where the lock records fewer
	// platforms than are wanted now (--platform or the config widened);
	// lock keeps what it knows and warns below.
	refetch := map[nameDigest]bool{}
	for _, g := range groups {
		if d, ok := descs[g.key]; ok && g.digest == nil {
			digests[g.id()] = d.Digest
			index[g.id()] = d.Index
			if d.Index {
				nd := nameDigest{g.key.Name, d.Digest}
				need = append(need, nd)
				if p, ok := known[nd]; ok && refresh != nil && len(e.missing(p)) > 0 {
					refetch[nd] = true
				}
			}
			continue
		}
		// Pinned, kept and digest-only entries: whether it is an index
		// is known only to an old entry, or by fetching it.
		need = append(need, nameDigest{g.key.Name, digests[g.id()]})
		index[g.id()] = true
	}
	plats, err := e.platformsAll(ctx, l, known, need, refetch)
	if err != nil {
		return nil, err
	}

	next := &lock.File{}
	// bumped maps a tag update --bump moved to to the entry it moved from.
	bumped := map[string]string{}
	for _, g := range groups {
		for _, r := range g.refs {
			if r.from != "" {
				bumped[g.id()] = resolve.Key{Name: g.key.Name, Tag: r.from}.String()
			}
		}
		d := digests[g.id()]
		im := lock.Image{Name: g.key.Name, Tag: g.key.Tag, Digest: d, Sources: g.sources()}
		if index[g.id()] {
			nd := nameDigest{g.key.Name, d}
			im.Platforms = plats[nd]
			if m := e.missing(im.Platforms); len(m) > 0 {
				r := g.refs[0]
				msg := fmt.Sprintf("%s offers no %s", g.id(), strings.Join(m, ", "))
				if _, ok := known[nd]; ok && !refetch[nd] {
					msg = fmt.Sprintf("%s: %s records no %s for %s; if the index has it, run 'imagelock update --image %s' to fetch the index again",
						g.id(), e.lockName, strings.Join(m, ", "), d, shortName(g.key))
				}
				res.Warnings = append(res.Warnings, rewrite.Warning{File: r.File, Line: r.Line, Msg: msg})
			}
		}
		for _, r := range g.refs {
			// update re-pins what it refreshes; the rest is left to pin.
			if r.Digest != nil && *r.Digest != d && g.key.Tag != "" && !refreshed(g.key) {
				res.Warnings = append(res.Warnings, rewrite.Warning{File: r.File, Line: r.Line,
					Msg: fmt.Sprintf("%s pins %s, but other sources pin other digests and %s locks %s: run 'imagelock pin' to write the locked digest", rewrite.StripDigest(r.Image), r.Digest, e.lockName, d)})
			}
		}
		if was := oldIndex[g.id()]; was != nil && g.digest == nil && was.Digest != d && pinnedAt[g.id()] != "" {
			res.Pinned = append(res.Pinned, PinChange{Image: g.id(), Old: was.Digest.String(), New: d.String(), At: pinnedAt[g.id()]})
		}
		next.Images = append(next.Images, im)
	}
	held, err := e.checkTrust(ctx, old, next, refreshed, bumped)
	if err != nil {
		return nil, err
	}
	e.keepOutOfScope(old, next)
	res.Images = len(next.Images)
	res.Added, res.Changed, res.Removed = diffLocks(old, next)
	return &lockPlan{old: old, next: next, scan: s, groups: groups, res: res, held: held}, nil
}

// keepOutOfScope carries over what the old lock says of files this run
// did not look at: their entries, and their places in shared entries.
func (e *env) keepOutOfScope(old, next *lock.File) {
	at := make(map[string]int, len(next.Images)) // entries of next by key
	for i, im := range next.Images {
		at[im.Key()] = i
	}
	for _, im := range old.Images {
		var outside []string
		for _, src := range im.Sources {
			if !e.scope.contains(src) {
				outside = append(outside, src)
			}
		}
		if len(outside) == 0 {
			continue
		}
		if i, ok := at[im.Key()]; ok {
			next.Images[i].Sources = uniq(append(next.Images[i].Sources, outside...))
			continue
		}
		im.Sources = outside
		next.Images = append(next.Images, im)
	}
	next.Sort()
}

// diffLocks lists the keys added, changed (digest) and removed.
func diffLocks(old, next *lock.File) (added, changed, removed []string) {
	was := map[string]v1.Hash{}
	for _, im := range old.Images {
		was[im.Key()] = im.Digest
	}
	now := map[string]bool{}
	for _, im := range next.Images {
		now[im.Key()] = true
		d, ok := was[im.Key()]
		switch {
		case !ok:
			added = append(added, im.Key())
		case d != im.Digest:
			changed = append(changed, im.Key())
		}
	}
	for _, im := range old.Images {
		if !now[im.Key()] {
			removed = append(removed, im.Key())
		}
	}
	return added, changed, removed
}

// lockedKeys is the set of the lock's entries' keys.
func lockedKeys(f *lock.File) map[string]bool {
	out := make(map[string]bool, len(f.Images))
	for _, im := range f.Images {
		out[im.Key()] = true
	}
	return out
}

// readLock reads the lock; with must, a missing lock is an error.
func (e *env) readLock(must bool) (*lock.File, error) {
	f, ok, err := lock.Read(e.lockPath, e.lockName)
	if err != nil {
		return nil, err
	}
	if !ok && must {
		return nil, &UsageError{Msg: fmt.Sprintf("%s: no such lock: run 'imagelock lock' first", e.lockName)}
	}
	return f, nil
}

func uniq(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
