package workflow

import (
	"context"
	"maps"
	"slices"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imagelock/imagelock/lock"
	"github.com/imagelock/imagelock/resolve"
	"github.com/imagelock/imagelock/rewrite"
)

// Severity orders findings: a Failure fails verify, a Notice only with
// --strict.
type Severity string

// The severities of a finding.
const (
	Failure Severity = "error"
	Notice  Severity = "notice"
)

// The codes of findings, stable for machines.
const (
	CodeNotLocked   = "not-locked"   // a reference whose key is not in the lock
	CodePinMismatch = "pin-mismatch" // a pinned digest that differs from the lock
	CodeUnused      = "unused"       // a lock entry no source uses
	CodeMoved       = "moved"        // a tag a source relies on points elsewhere now
	CodeVanished    = "vanished"     // a tag or digest the registry no longer has
	CodeUpdate      = "update"       // a tag moved, but every source pins the digest
	// CodeRepublished is a tag moved to an index whose platform manifests
	// are the locked ones: re-published with new attestations, say.
	CodeRepublished = "republished"
	// CodePlatformGone is a platform manifest of a locked index that the
	// registry no longer has, found after its tag moved.
	CodePlatformGone = "platform-gone"
)

// Finding is one thing verify found, at a place.
type Finding struct {
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	File     string   `json:"file"`
	Line     int      `json:"line,omitempty"`
	Col      int      `json:"column,omitempty"`
	// Image is the normalized key, e.g. docker.io/library/alpine:3.20.
	Image string `json:"image"`
	// Written is the reference as the source writes it.
	Written string `json:"written,omitempty"`
	Msg     string `json:"message"`
	// Locked and Current are the digests of a mismatch: the lock's, and
	// the source's or the registry's.
	Locked  string `json:"locked,omitempty"`
	Current string `json:"current,omitempty"`
	// CurrentFrom says where Current comes from: "source", "registry",
	// or "cluster" (what a pod runs, for audit).
	CurrentFrom string `json:"current_from,omitempty"`
	// Fix is the command that resolves the finding.
	Fix string `json:"fix"`
	// Namespace, Pod and Container name what runs the image, for a
	// finding of audit.
	Namespace string `json:"namespace,omitempty"`
	Pod       string `json:"pod,omitempty"`
	Container string `json:"container,omitempty"`
}

// VerifyOptions tune Verify.
type VerifyOptions struct {
	// Offline skips the registry: only sources against the lock.
	Offline bool
	// Signatures checks online that the signature each entry records is
	// still there and still verifies (also when the config sets
	// verify-signatures).
	Signatures bool
}

// VerifyResult is every finding, in file order.
type VerifyResult struct {
	Findings []Finding         `json:"findings"`
	Warnings []rewrite.Warning `json:"-"`
	// Refs and Images count the references checked and the lock entries.
	Refs   int `json:"references"`
	Images int `json:"images"`
	// Online is false when the registry was not asked.
	Online bool `json:"online"`
}

// Failed reports whether verify should fail: on any Failure, and with
// strict on any Notice and any Warning too. A warning is a line verify
// could not check (text that is no image, a variable without a value, a
// file skipped): strict vouches for every line.
func (r *VerifyResult) Failed(strict bool) bool {
	return strict && len(r.Warnings) > 0 || slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Fails(strict) })
}

// Fails reports whether f fails a check: a failure always, a notice
// under --strict.
func (f Finding) Fails(strict bool) bool {
	return f.Severity == Failure || strict
}

// Verify checks the sources against the lock (offline) and the lock
// against the registries (online, one HEAD per tag), and reports every
// finding at once.
func Verify(ctx context.Context, o Options, vo VerifyOptions) (*VerifyResult, error) {
	e, err := prepare(o)
	if err != nil {
		return nil, err
	}
	if vo.Offline {
		e.Resolver, e.Signatures = nil, nil
	}
	lk, err := e.readLock(true)
	if err != nil {
		return nil, err
	}
	l, stop := e.newLookups(ctx)
	defer stop()
	var early func(Found)
	if l != nil {
		// Every locked tag is HEADed, and every locked digest-only image
		// checked: start them while the scan goes on.
		locked := lockedKeys(lk)
		early = func(f Found) {
			switch {
			case f.Key.Tag != "" && locked[f.Key.String()]:
				l.head(f.Key)
			case f.Key.Tag == "" && f.Digest != nil && locked[f.Key.Name+"@"+f.Digest.String()]:
				l.exists(f.Key.Name, *f.Digest)
			}
		}
	}
	s, err := e.scan(early, false)
	if err != nil {
		return nil, err
	}
	adoptBare(lk, s.refs)
	index := lk.Index()
	res := &VerifyResult{Warnings: s.warnings, Refs: len(s.refs), Images: len(lk.Images), Online: e.Resolver != nil}
	groups := groupRefs(s.refs)

	used := map[string]bool{}
	var live []*group // groups whose entry is in the lock
	entries := map[string]*lock.Image{}
	for _, g := range groups {
		im := index[g.id()]
		if im == nil {
			for _, r := range g.refs {
				res.Findings = append(res.Findings, Finding{Severity: Failure, Code: CodeNotLocked,
					File: r.File, Line: r.Line, Col: r.Col, Image: g.id(), Written: r.Written,
					Msg: "not in " + e.lockName, Fix: "run 'imagelock lock' to add it"})
			}
			continue
		}
		used[im.Key()] = true
		entries[g.id()] = im
		live = append(live, g)
		for _, r := range g.refs {
			if g.key.Tag != "" && r.Digest != nil && *r.Digest != im.Digest {
				res.Findings = append(res.Findings, Finding{Severity: Failure, Code: CodePinMismatch,
					File: r.File, Line: r.Line, Col: r.Col, Image: g.id(), Written: r.Written,
					Msg: "pinned digest differs from " + e.lockName, Locked: im.Digest.String(), Current: r.Digest.String(), CurrentFrom: "source",
					Fix: "run 'imagelock pin' to write the locked digest, or 'imagelock lock' if the source is right"})
			}
		}
	}
	res.Findings = append(res.Findings, e.trustFindings(entries)...)
	for _, im := range lk.Images {
		if used[im.Key()] || !e.anyInScope(im.Sources) {
			continue
		}
		res.Findings = append(res.Findings, Finding{Severity: Failure, Code: CodeUnused,
			File: e.lockName, Line: im.Line, Image: im.Key(),
			Msg: "no source uses it", Fix: "run 'imagelock lock' to drop it"})
	}

	if l != nil {
		found, err := e.verifyOnline(ctx, l, live, entries)
		if err != nil {
			return nil, err
		}
		res.Findings = append(res.Findings, found...)
		if (vo.Signatures || e.cfg.VerifySignatures) && e.Signatures != nil {
			if found, err = e.recheckSignatures(ctx, entries); err != nil {
				return nil, err
			}
			res.Findings = append(res.Findings, found...)
		}
	}
	sortFindings(res.Findings)
	return res, nil
}

// verifyOnline asks the registry, one HEAD per tag in use, whether each
// locked tag still points at its digest, and whether each digest-only
// image is still there. Where a tag moved or vanished, the digests the
// lock leaves behind (the index and each platform's manifest) get a HEAD
// each: builds pinned to them work only while the registry keeps them.
// Where a source relies on a tag that moved from an index to an index,
// one GET of the new index tells whether it was only re-published: see
// samePlatforms.
func (e *env) verifyOnline(ctx context.Context, l *lookups, live []*group, entries map[string]*lock.Image) ([]Finding, error) {
	lks := make([]*lookup, len(live))
	for i, g := range live {
		if g.digest != nil {
			lks[i] = l.exists(g.key.Name, *g.digest)
		} else {
			lks[i] = l.head(g.key)
		}
	}
	step := e.progress(len(live))
	if err := waitAll(ctx, lks, func(i int) { step(live[i].id()) }); err != nil {
		return nil, err
	}
	if err := lookupErrs(lks, resolve.ErrNotFound); err != nil {
		return nil, err
	}
	changed := func(i int) bool {
		return live[i].digest == nil && (lks[i].err != nil || lks[i].desc.Digest != entries[live[i].id()].Digest)
	}
	type leftBehind struct {
		group    int
		platform string // "" for the locked digest itself
		lk       *lookup
	}
	var left []leftBehind
	var leftLks []*lookup
	for i, g := range live {
		if !changed(i) {
			continue
		}
		im := entries[g.id()]
		left = append(left, leftBehind{i, "", l.exists(g.key.Name, im.Digest)})
		for _, p := range slices.Sorted(maps.Keys(im.Platforms)) {
			left = append(left, leftBehind{i, p, l.exists(g.key.Name, im.Platforms[p])})
		}
	}
	for _, lb := range left {
		leftLks = append(leftLks, lb.lk)
	}
	newIndex := map[int]*lookup{}
	for i, g := range live {
		if changed(i) && lks[i].err == nil && lks[i].desc.Index && entries[g.id()].Platforms != nil && len(tagReliant(g.refs)) > 0 {
			newIndex[i] = l.platforms(nameDigest{g.key.Name, lks[i].desc.Digest})
			leftLks = append(leftLks, newIndex[i])
		}
	}
	if err := waitAll(ctx, leftLks, func(int) {}); err != nil {
		return nil, err
	}
	if err := lookupErrs(leftLks, resolve.ErrNotFound); err != nil {
		return nil, err
	}
	digestGone := map[int]bool{}
	platformsGone := map[int][]string{}
	for _, lb := range left {
		switch {
		case lb.lk.err == nil:
		case lb.platform == "":
			digestGone[lb.group] = true
		default:
			platformsGone[lb.group] = append(platformsGone[lb.group], lb.platform)
		}
	}

	var out []Finding
	at := func(f Finding, refs []*Found) {
		for _, r := range refs {
			ff := f
			ff.File, ff.Line, ff.Col, ff.Written = r.File, r.Line, r.Col, r.Written
			out = append(out, ff)
		}
	}
	for i, g := range live {
		im, lk := entries[g.id()], lks[i]
		gone := lk.err != nil
		if g.digest != nil {
			if gone {
				at(Finding{Severity: Failure, Code: CodeVanished, Image: g.id(), Locked: im.Digest.String(),
					Msg: "digest no longer in the registry", Fix: "pin another digest, or check the registry's retention"}, g.refs)
			}
			continue
		}
		if !changed(i) {
			continue
		}
		short := shortName(g.key)
		relying := tagReliant(g.refs)
		f := Finding{Severity: Failure, Image: g.id(), Locked: im.Digest.String()}
		switch {
		case gone:
			f.Code, f.Msg, f.Fix = CodeVanished, "tag no longer in the registry", "change the tag in the sources, then run 'imagelock lock'"
		case len(relying) > 0 && newIndex[i] != nil && newIndex[i].err == nil && e.samePlatforms(im.Platforms, newIndex[i].platforms):
			f.Severity = Notice
			f.Code, f.Msg, f.Current, f.CurrentFrom = CodeRepublished, "tag moved to an index re-published with the locked platform manifests, so builds do not change", lk.desc.Digest.String(), "registry"
			f.Fix = "run 'imagelock update --image " + short + "' to record the new index"
		case len(relying) > 0:
			f.Code, f.Msg, f.Current, f.CurrentFrom = CodeMoved, "tag moved", lk.desc.Digest.String(), "registry"
			f.Fix = "run 'imagelock update --image " + short + "' to accept it"
		default:
			f.Severity = Notice
			f.Code, f.Msg, f.Current, f.CurrentFrom = CodeUpdate, "tag moved; every source pins the locked digest, so builds do not change", lk.desc.Digest.String(), "registry"
			f.Fix = "run 'imagelock update --image " + short + "' to take the update"
		}
		// A tag some source relies on fails where it is relied on (a
		// notice, when re-published); a tag every source pins is a
		// notice, or a failure below when what it pins is gone.
		if len(relying) > 0 {
			at(f, relying)
		} else if !digestGone[i] && len(platformsGone[i]) == 0 {
			at(f, g.refs)
		}
		// What the lock left behind fails where sources pin it (where
		// they all rely on the tag, at each of them: the lock is stale).
		pinned := pinnedRefs(g.refs)
		if len(pinned) == 0 {
			pinned = g.refs
		}
		fix := "run 'imagelock update --image " + short + "' to lock and pin what the tag points at now"
		if gone {
			fix = "change the tag in the sources, then run 'imagelock lock' and 'imagelock pin'"
		}
		if digestGone[i] {
			at(Finding{Severity: Failure, Code: CodeVanished, Image: g.id(), Locked: im.Digest.String(),
				Msg: "the locked digest is no longer in the registry either: builds pinned to it fail", Fix: fix}, pinned)
			continue
		}
		for _, p := range platformsGone[i] {
			at(Finding{Severity: Failure, Code: CodePlatformGone, Image: g.id(), Locked: im.Platforms[p].String(),
				Msg: "locked platform " + p + " is no longer in the registry: builds pinned to the locked digest fail on it", Fix: fix}, pinned)
		}
	}
	return out, nil
}

// samePlatforms reports whether a moved index builds what the locked one
// did: over the platforms wanted (--platform or the config; every one
// when none is set), the two offer the same platforms, each with the
// same manifest digest. A platform the filter leaves out may differ. An
// index that offers none of the wanted platforms is never the same.
func (e *env) samePlatforms(locked, now map[string]v1.Hash) bool {
	a, b := e.filterPlatforms(locked), e.filterPlatforms(now)
	return len(a) > 0 && maps.Equal(a, b)
}

// pinnedRefs returns the references that pin a digest.
func pinnedRefs(refs []*Found) []*Found {
	var out []*Found
	for _, r := range refs {
		if r.Digest != nil {
			out = append(out, r)
		}
	}
	return out
}

// tagReliant returns the references that pull by tag: a moved tag changes
// what they build.
func tagReliant(refs []*Found) []*Found {
	var out []*Found
	for _, r := range refs {
		if r.Digest == nil {
			out = append(out, r)
		}
	}
	return out
}

func (e *env) anyInScope(files []string) bool {
	if len(files) == 0 {
		return e.scope.contains(".")
	}
	for _, f := range files {
		if e.scope.contains(f) {
			return true
		}
	}
	return false
}

// shortName is the name a person would type: "alpine" for
// docker.io/library/alpine.
func shortName(k resolve.Key) string {
	return strings.TrimPrefix(strings.TrimPrefix(k.Name, "docker.io/"), "library/")
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}
