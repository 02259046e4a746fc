// Package atomicfile writes files so that a reader, or a crash, sees either
// the old content or the new, never a mix: a temporary file in the same
// directory is written, synced, given the old file's mode and renamed over
// it. A Batch does that for one file or several at once, all or nothing.
package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Batch replaces several files all or nothing. Stage writes each new
// content to a synced temporary file beside its target, which proves the
// directory writable and the disk large enough; Commit renames them into
// place once every file is staged, and only if every file staged with
// StageReplacing still holds what was read. A failed Stage, or a Commit
// that finds a file changed, removes every temporary file and changes no
// target; a rename that fails after others succeeded (which staging
// beside each target makes unlikely) says which files were written.
type Batch struct {
	staged []staged
	done   bool
}

type staged struct {
	name, tmp string
	was       []byte
	check     bool // name must still hold was at Commit
	absent    bool // name must still not exist at Commit
}

// ChangedError is a file that changed between the read and the write (an
// editor saved it while the command ran): the batch wrote nothing.
type ChangedError struct{ Name string }

func (e *ChangedError) Error() string {
	return fmt.Sprintf("%s changed while imagelock ran, so nothing was written: run the command again", e.Name)
}

// Stage prepares name's new content. A new file gets mode perm, an
// existing one keeps its mode. A symbolic link stays a link: the file it
// names is the one replaced.
func (b *Batch) Stage(name string, data []byte, perm fs.FileMode) error {
	return b.stage(staged{name: name}, data, perm)
}

// StageReplacing is Stage for a file that was read as was: Commit fails
// with a *ChangedError, writing nothing, if the file holds anything else
// by then.
func (b *Batch) StageReplacing(name string, was, data []byte) error {
	return b.stage(staged{name: name, was: was, check: true}, data, 0o644)
}

// StageNew is Stage for a file that was not there when the command
// looked: Commit fails with a *ChangedError, writing nothing, if it is
// there by then.
func (b *Batch) StageNew(name string, data []byte, perm fs.FileMode) error {
	return b.stage(staged{name: name, absent: true}, data, perm)
}

func (b *Batch) stage(s staged, data []byte, perm fs.FileMode) (err error) {
	defer func() {
		if err != nil {
			b.Abort()
		}
	}()
	if b.done {
		return errors.New("atomicfile: Stage after Commit or Abort")
	}
	target := s.name
	if real, err := filepath.EvalSymlinks(target); err == nil {
		target = real
	}
	for _, o := range b.staged {
		if o.name == target {
			// Two contents for one file (two paths to it through a
			// link): whichever was renamed last would win.
			return fmt.Errorf("writing %s: it is staged twice (%s is the same file): nothing was written", s.name, target)
		}
	}
	if fi, err := os.Stat(target); err == nil {
		perm = fi.Mode().Perm()
	}
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", s.name, err)
	}
	s.tmp = f.Name()
	s.name = target
	b.staged = append(b.staged, s)
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", s.name, err)
	}
	return nil
}

// Commit checks that every file staged with StageReplacing still holds
// what was read, and that none staged with StageNew has appeared, then
// renames every staged file into place, in the order
// staged: stage last the file that records the others (a lock).
func (b *Batch) Commit() error {
	if b.done {
		return errors.New("atomicfile: Commit after Commit or Abort")
	}
	for _, s := range b.staged {
		changed := false
		switch {
		case s.check:
			now, err := os.ReadFile(s.name)
			changed = err != nil || !bytes.Equal(now, s.was)
		case s.absent:
			_, err := os.Lstat(s.name)
			changed = err == nil
		}
		if changed {
			b.Abort()
			return &ChangedError{Name: s.name}
		}
	}
	for i, s := range b.staged {
		if err := os.Rename(s.tmp, s.name); err != nil {
			var written []string
			for _, w := range b.staged[:i] {
				written = append(written, w.name)
			}
			b.staged = b.staged[i:]
			b.Abort()
			if len(written) > 0 {
				return fmt.Errorf("writing %s: %w (already written: %s)", s.name, err, strings.Join(written, ", "))
			}
			return fmt.Errorf("writing %s: %w", s.name, err)
		}
	}
	b.done = true
	return nil
}

// Abort removes the temporary files of a batch not committed.
func (b *Batch) Abort() {
	if b.done {
		return
	}
	for _, s := range b.staged {
		os.Remove(s.tmp)
	}
	b.staged = nil
	b.done = true
}
