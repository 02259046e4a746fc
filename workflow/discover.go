package workflow

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
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

// discover walks root and returns the slash paths of the sources in scope:
// files named like a source kind, not under .git, not ignored by a
// .gitignore, not excluded by the config.
func discover(root string, sc scope, cfg *Config, isSource func(string) bool) ([]string, error) {
	var patterns []gitignore.Pattern
	var files []string
	excluded := func(rel string) bool {
		for _, g := range cfg.Exclude {
			if ok, _ := doublestar.Match(g, rel); ok {
				return true
			}
		}
		return false
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		parts := strings.Split(rel, "/")
		if d.IsDir() {
			if rel == "." {
				patterns = append(patterns, readGitignore(p, nil)...)
				return nil
			}
			if d.Name() == ".git" || !sc.leadsTo(rel) || excluded(rel) ||
				gitignore.NewMatcher(patterns).Match(parts, true) {
				return filepath.SkipDir
			}
			patterns = append(patterns, readGitignore(p, parts)...)
			return nil
		}
		if !d.Type().IsRegular() || !sc.contains(rel) || !isSource(rel) || excluded(rel) ||
			gitignore.NewMatcher(patterns).Match(parts, false) {
			return nil
		}
		files = append(files, rel)
		return nil
	})
	return files, err
}

func readGitignore(dir string, domain []string) []gitignore.Pattern {
	data, err := os.ReadFile(filepath.Join(dir, ".gitignore"))
	if err != nil {
		return nil
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
	return ps
}
