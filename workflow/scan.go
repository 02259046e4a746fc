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
	files    map[string][]byte // sources that have references, by slash path
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

// spanID names the place of a reference: its file and span.
func spanID(r rewrite.Ref) string {
	return fmt.Sprintf("%s\x00%d\x00%d", r.File, r.Span.Start, r.Span.End)
}

// scan finds the references in every source in scope. Files are read and
// parsed in parallel; the result is in path order whatever the timing.
// Every unreadable or malformed file is reported, joined; text that is no
// image reference is a warning. found, when not
// nil, sees each reference as soon as its file is parsed, from several
// goroutines at once.
func (e *env) scan(found func(Found)) (*scanResult, error) {
	files, linked, err := discover(os.DirFS(e.root), e.scope, e.cfg, func(p string) bool {
		_, _, ok := e.cfg.finderFor(p)
		return ok
	})
	if err != nil {
		return nil, fmt.Errorf("walking %s: %w", e.root, err)
	}
	type result struct {
		src      []byte
		refs     []Found
		overrule []string // spanIDs of Context, Renamed and Replaced references
		warns    []rewrite.Warning
		errs     []error
	}
	results := make([]result, len(files))
	// Every read goes through root, which refuses a path or a symbolic
	// link that leads outside the lock's directory: a compose build:
	// through a linked directory reads nothing outside the repository.
	root, err := os.OpenRoot(e.root)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	fsys := root.FS()
	// The build files of the whole tree, whatever the scope: a
	// manifest in scope runs what a skaffold config elsewhere builds.
	builders := files
	if !e.scope.contains(".") {
		if builders, _, err = discover(os.DirFS(e.root), scope{paths: []string{"."}}, e.cfg, isBuildFile); err != nil {
			return nil, fmt.Errorf("walking %s: %w", e.root, err)
		}
	}
	built, err := buildOutputs(fsys, builders)
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := &results[i]
				var err error
				if r.src, err = bounded.ReadFile(fsys, files[i], bounded.Source); err != nil {
					r.errs = []error{err}
					continue
				}
				find, declared, _ := e.cfg.finderFor(files[i])
				var refs []rewrite.Ref
				if refs, r.warns, err = find(rewrite.Input{FS: fsys, Path: files[i], Src: r.src, Env: e.Env, Declared: declared}); err != nil {
					r.errs = []error{err}
					continue
				}
				if len(refs) == 0 {
					// Nothing to edit: most JSON files, for one, are no source.
					r.src = nil
				}
				for _, ref := range refs {
					if ref.Context || ref.Renamed || ref.Replaced {
						r.overrule = append(r.overrule, spanID(ref))
					}
					if ref.Context || ref.Replaced {
						continue
					}
					p, err := resolve.Parse(ref.Image)
					if err != nil {
						r.warns = append(r.warns, notAnImage(ref))
						continue
					}
					if placeholderTag.MatchString(p.Key.Tag) {
						r.warns = append(r.warns, placeholder(ref, p.Key.Tag))
						continue
					}
					if e.cfg.ignored(p.Key) || built[p.Key.Name] {
						continue
					}
					f := Found{Ref: ref, Parsed: p}
					r.refs = append(r.refs, f)
					if found != nil {
						found(f)
					}
				}
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()

	s := &scanResult{files: map[string][]byte{}, warnings: linked}
	var errs []error
	// A span that a compose build reads as a context, or a kustomization
	// renames or replaces, is no reference of its own when its file is
	// read alone.
	overruled := map[string]bool{}
	for _, r := range results {
		for _, id := range r.overrule {
			overruled[id] = true
		}
	}
	seen, warned := map[string]int{}, map[string]bool{}
	for i, r := range results {
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
			id := spanID(f.Ref) + "\x00" + f.Image
			if overruled[spanID(f.Ref)] && !f.Renamed {
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
	}
	// A reference may live in a file the walk did not read: the
	// Dockerfile of a compose build, named otherwise or excluded. Pin
	// edits it all the same, so its bytes are loaded too.
	for _, r := range s.refs {
		if _, ok := s.files[r.File]; !ok {
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
