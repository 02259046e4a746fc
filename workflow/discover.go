package workflow

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"

	"github.com/imagelock/imagelock/internal/bounded"
	"github.com/imagelock/imagelock/internal/fileerr"

	"github.com/imagelock/imagelock/rewrite"
)

// scope is the part of the tree a command looks at: the walk root (the
// lock's directory) and the paths under it that were asked for.
type scope struct {
	paths []string // slash paths relative to the root; "." is everything
}

// newScope takes the paths as given (for messages) and made absolute.
func newScope(root string, given, abs []string) (scope, error) {
	if len(abs) == 0 {
		return scope{paths: []string{"."}}, nil
	}
	var s scope
	for i, abs := range abs {
		a := given[i]
		rel, err := filepath.Rel(root, abs)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return s, &UsageError{Msg: "path " + a + " is outside " + root + ", where the lock is: run imagelock from the repository root or pass -C"}
		}
		if _, err := os.Stat(abs); err != nil {
			return s, &UsageError{Msg: "path " + a + ": no such file or directory"}
		}
		s.paths = append(s.paths, filepath.ToSlash(rel))
	}
	return s, nil
}

// names reports whether a path given (not the default ".") is d or lies
// under it: the user asked for what is there.
func (s scope) names(d string) bool {
	for _, sp := range s.paths {
		if sp == d || strings.HasPrefix(sp, d+"/") {
			return true
		}
	}
	return false
}

// thirdParty reports whether directory rel holds other projects' files
// that a package manager writes and rewrites: node_modules, and a Go
// vendor directory (one with modules.txt). Their Dockerfiles and
// manifests are not this repository's images, and a pin written there
// would be undone by the next 'go mod vendor' or 'npm install'.
func thirdParty(fsys fs.FS, rel, name string) bool {
	switch name {
	case "node_modules":
		return true
	case "vendor":
		_, err := fs.Stat(fsys, rel+"/modules.txt")
		return err == nil
	}
	return false
}

// contains reports whether the file at slash path p is in scope.
func (s scope) contains(p string) bool {
	for _, sp := range s.paths {
		if sp == "." || p == sp || strings.HasPrefix(p, sp+"/") {
			return true
		}
	}
	return false
}

// leadsTo reports whether directory d is in scope or on the way to it.
func (s scope) leadsTo(d string) bool {
	if d == "." || s.contains(d) {
		return true
	}
	for _, sp := range s.paths {
		if strings.HasPrefix(sp, d+"/") {
			return true
		}
	}
	return false
}

// discover walks fsys, the root, and returns the slash paths of the
// sources in scope, as walk finds them.
func discover(fsys fs.FS, sc scope, cfg *Config, isSource func(string) bool) ([]string, []rewrite.Warning, error) {
	var files []string
	warns, err := walk(fsys, sc, cfg, isSource, func(rel string) { files = append(files, rel) })
	if err != nil {
		return nil, nil, err
	}
	return files, warns, nil
}

// walk walks fsys, the root, and hands emit the slash path of each
// source in scope, in lexical order as it finds it: files named like a
// source kind, not under .git or a package manager's directory (unless
// a path given names it), not ignored by a .gitignore, not excluded by
// the config. A directory or .gitignore it cannot read is an error
// naming it, never a silent skip: verify must not vouch for files it
// never saw. Every such error is reported, joined.
func walk(fsys fs.FS, sc scope, cfg *Config, isSource func(string) bool, emit func(string)) ([]rewrite.Warning, error) {
	var patterns []gitignore.Pattern
	var warns []rewrite.Warning
	var errs []error
	excluded := func(rel string) bool {
		for _, g := range cfg.Exclude {
			if ok, _ := doublestar.Match(g, rel); ok {
				return true
			}
		}
		return false
	}
	var visit func(dir string) error
	visit = func(dir string) error {
		entries, err := fs.ReadDir(fsys, dir)
		if err != nil {
			if dir == "." {
				return err
			}
			// The entries read before the error are walked all the same.
			errs = append(errs, unreadable(dir, err))
		}
		// A directory's .gitignore is read where its listing has one:
		// most directories have none, and a failed open per directory
		// was a tenth of the walk.
		if slices.ContainsFunc(entries, func(d fs.DirEntry) bool { return d.Name() == ".gitignore" }) {
			var domain []string
			if dir != "." {
				domain = strings.Split(dir, "/")
			}
			ps, err := readGitignore(fsys, dir, domain)
			if err != nil {
				errs = append(errs, err)
			}
			patterns = append(patterns, ps...)
		}
		for _, d := range entries {
			rel := d.Name()
			if dir != "." {
				rel = dir + "/" + rel
			}
			if d.IsDir() {
				if d.Name() == ".git" || !sc.leadsTo(rel) || excluded(rel) ||
					thirdParty(fsys, rel, d.Name()) && !sc.names(rel) ||
					ignored(patterns, rel, true) {
					continue
				}
				if err := visit(rel); err != nil {
					return err
				}
				continue
			}
			if !sc.contains(rel) || !isSource(rel) || excluded(rel) || ignored(patterns, rel, false) {
				continue
			}
			if strings.ContainsFunc(rel, unicode.IsControl) {
				// The lock could not record it (it refuses control
				// characters), and no log should print it.
				warns = append(warns, rewrite.Warning{File: strconv.Quote(rel), Msg: "a path with a control character, not read: rename it"})
				continue
			}
			if !d.Type().IsRegular() {
				// A link is not followed: where it leads into the tree, the
				// file it names is read there; where it leads out, nothing
				// outside is read.
				if d.Type()&fs.ModeSymlink != 0 {
					warns = append(warns, rewrite.Warning{File: rel, Msg: "a symbolic link, not read: imagelock reads the file it names where that is in the tree"})
				}
				continue
			}
			emit(rel)
		}
		return nil
	}
	if err := visit("."); err != nil {
		return nil, err
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return warns, nil
}

// ignored reports whether the .gitignore patterns read so far ignore rel.
func ignored(patterns []gitignore.Pattern, rel string, dir bool) bool {
	return len(patterns) > 0 && gitignore.NewMatcher(patterns).Match(strings.Split(rel, "/"), dir)
}

// unreadable is the error for a path under the root the walk cannot read.
func unreadable(rel string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &fileerr.Error{File: rel, Err: fmt.Errorf("cannot read it (%w)", err), Next: "fix its permissions, or exclude it in " + ConfigFile}
}

// readGitignore reads the .gitignore of directory dir, if it has one.
func readGitignore(fsys fs.FS, dir string, domain []string) ([]gitignore.Pattern, error) {
	p := path.Join(dir, ".gitignore")
	data, err := bounded.ReadFile(fsys, p, bounded.Small)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, unreadable(p, err)
	}
	var ps []gitignore.Pattern
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ps = append(ps, gitignore.ParsePattern(line, append([]string(nil), domain...)))
	}
	return ps, nil
}
