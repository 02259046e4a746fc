package workflow

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"runtime"
	"slices"
	"strings"
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
	refs     []*Found // each in its file's fileScan: none copied
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
	// Files are parsed while the walk goes on, and each file's findings
	// join the result, in walk order, as soon as the files before it
	// have (see merger). The images the tree's build files build
	// (skaffold's) are known only when the walk ends: until then, what
	// the workers would hand to found is held back.
	var (
		wg   sync.WaitGroup
		jobs = newQueue()
		m    = newMerger(keep)
		held = &holdBack{found: found}
	)
	work := func(n int) {
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// A worker's memo of parsed images: a tree names the
				// same few images over and over.
				parsed := map[string]parsedImage{}
				for j, ok := jobs.pop(); ok; j, ok = jobs.pop() {
					r := e.scanFile(fsys, j.path, keep, parsed)
					m.files <- scanned{j, r}
					if found != nil {
						held.add(r.refs)
					}
				}
			}()
		}
	}
	// The walk keeps a core to itself: with a worker on every core, the
	// walk, back from each directory it reads, waits for one to be
	// preempted (up to 10 ms), and every lookup waits for the walk.
	// The last worker starts when the walk ends.
	procs := runtime.GOMAXPROCS(0)
	work(max(1, procs-1))
	go m.run()
	var builders []string
	linked, walkErr := walk(os.DirFS(e.root), e.scope, e.cfg, func(p string) bool {
		_, _, ok := e.cfg.finderFor(p)
		return ok
	}, func(rel string) {
		jobs.push(rel)
		if isBuildFile(rel) {
			builders = append(builders, rel)
		}
	})
	// The build files of the whole tree, whatever the scope: a
	// manifest in scope runs what a skaffold config elsewhere builds.
	if walkErr == nil && !e.scope.contains(".") {
		builders, _, walkErr = discover(os.DirFS(e.root), scope{paths: []string{"."}}, e.cfg, isBuildFile)
	}
	var built map[string]bool
	if walkErr == nil {
		built, err = buildOutputs(fsys, builders)
	}
	work(procs - max(1, procs-1))
	// Nothing to look up when the walk went wrong.
	held.release(built, walkErr == nil && err == nil)
	jobs.close()
	wg.Wait()
	close(m.files)
	<-m.done
	if walkErr != nil {
		return nil, fmt.Errorf("walking %s: %w", e.root, walkErr)
	}
	if err != nil {
		return nil, err
	}
	s, errs := m.result(linked, built)
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
	// The walk's order is nearly the paths' (a/b comes before a-b, which
	// sorts first): most often nothing moves.
	byPlace := func(a, b *Found) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	}
	if !slices.IsSortedFunc(s.refs, byPlace) {
		slices.SortStableFunc(s.refs, byPlace)
	}
	return s, nil
}

// merger joins the files' findings into one scanResult, in walk order,
// as they are parsed. A reference stays where its file's worker put it,
// and the result points at it: a tree's references are never copied
// into one slice (hundreds of megabytes for 100,000 files, held twice
// while it grows).
type merger struct {
	files chan scanned  // from the workers, in any order
	done  chan struct{} // closed once every file has joined
	s     *scanResult
	errs  []error
	// overruled holds the spans a compose build reads as a context, or
	// a kustomization renames or replaces: no reference of their own
	// when their file is read alone.
	overruled map[place]bool
	// twice holds the files whose references may be found twice: those
	// that references found in other files name (the Dockerfile of a
	// compose build), and those with two references at one span.
	twice   map[string]bool
	spans   map[place]bool // a file's spans, while it joins
	warned  map[string]bool
	pending map[int]scanned // finished before the files ahead of them
	next    int             // the file to join next
}

// scanned is a file's findings, as a worker hands them to the merger.
type scanned struct {
	job
	fileScan
}

func newMerger(keep bool) *merger {
	m := &merger{
		files: make(chan scanned, 64), done: make(chan struct{}),
		s:         &scanResult{},
		overruled: map[place]bool{}, twice: map[string]bool{}, spans: map[place]bool{},
		warned: map[string]bool{}, pending: map[int]scanned{},
	}
	if keep {
		m.s.files = map[string][]byte{}
	}
	return m
}

func (m *merger) run() {
	defer close(m.done)
	for d := range m.files {
		m.pending[d.i] = d
		for r, ok := m.pending[m.next]; ok; r, ok = m.pending[m.next] {
			delete(m.pending, m.next)
			m.next++
			m.join(r)
		}
	}
}

// join adds the findings of the next file in walk order.
func (m *merger) join(r scanned) {
	if len(r.errs) > 0 {
		m.errs = append(m.errs, r.errs...)
		return
	}
	if r.src != nil {
		m.s.files[r.path] = r.src
	}
	for _, w := range r.warns {
		// A compose build's Dockerfile warns twice, likewise.
		if !m.warned[w.String()] {
			m.warned[w.String()] = true
			m.s.warnings = append(m.s.warnings, w)
		}
	}
	for _, p := range r.overrule {
		m.overruled[p] = true
	}
	if len(r.refs) > 1 {
		clear(m.spans)
	}
	for _, f := range r.refs {
		if f.File != r.path {
			m.twice[f.File] = true
		}
		if len(r.refs) > 1 {
			p := placeOf(f.Ref)
			if m.spans[p] {
				m.twice[f.File] = true
			}
			m.spans[p] = true
		}
	}
	for i := range r.refs {
		m.s.refs = append(m.s.refs, &r.refs[i])
	}
}

// result drops, once every file has joined, the references that are
// none of their own (overruled, or what a build here builds) and the
// second finding of a reference, and puts the walk's warnings first.
func (m *merger) result(walk []rewrite.Warning, built map[string]bool) (*scanResult, []error) {
	s := m.s
	s.warnings = append(walk, s.warnings...)
	// A compose build's Dockerfile is found twice: from the compose
	// file and on its own. One reference per span and image, the
	// Dockerfile's own where both are found.
	type spanImage struct {
		place
		image string
	}
	seen := map[spanImage]int{}
	refs := s.refs[:0]
	for _, f := range s.refs {
		id := spanImage{placeOf(f.Ref), f.Image}
		if len(m.overruled) > 0 && m.overruled[id.place] && !f.Renamed || built[f.Key.Name] {
			continue
		}
		if m.twice[f.File] {
			if at, ok := seen[id]; ok {
				if f.Via == "" {
					refs[at] = f
				}
				continue
			}
			seen[id] = len(refs)
		}
		refs = append(refs, f)
	}
	clear(s.refs[len(refs):])
	s.refs = refs
	return s, m.errs
}

// holdBack hands references to found, from the scan's workers, once the
// walk has ended and the images built here are known; those found
// before are held until then, and handed at once when it ends (a worker
// may be parsing a file meanwhile, for as long as that takes).
type holdBack struct {
	found func(Found)
	mu    sync.Mutex
	done  bool
	hand  bool            // whether to hand anything, once done
	built map[string]bool // once done
	held  [][]Found
}

// add hands refs to found, or holds them until release.
func (h *holdBack) add(refs []Found) {
	h.mu.Lock()
	if !h.done {
		h.held = append(h.held, refs)
		h.mu.Unlock()
		return
	}
	h.mu.Unlock()
	h.handOver(refs)
}

// release says the walk has ended, with the images built here, and
// hands what was held; with hand false, nothing is ever handed.
func (h *holdBack) release(built map[string]bool, hand bool) {
	h.mu.Lock()
	h.done, h.hand, h.built = true, hand, built
	held := h.held
	h.held = nil
	h.mu.Unlock()
	for _, refs := range held {
		h.handOver(refs)
	}
}

func (h *holdBack) handOver(refs []Found) {
	if !h.hand {
		return
	}
	for _, f := range refs {
		if !h.built[f.Key.Name] {
			h.found(f)
		}
	}
}

// queue hands the files the walk finds to the scan's workers. The walk
// never waits for them: it is done, and the count of files known, while
// most are still to parse.
type queue struct {
	mu    sync.Mutex
	cond  *sync.Cond
	paths []string
	next  int
	done  bool
}

type job struct {
	i    int
	path string
}

func newQueue() *queue {
	q := &queue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *queue) push(p string) {
	q.mu.Lock()
	q.paths = append(q.paths, p)
	q.mu.Unlock()
	q.cond.Signal()
}

// close says the walk is over: pop reports false once every file is taken.
func (q *queue) close() {
	q.mu.Lock()
	q.done = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

func (q *queue) pop() (job, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.next == len(q.paths) && !q.done {
		q.cond.Wait()
	}
	if q.next == len(q.paths) {
		return job{}, false
	}
	q.next++
	return job{q.next - 1, q.paths[q.next-1]}, true
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
	err  error
	text string // the image text it was parsed from
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
			pi.text = ref.Image
			parsed[ref.Image] = pi
		}
		// The text parsed first stands for every copy, which is most
		// often a slice of its whole file: the file is then kept only
		// where something else reads it.
		if ref.Written == ref.Image {
			ref.Written = pi.text
		}
		ref.Image = pi.text
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
