package rewrite

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// runGolden runs every case directory under dir. A case holds the input,
// a file called name (Input.Path is name and Input.FS the case directory,
// so a finder can read files beside it), and the goldens:
//
//   - refs: one line per reference, "line:col image [var=X] [context]",
//     where context marks a name the build is given as a context, which
//     is not locked nor pinned, and why pin leaves it alone, if it does;
//   - warnings: one line per warning, absent when there are none;
//   - pinned: the input with every reference pinned to fakeDigest;
//   - unpinned: unpin applied to pinned, present only when an input
//     reference holds a digest or has no tag (otherwise unpin must give
//     the input back byte for byte);
//   - pinned.<file>, unpinned.<file>: likewise for another file of the
//     case that references live in (a build's Dockerfile), with the
//     file's slashes written as "_"; refs names such references
//     "file:line:col".
//
// Pinning pinned again must change nothing. With -update the goldens are
// rewritten from what the finder and splice produce.
func runGolden(t *testing.T, dir string, find Finder, name string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading golden cases: %v", err)
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		n++
		caseDir := filepath.Join(dir, e.Name())
		t.Run(e.Name(), func(t *testing.T) {
			t.Parallel()
			goldenCase(t, caseDir, find, name)
		})
	}
	if n == 0 {
		t.Fatalf("no golden cases in %s", dir)
	}
}

func goldenCase(t *testing.T, dir string, find Finder, name string) {
	fsys := dirMapFS(t, dir)
	src := fsys[name].Data
	refs, warns := findAll(t, find, fsys, name, src)
	checkGolden(t, filepath.Join(dir, "refs"), []byte(formatRefs(name, refs)), false)
	checkGolden(t, filepath.Join(dir, "warnings"), []byte(formatWarnings(warns)), true)

	// Pin each file the references live in: the input, and the files
	// it names (a build's Dockerfile, a compose file), whose goldens
	// are pinned.<file> and unpinned.<file>.
	byFile := map[string][]Ref{name: nil}
	for _, r := range refs {
		byFile[r.File] = append(byFile[r.File], r)
	}
	pinnedFS := maps.Clone(fsys)
	for file, rs := range byFile {
		pinned := pinAll(t, fsys[file].Data, rs)
		checkGolden(t, filepath.Join(dir, goldenName("pinned", name, file)), pinned, false)
		pinnedFS[file] = &fstest.MapFile{Data: pinned}
	}

	pinnedRefs, _ := findAll(t, find, pinnedFS, name, pinnedFS[name].Data)
	if len(pinnedRefs) != len(refs) {
		t.Errorf("the pinned files have %d references, the input %d", len(pinnedRefs), len(refs))
	}
	pinnedByFile := map[string][]Ref{}
	for _, r := range pinnedRefs {
		pinnedByFile[r.File] = append(pinnedByFile[r.File], r)
	}
	for file := range byFile {
		pinned := pinnedFS[file].Data
		if again := pinAll(t, pinned, pinnedByFile[file]); !bytes.Equal(again, pinned) {
			t.Errorf("pinning the pinned %s again changed it (-pinned +again):\n%s", file, cmp.Diff(string(pinned), string(again)))
		}
		unpinned := unpinAll(t, pinned, pinnedByFile[file])
		if !unpinRestores(locked(byFile[file])) {
			checkGolden(t, filepath.Join(dir, goldenName("unpinned", name, file)), unpinned, false)
		} else if !bytes.Equal(unpinned, fsys[file].Data) {
			t.Errorf("unpinning the pinned %s did not give the input back (-input +unpinned):\n%s", file, cmp.Diff(string(fsys[file].Data), string(unpinned)))
		}
	}
}

// goldenName is the golden file of kind ("pinned", "unpinned") for file:
// kind itself for the case's input, kind.<file> for another file, with
// its slashes written as "_".
func goldenName(kind, input, file string) string {
	if file == input {
		return kind
	}
	return kind + "." + strings.ReplaceAll(file, "/", "_")
}

// dirMapFS reads a case directory into memory, so that pinned files can
// stand in for their inputs.
func dirMapFS(t *testing.T, dir string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		m[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatalf("reading the case: %v", err)
	}
	return m
}

// findAll runs the finder and checks the invariants every reference keeps.
func findAll(t *testing.T, find Finder, fsys fs.FS, name string, src []byte) ([]Ref, []Warning) {
	t.Helper()
	refs, warns, err := find(Input{FS: fsys, Path: name, Src: src})
	if err != nil {
		t.Fatalf("finding references: %v", err)
	}
	for _, r := range refs {
		fileSrc := src
		if r.File != name {
			if fileSrc, err = fs.ReadFile(fsys, r.File); err != nil {
				t.Fatalf("%s: reading the file of the reference: %v", r.Pos(), err)
			}
		}
		checkRefs(t, r.File, fileSrc, []Ref{r})
	}
	return refs, warns
}

// checkRefs checks each reference's span against its text and position.
func checkRefs(t *testing.T, name string, src []byte, refs []Ref) {
	t.Helper()
	for _, r := range refs {
		if r.Span.Start < 0 || r.Span.End > len(src) || r.Span.Start > r.Span.End {
			t.Errorf("%s: span %d-%d outside the file (%d bytes)", r.Pos(), r.Span.Start, r.Span.End, len(src))
			continue
		}
		if got := string(src[r.Span.Start:r.Span.End]); got != r.Written {
			t.Errorf("%s: src[span] = %q, Written = %q", r.Pos(), got, r.Written)
		}
		line := 1 + bytes.Count(src[:r.Span.Start], []byte("\n"))
		col := r.Span.Start - (bytes.LastIndexByte(src[:r.Span.Start], '\n') + 1) + 1
		if r.File != name || r.Line != line || r.Col != col {
			t.Errorf("%s: span starts at %s:%d:%d", r.Pos(), name, line, col)
		}
	}
}

// fakeDigest is the digest the goldens pin image to: the sha256 of its
// text without any digest, so that pinning twice gives the same bytes.
func fakeDigest(image string) string {
	sum := sha256.Sum256([]byte(StripDigest(image)))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func pinAll(t *testing.T, src []byte, refs []Ref) []byte {
	t.Helper()
	var edits []Edit
	for _, r := range locked(refs) {
		es, err := PinEdits(src, r, fakeDigest(r.Image))
		if err != nil {
			t.Fatalf("pinning: %v", err)
		}
		edits = append(edits, es...)
	}
	out, err := Splice(src, edits)
	if err != nil {
		t.Fatalf("splicing pins: %v", err)
	}
	return out
}

func unpinAll(t *testing.T, src []byte, refs []Ref) []byte {
	t.Helper()
	var edits []Edit
	for _, r := range locked(refs) {
		es, err := UnpinEdits(src, r)
		if err != nil {
			t.Fatalf("unpinning: %v", err)
		}
		edits = append(edits, es...)
	}
	out, err := Splice(src, edits)
	if err != nil {
		t.Fatalf("splicing unpins: %v", err)
	}
	return out
}

// locked returns the references lock records: not those naming a build
// context, nor those a kustomization replaces.
func locked(refs []Ref) []Ref {
	var out []Ref
	for _, r := range refs {
		if !r.Context && !r.Replaced {
			out = append(out, r)
		}
	}
	return out
}

// unpinRestores reports whether unpin should give the input back: when no
// reference holds a digest and each has a tag to keep (pinning "alpine"
// gives "alpine@sha256:...", which unpin leaves alone).
func unpinRestores(refs []Ref) bool {
	for _, r := range refs {
		if strings.Contains(r.Image, "@") || !hasTagBefore(r.Image) {
			return false
		}
	}
	return true
}

func formatRefs(name string, refs []Ref) string {
	var b strings.Builder
	for _, r := range refs {
		if r.File != name {
			fmt.Fprintf(&b, "%s:", r.File)
		}
		fmt.Fprintf(&b, "%d:%d %s", r.Line, r.Col, r.Image)
		if r.Var != "" {
			fmt.Fprintf(&b, " var=%s", r.Var)
		}
		if r.Context {
			b.WriteString(" context")
		}
		if r.Replaced {
			b.WriteString(" replaced")
		}
		if r.NoPin != "" {
			fmt.Fprintf(&b, " (not pinned: %s)", r.NoPin)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func formatWarnings(warns []Warning) string {
	var b strings.Builder
	for _, w := range warns {
		fmt.Fprintln(&b, w)
	}
	return b.String()
}

// checkGolden compares got with the golden file at path, or writes it
// with -update. An optional golden that would be empty is absent.
func checkGolden(t *testing.T, path string, got []byte, optional bool) {
	t.Helper()
	if *update {
		if optional && len(got) == 0 {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Fatal(err)
			}
			return
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil && !(optional && errors.Is(err, fs.ErrNotExist)) {
		t.Fatalf("reading the golden file (run go test -update to write it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}
