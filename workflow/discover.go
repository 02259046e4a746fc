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
// sources in scope: files named like a source kind, not under .git or a
// package manager's directory (unless a path given names it), not
// ignored by a .gitignore, not excluded by the config. A directory or
// .gitignore it cannot read is an error naming it, never a silent skip:
// verify must not vouch for files it never saw. Every such error is
// reported, joined.
func discover(fsys fs.FS, sc scope, cfg *Config, isSource func(string) bool) ([]string, []rewrite.Warning, error) {
	var patterns []gitignore.Pattern
	var files []string
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
	// gitignoreErr is where errs holds the error of a directory's
	// .gitignore: when the directory turns out unreadable as a whole,
	// that one error says so instead.
	gitignoreErr := map[string]int{}
	readIgnores := func(dir string, domain []string) {
		ps, err := readGitignore(fsys, dir, domain)
		if err != nil {
			gitignoreErr[dir] = len(errs)
			errs = append(errs, err)
		}
		patterns = append(patterns, ps...)
	}
	err := fs.WalkDir(fsys, ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil {
			if rel == "." {
				return err
			}
			if i, ok := gitignoreErr[rel]; ok {
				errs[i] = unreadable(rel, err)
			} else {
				errs = append(errs, unreadable(rel, err))
			}
			return nil
		}
		parts := strings.Split(rel, "/")
		if d.IsDir() {
			if rel == "." {
				readIgnores(rel, nil)
				return nil
			}
			if d.Name() == ".git" || !sc.leadsTo(rel) || excluded(rel) ||
				thirdParty(fsys, rel, d.Name()) && !sc.names(rel) ||
				gitignore.NewMatcher(patterns).Match(parts, true) {
				return fs.SkipDir
			}
			readIgnores(rel, parts)
			return nil
		}
		if !sc.contains(rel) || !isSource(rel) || excluded(rel) ||
			gitignore.NewMatcher(patterns).Match(parts, false) {
			return nil
		}
		if strings.ContainsFunc(rel, unicode.IsControl) {
			// The lock could not record it (it refuses control
			// characters), and no log should print it.
			warns = append(warns, rewrite.Warning{File: strconv.Quote(rel), Msg: "a path with a control character, not read: rename it"})
			return nil
		}
		if !d.Type().IsRegular() {
			// A link is not followed: where it leads into the tree, the
			// file it names is read there; where it leads out, nothing
			// outside is read.
			if d.Type()&fs.ModeSymlink != 0 {
				warns = append(warns, rewrite.Warning{File: rel, Msg: "a symbolic link, not read: imagelock reads the file it names where that is in the tree"})
			}
			return nil
		}
		files = append(files, rel)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return files, warns, nil
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
