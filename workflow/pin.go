package workflow

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aymanbagabas/go-udiff"

	"github.com/imagelock/imagelock/internal/atomicfile"
	"github.com/imagelock/imagelock/internal/substr"
	"github.com/imagelock/imagelock/lock"
	"github.com/imagelock/imagelock/rewrite"
)

// FileChange is one source's bytes before and after an edit.
type FileChange struct {
	File     string
	Old, New []byte
}

// Diff returns the change as a unified diff, the file named name in its
// headers (c.File, or c.File escaped for printing).
func (c FileChange) Diff(name string) string {
	return udiff.Unified("a/"+name, "b/"+name, string(c.Old), string(c.New))
}

// EditResult says what Pin or Unpin changed, or would change.
type EditResult struct {
	Changes  []FileChange
	Refs     int // references looked at
	Wrote    bool
	Warnings []rewrite.Warning
}

// Pin writes each reference's locked digest into the sources
// (tag@digest), from the lock alone. Nothing is written when any
// reference lacks a lock entry. With write false, it reports what it
// would change.
func Pin(ctx context.Context, o Options, write bool) (*EditResult, error) {
	return edit(ctx, o, write, "pin", func(src []byte, r Found, im *lock.Image) ([]rewrite.Edit, error) {
		if r.Key.Tag == "" {
			return nil, nil
		}
		return rewrite.PinEdits(src, r.Ref, im.Digest.String())
	})
}

// Unpin takes the digests out of references that also name a tag, so
// the sources read as tags again; digest-only references stay. Nothing is
// written when any pinned reference lacks a lock entry: the lock must keep
// what the sources stop saying.
func Unpin(ctx context.Context, o Options, write bool) (*EditResult, error) {
	return edit(ctx, o, write, "unpin", func(src []byte, r Found, im *lock.Image) ([]rewrite.Edit, error) {
		if r.bare {
			return rewrite.UnpinBareEdits(r.Ref), nil
		}
		return rewrite.UnpinEdits(src, r.Ref)
	})
}

type editFunc func(src []byte, r Found, im *lock.Image) ([]rewrite.Edit, error)

// editable reports whether pin, unpin or update (verb) may edit r where
// it is written, and if not, the warning that says where to do it by
// hand: an image from the environment or .env, a chart's appVersion, a
// format that cannot hold a digest beside the tag. Unpin says nothing of
// a reference pin left alone on purpose (NoPin).
func editable(r Found, verb string) (bool, *rewrite.Warning) {
	switch r.Style {
	case rewrite.External:
		if r.NoPin != "" && verb == "unpin" {
			return false, nil
		}
		msg := fmt.Sprintf("%s comes from the environment or .env, not this file: %s it where it is set", r.Image, verb)
		if r.NoPin != "" {
			msg = r.NoPin
		}
		return false, &rewrite.Warning{File: r.File, Line: r.Line, Msg: msg}
	case rewrite.LockOnly:
		return false, &rewrite.Warning{File: r.File, Line: r.Line,
			Msg: fmt.Sprintf("%s is locked and verified but not %sned here: its format cannot hold a tag and a digest together", r.Image, verb)}
	}
	return true, nil
}

func edit(ctx context.Context, o Options, write bool, verb string, f editFunc) (*EditResult, error) {
	e, err := prepare(o)
	if err != nil {
		return nil, err
	}
	if write {
		release, err := e.writer(ctx)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	lk, err := e.readLock(true)
	if err != nil {
		return nil, err
	}
	s, err := e.scan(nil, true)
	if err != nil {
		return nil, err
	}
	adoptBare(lk, s.refs)
	index := lk.Index()
	res := &EditResult{Refs: len(s.refs), Warnings: s.warnings}
	var missing []string
	plan := newEditPlan(s.files)
	for _, g := range groupRefs(s.refs) {
		im := index[g.id()]
		if im == nil {
			for _, r := range g.refs {
				missing = append(missing, fmt.Sprintf("%s: %s", r.Pos(), r.Image))
			}
			continue
		}
		for _, r := range g.refs {
			if ok, w := editable(*r, verb); !ok {
				if w != nil {
					res.Warnings = append(res.Warnings, *w)
				}
				continue
			}
			es, err := f(s.files[r.File], *r, im)
			if err != nil {
				return nil, err
			}
			plan.add(*r, es)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("%s changed nothing: not in %s:\n  %s\nrun 'imagelock lock' to add them", verb, e.lockName, strings.Join(missing, "\n  "))
	}
	if res.Changes, err = plan.changes(); err != nil {
		return nil, err
	}
	if write && len(res.Changes) > 0 {
		var b atomicfile.Batch
		if err := commit(&b, e.stageChanges(&b, res.Changes)); err != nil {
			return nil, err
		}
		res.Wrote = true
	}
	return res, nil
}

// Reference is one reference as List shows it.
type Reference struct {
	File  string       `json:"file"`
	Line  int          `json:"line"`
	Col   int          `json:"column"`
	Kind  rewrite.Kind `json:"kind"`
	Image string       `json:"image"`
	// Key is the normalized image key the lock uses.
	Key    string `json:"key"`
	Digest string `json:"digest,omitempty"`
	Var    string `json:"variable,omitempty"`
}

// ListResult is every reference found, in file order.
type ListResult struct {
	Refs     []Reference
	Warnings []rewrite.Warning
}

// List finds every reference in scope, with no network and no lock.
func List(ctx context.Context, o Options) (*ListResult, error) {
	e, err := prepare(o)
	if err != nil {
		return nil, err
	}
	s, err := e.scan(nil, false)
	if err != nil {
		return nil, err
	}
	res := &ListResult{Refs: make([]Reference, 0, len(s.refs)), Warnings: s.warnings}
	for _, r := range s.refs {
		ref := Reference{File: r.File, Line: r.Line, Col: r.Col, Kind: r.Kind, Image: r.Image, Key: substr.Within(r.Image, r.Key.String()), Var: r.Var}
		if r.Digest != nil {
			ref.Digest = substr.Within(r.Image, r.Digest.String())
		}
		res.Refs = append(res.Refs, ref)
	}
	return res, nil
}
