package workflow

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"runtime"
	"sort"
	"sync"

	"github.com/imagelock/imagelock/internal/bounded"
	"github.com/imagelock/imagelock/resolve"
	"github.com/imagelock/imagelock/rewrite"
)

// Found is a reference with its parsed image.
type Found struct {
	rewrite.Ref
	resolve.Parsed
	// bare is set on a reference that pin wrote onto an image with no
	// tag, which tracks latest (see adoptBare).
	bare bool
	// from is the tag the source writes, where update --bump moved the
	// reference to a newer one (Key's).
	from string
}

// scanResult is every reference in scope, in file order.
type scanResult struct {
	refs     []Found
	warnings []rewrite.Warning
	files    map[string][]byte // sources that have references, by slash path; nil unless the scan keeps sources
}

// notAnImage is the warning for a reference whose text is no image
// reference: a placeholder (REPLACE-ME, <your-image>) or a broken
// fixture, which stops nothing else.
func notAnImage(r rewrite.Ref) rewrite.Warning {
	return rewrite.Warning{File: r.File, Line: r.Line, Msg: fmt.Sprintf("%q is not an image reference%s", r.Image, rewrite.OrExclude(r.File))}
}

// placeholderTag matches a tag that is a name a script replaces before
// the build or deploy (CONTAINER_IMAGES_TAG, IMAGE_TAG): upper-case words
// joined by underscores, as no release names its tags.
var placeholderTag = regexp.MustCompile(`^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$`)

// placeholder is the warning for a reference whose tag is a placeholder.
func placeholder(r rewrite.Ref, tag string) rewrite.Warning {
	return rewrite.Warning{File: r.File, Line: r.Line, Msg: fmt.Sprintf("%q is not an image reference: its tag %s is a placeholder a script replaces%s", r.Image, tag, rewrite.OrExclude(r.File))}
}

// place is where a reference is: its file and span.
type place struct {
	file       string
	start, end int
}

func placeOf(r rewrite.Ref) place {
	return place{r.File, r.Span.Start, r.Span.End}
}

// scan finds the references in every source in scope. Files are read and
// parsed in parallel; the result is in path order whatever the timing.
// Every unreadable or malformed file is reported, joined; text that is no
// image reference is a warning. found, when not
// nil, sees each reference as soon as its file is parsed, from several
// goroutines at once. The bytes of the sources with references are kept,
// in files, only with keep: for the commands that edit them.
func (e *env) scan(found func(Found), keep bool) (*scanResult, error) {
	// The files the walk finds are regular files reached through real
	// directories (the walk follows no link), so they are read by path,
	// in one open that follows no link either. Every other read, of a
	// path a source names, goes through root, which refuses a path or a
	// symbolic link that leads outside the lock's directory: a compose
	// build: through a linked directory reads nothing outside the
	// repository.
	root, err := os.OpenRoot(e.root)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	fsys := root.FS()
	// Files are parsed while the walk goes on. The images the tree's
	// build files build (skaffold's) are known only when it ends: until
	// then, each worker holds back what it would hand to found.
	type job struct {
		i    int
		path string
	}
	type done struct {
		i int
		fileScan
	}
	var (
		wg      sync.WaitGroup
		jobs    = make(chan job, 1024)
		ready   = make(chan struct{}) // closed once built is known
		built   map[string]bool
		walked  bool // and the walk went well: nothing to look up otherwise
		outputs = make([][]done, runtime.GOMAXPROCS(0))
	)
	for w := range outputs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var held []Found
			hand := func(fs []Found) {
				for _, f := range fs {
					if walked && !built[f.Key.Name] {
						found(f)
					}
				}
			}
			// A worker's memo of parsed images: a tree names the same
			// few images over and over.
			parsed := map[string]parsedImage{}
			for j := range jobs {
				r := e.scanFile(fsys, j.path, keep, parsed)
				outputs[w] = append(outputs[w], done{j.i, r})
				if found == nil {
					continue
				}
				select {
				case <-ready:
					hand(held)
					held = nil
					hand(r.refs)
				default:
					held = append(held, r.refs...)
				}
			}
			hand(held)
		}()
	}
	var files []string
	linked, walkErr := walk(os.DirFS(e.root), e.scope, e.cfg, func(p string) bool {
		_, _, ok := e.cfg.finderFor(p)
		return ok
	}, func(rel string) {
		jobs <- job{len(files), rel}
		files = append(files, rel)
	})
	// The build files of the whole tree, whatever the scope: a
	// manifest in scope runs what a skaffold config elsewhere builds.
	builders := files
	if walkErr == nil && !e.scope.contains(".") {
		builders, _, walkErr = discover(os.DirFS(e.root), scope{paths: []string{"."}}, e.cfg, isBuildFile)
	}
	if walkErr == nil {
		built, err = buildOutputs(fsys, builders)
		walked = err == nil
	}
	close(ready)
	close(jobs)
	wg.Wait()
	if walkErr != nil {
		return nil, fmt.Errorf("walking %s: %w", e.root, walkErr)
	}
	if err != nil {
		return nil, err
	}
	results := make([]fileScan, len(files))
	for _, out := range outputs {
		for _, d := range out {
			results[d.i] = d.fileScan
		}
	}
	outputs = nil

	s := &scanResult{warnings: linked}
	if keep {
		s.files = map[string][]byte{}
	}
	var errs []error
	// A span that a compose build reads as a context, or a kustomization
	// renames or replaces, is no reference of its own when its file is
	// read alone.
	overruled := map[place]bool{}
	n := 0
	for _, r := range results {
		for _, p := range r.overrule {
			overruled[p] = true
		}
		n += len(r.refs)
	}
	s.refs = make([]Found, 0, n)
	type spanImage struct {
		place
		image string
	}
	seen, warned := make(map[spanImage]int, n), map[string]bool{}
	for i := range results {
		r := &results[i]
		if len(r.errs) > 0 {
			errs = append(errs, r.errs...)
			continue
		}
		if r.src != nil {
			s.files[files[i]] = r.src
		}
		for _, w := range r.warns {
			// A compose build's Dockerfile warns twice, likewise.
			if !warned[w.String()] {
				warned[w.String()] = true
				s.warnings = append(s.warnings, w)
			}
		}
		for _, f := range r.refs {
			// A compose build's Dockerfile is found twice: from the
			// compose file and on its own. One reference per span and
			// image, the Dockerfile's own where both are found.
			id := spanImage{placeOf(f.Ref), f.Image}
			if len(overruled) > 0 && overruled[id.place] && !f.Renamed || built[f.Key.Name] {
				continue
			}
			if at, ok := seen[id]; ok {
				if f.Via == "" {
					s.refs[at] = f
				}
				continue
			}
			seen[id] = len(s.refs)
			s.refs = append(s.refs, f)
		}
		*r = fileScan{} // its references are in s.refs now
	}
	// A reference may live in a file the walk did not read: the
	// Dockerfile of a compose build, named otherwise or excluded. Pin
	// edits it all the same, so its bytes are loaded too.
	for _, r := range s.refs {
		if _, ok := s.files[r.File]; keep && !ok {
			src, err := bounded.ReadFile(fsys, r.File, bounded.Source)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			s.files[r.File] = src
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.SliceStable(s.refs, func(i, j int) bool {
		a, b := s.refs[i], s.refs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return s, nil
}

// fileScan is what the scan finds in one file.
type fileScan struct {
	src      []byte // nil unless the scan keeps sources and the file has references
	refs     []Found
	overrule []place // of Context, Renamed and Replaced references
	warns    []rewrite.Warning
	errs     []error
}

// parsedImage is resolve.Parse's answer, kept for the next reference
// that writes the same text.
type parsedImage struct {
	resolve.Parsed
	err error
}

// scanFile reads and parses the file at slash path p, which the walk
// found. parsed is the calling worker's memo of images parsed so far.
func (e *env) scanFile(fsys fs.FS, p string, keep bool, parsed map[string]parsedImage) fileScan {
	var r fileScan
	src, err := bounded.ReadWalked(e.root, p, bounded.Source)
	if err != nil {
		r.errs = []error{err}
		return r
	}
	find, declared, _ := e.cfg.finderFor(p)
	refs, warns, err := find(rewrite.Input{FS: fsys, Path: p, Src: src, Env: e.Env, Declared: declared})
	if err != nil {
		r.errs = []error{err}
		return r
	}
	r.warns = warns
	if len(refs) > 0 && keep {
		// Nothing else is edited: most JSON files, for one, are no
		// source, and list, lock and verify edit nothing.
		r.src = src
	}
	r.refs = make([]Found, 0, len(refs))
	for _, ref := range refs {
		if ref.Context || ref.Renamed || ref.Replaced {
			r.overrule = append(r.overrule, placeOf(ref))
		}
		if ref.Context || ref.Replaced {
			continue
		}
		pi, ok := parsed[ref.Image]
		if !ok {
			pi.Parsed, pi.err = resolve.Parse(ref.Image)
			parsed[ref.Image] = pi
		}
		switch {
		case pi.err != nil:
			r.warns = append(r.warns, notAnImage(ref))
		case placeholderTag.MatchString(pi.Key.Tag):
			r.warns = append(r.warns, placeholder(ref, pi.Key.Tag))
		case !e.cfg.ignored(pi.Key):
			r.refs = append(r.refs, Found{Ref: ref, Parsed: pi.Parsed})
		}
	}
	return r
}

// buildOutputs reads the build files among files (skaffold's) before the
// scan, and returns the names of the images they build here: such an
// image is that build's output wherever a source uses it, which no
// registry has to lock, and no lookup starts for it.
func buildOutputs(fsys fs.FS, files []string) (map[string]bool, error) {
	built := map[string]bool{}
	for _, f := range files {
		if !isBuildFile(f) {
			continue
		}
		src, err := bounded.ReadFile(fsys, f, bounded.Source)
		if err != nil {
			return nil, err
		}
		for _, o := range rewrite.BuildOutputs(rewrite.Input{Path: f, Src: src}) {
			if p, err := resolve.Parse(o); err == nil {
				built[p.Key.Name] = true
			}
		}
	}
	return built, nil
}

// isBuildFile reports whether a file is a build file whose outputs
// buildOutputs reads: a skaffold config.
func isBuildFile(p string) bool {
	base := path.Base(p)
	return base == "skaffold.yaml" || base == "skaffold.yml"
}
