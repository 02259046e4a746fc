package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// writeFile replaces name with data in a batch of one.
func writeFile(name string, data []byte, perm os.FileMode) error {
	var b Batch
	if err := b.Stage(name, data, perm); err != nil {
		return err
	}
	return b.Commit()
}

func TestWriteFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := filepath.Join(dir, "Dockerfile")

	if err := writeFile(name, []byte("new\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(name); fi.Mode().Perm() != 0o640 {
		t.Errorf("new file mode = %v, want 0640", fi.Mode().Perm())
	}

	if err := os.Chmod(name, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(name, []byte("replaced\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(name); string(got) != "replaced\n" {
		t.Errorf("content = %q", got)
	}
	if fi, _ := os.Stat(name); fi.Mode().Perm() != 0o600 {
		t.Errorf("an existing file's mode changed to %v, want 0600 kept", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

// A failed rename returns the error and leaves no temporary file.
func TestWriteFileFailureCleansUp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	target := filepath.Join(dir, "sub")
	if err := os.MkdirAll(filepath.Join(target, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(target, []byte("new\n"), 0o644); err == nil {
		t.Fatal("writing over a non-empty directory succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 || entries[0].Name() != "sub" {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

// A batch that cannot stage every file writes none and leaves no
// temporary file: the one directory it cannot write to (here, one that
// does not exist) stops it before any rename.
func TestBatchStageFailureWritesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	if err := os.WriteFile(a, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var b Batch
	if err := b.StageReplacing(a, []byte("old\n"), []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	if err := b.Stage(filepath.Join(dir, "missing", "b"), []byte("new\n"), 0o644); err == nil {
		t.Fatal("staging into a missing directory succeeded")
	}
	if err := b.Commit(); err == nil {
		t.Error("Commit after a failed Stage succeeded")
	}
	if got, _ := os.ReadFile(a); string(got) != "old\n" {
		t.Errorf("a = %q, want it untouched", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

// A file changed between the read and the commit (an editor saved it)
// stops the whole batch, naming it.
func TestBatchRefusesAFileChangedSinceRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, c := filepath.Join(dir, "a"), filepath.Join(dir, "c")
	for _, p := range []string{a, c} {
		if err := os.WriteFile(p, []byte("old\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var b Batch
	for _, p := range []string{a, c} {
		if err := b.StageReplacing(p, []byte("old\n"), []byte("new\n")); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(c, []byte("saved by an editor\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := b.Commit()
	var ce *ChangedError
	if !errors.As(err, &ce) || ce.Name != c {
		t.Fatalf("Commit = %v, want a *ChangedError naming %s", err, c)
	}
	if got, _ := os.ReadFile(a); string(got) != "old\n" {
		t.Errorf("a = %q, want it untouched", got)
	}
	if got, _ := os.ReadFile(c); string(got) != "saved by an editor\n" {
		t.Errorf("c = %q, want the editor's bytes", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

// A symbolic link stays a link: the file it names is replaced.
func TestBatchKeepsSymlinks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	target, link := filepath.Join(dir, "target"), filepath.Join(dir, "link")
	if err := os.WriteFile(target, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("target", link); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(link, []byte("new\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("link is no longer a symbolic link: %v", err)
	}
	if got, _ := os.ReadFile(target); string(got) != "new\n" {
		t.Errorf("target = %q", got)
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o600 {
		t.Errorf("target's mode changed to %v", fi.Mode().Perm())
	}
}

// One file staged twice, by two paths to it, is refused: whichever
// rename came last would win.
func TestBatchRefusesOneFileTwice(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("target", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	var b Batch
	if err := b.Stage(target, []byte("one\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.Stage(filepath.Join(dir, "link"), []byte("two\n"), 0o644); err == nil {
		t.Fatal("staging one file twice succeeded")
	}
	if got, _ := os.ReadFile(target); string(got) != "old\n" {
		t.Errorf("target = %q, want it untouched", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}
