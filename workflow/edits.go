package workflow

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"

	"github.com/imagelock/imagelock/internal/atomicfile"
	"github.com/imagelock/imagelock/internal/fileerr"
	"github.com/imagelock/imagelock/lock"
	"github.com/imagelock/imagelock/rewrite"
)

// editPlan is the one path from references to file edits that pin, unpin
// and update share: every reference's edits are gathered first, checked
// against each other file by file, and only then spliced. Nothing is
// written here.
type editPlan struct {
	files map[string][]byte // sources as read, by slash path
	edits map[string][]owned
}

// owned is one edit with the reference that needs it.
type owned struct {
	rewrite.Edit
	ref Found
}

func newEditPlan(files map[string][]byte) *editPlan {
	return &editPlan{files: files, edits: map[string][]owned{}}
}

// add records the edits reference r needs.
func (p *editPlan) add(r Found, es []rewrite.Edit) {
	for _, e := range es {
		p.edits[r.File] = append(p.edits[r.File], owned{e, r})
	}
}

// changes returns the new bytes of every file the edits change, in path
// order. Two references that need different edits of the same bytes (a
// Dockerfile that compose builds with other args than its defaults) are a
// *ConflictError, and then no file changes.
func (p *editPlan) changes() ([]FileChange, error) {
	files := make([]string, 0, len(p.edits))
	for f := range p.edits {
		files = append(files, f)
	}
	sort.Strings(files)
	var out []FileChange
	for _, file := range files {
		es := p.edits[file]
		if err := conflicts(es); err != nil {
			return nil, err
		}
		plain := make([]rewrite.Edit, len(es))
		for i, e := range es {
			plain[i] = e.Edit
		}
		src := p.files[file]
		next, err := rewrite.Splice(src, plain)
		if err != nil {
			return nil, &fileerr.Error{File: file, Err: err}
		}
		if string(next) != string(src) {
			out = append(out, FileChange{File: file, Old: src, New: next})
		}
	}
	return out, nil
}

// conflicts returns the first pair of edits of one file that overlap and
// differ. Identical edits are one edit: references that share a variable
// default.
func conflicts(es []owned) error {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Span.Start != es[j].Span.Start {
			return es[i].Span.Start < es[j].Span.Start
		}
		return es[i].Span.End < es[j].Span.End
	})
	for i := 1; i < len(es); i++ {
		a, b := es[i-1], es[i]
		if a.Edit == b.Edit {
			continue
		}
		empty := a.Span.Start == a.Span.End && b.Span.Start == b.Span.End
		if b.Span.Start < a.Span.End || empty && a.Span.Start == b.Span.Start {
			return &ConflictError{File: a.ref.File, Line: a.ref.Line, A: conflictSide(a), B: conflictSide(b)}
		}
	}
	return nil
}

// ConflictError is two references that need different text written at
// the same place: whichever edit won would break the other's build, so
// nothing is written.
type ConflictError struct {
	File string
	Line int
	A, B Conflict
}

// Conflict is one side of a ConflictError.
type Conflict struct {
	Where string // file:line:col, and who builds the file if not itself
	Image string // the image the reference pulls
	New   string // the text it needs written
}

func conflictSide(e owned) Conflict {
	return Conflict{Where: e.ref.Where(), Image: e.ref.Image, New: e.New}
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s:%d: two references need different text at the same place, so nothing was written:\n"+
		"    %s: %s needs %q\n"+
		"    %s: %s needs %q\n"+
		"move what differs into a build arg that ends the image (FROM golang:${GO}, with GO set by each build), or pin this line by hand",
		e.File, e.Line, e.A.Where, e.A.Image, e.A.New, e.B.Where, e.B.Image, e.B.New)
}

// stageChanges adds each changed source to a batch of writes. A source
// must resolve, through any symbolic link, to a file under the root (a
// link stays a link), must not have grown past what imagelock reads, and
// at commit must still hold the bytes it was read as.
func (e *env) stageChanges(b *atomicfile.Batch, cs []FileChange) error {
	realRoot, err := filepath.EvalSymlinks(e.root)
	if err != nil {
		return err
	}
	staged := map[string]FileChange{} // by the file's real path
	for _, c := range cs {
		name := filepath.Join(e.root, filepath.FromSlash(c.File))
		real, err := filepath.EvalSymlinks(name)
		if err != nil {
			return err
		}
		// One file reached by two paths (a linked directory): the same
		// new bytes are one write; different ones would lose an edit.
		if o, ok := staged[real]; ok {
			if string(o.New) == string(c.New) {
				continue
			}
			return fmt.Errorf("%s and %s are one file (through a symbolic link) that the references read through each path need different edits of, so nothing was written: pin it by hand", o.File, c.File)
		}
		staged[real] = c
		if rel, err := filepath.Rel(realRoot, real); err != nil || !filepath.IsLocal(rel) {
			return fmt.Errorf("%s resolves to %s, outside %s, so nothing was written: imagelock edits only files under the lock's directory", c.File, real, e.root)
		}
		if rewrite.TooLarge(c.File, len(c.New)) && !rewrite.TooLarge(c.File, len(c.Old)) {
			return fmt.Errorf("%s would grow to %d bytes, past what imagelock reads, so nothing was written: split the file", c.File, len(c.New))
		}
		if err := b.StageReplacing(real, c.Old, c.New); err != nil {
			return err
		}
	}
	return nil
}

// commit writes a batch, or removes what it staged when err is set.
func commit(b *atomicfile.Batch, err error) error {
	if err != nil {
		b.Abort()
		return err
	}
	return b.Commit()
}

// adoptBare gives its tag back to each reference that pin wrote onto an
// image with no tag: "mongo@sha256:…" in a file the lock's mongo:latest
// entry names, with the digest it records, where no digest-only entry
// records it, tracks latest as "mongo" did, and unpin takes the digest
// out again. A digest-only reference written by hand in another file
// stays digest-only.
func adoptBare(lk *lock.File, refs []*Found) {
	index := lk.Index()
	for _, r := range refs {
		if r.Key.Tag != "" || r.Digest == nil || r.Style == rewrite.DigestField {
			continue
		}
		if im := index[r.Key.Name+":latest"]; im == nil || im.Digest != *r.Digest || !slices.Contains(im.Sources, r.File) {
			continue
		}
		if index[r.Key.Name+"@"+r.Digest.String()] != nil {
			continue
		}
		r.Key.Tag = "latest"
		r.bare = true
	}
}
