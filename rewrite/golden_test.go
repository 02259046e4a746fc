package rewrite

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// runGolden runs every case directory under dir. A case holds the input,
// a file called name (Input.Path is name and Input.FS the case directory,
// so a finder can read files beside it), and the goldens:
//
//   - refs: one line per reference, "line:col image [var=X]", and why
//     pin leaves it alone, if it does;
//   - warnings: one line per warning, absent when there are none;
//   - pinned: the input with every reference pinned to fakeDigest;
//   - unpinned: unpin applied to pinned, present only when an input
//     reference holds a digest or has no tag (otherwise unpin must give
//     the input back byte for byte).
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
	fsys := os.DirFS(dir)
	src, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Fatalf("reading the input: %v", err)
	}
	refs, warns := findAll(t, find, fsys, name, src)
	checkGolden(t, filepath.Join(dir, "refs"), []byte(formatRefs(refs)), false)
	checkGolden(t, filepath.Join(dir, "warnings"), []byte(formatWarnings(warns)), true)

	pinned := pinAll(t, src, refs)
	checkGolden(t, filepath.Join(dir, "pinned"), pinned, false)

	pinnedRefs, _ := findAll(t, find, fsys, name, pinned)
	if len(pinnedRefs) != len(refs) {
		t.Errorf("the pinned file has %d references, the input %d", len(pinnedRefs), len(refs))
	}
	if again := pinAll(t, pinned, pinnedRefs); !bytes.Equal(again, pinned) {
		t.Errorf("pinning the pinned file again changed it (-pinned +again):\n%s", cmp.Diff(string(pinned), string(again)))
	}

	unpinned := unpinAll(t, pinned, pinnedRefs)
	if !unpinRestores(refs) {
		checkGolden(t, filepath.Join(dir, "unpinned"), unpinned, false)
	} else if !bytes.Equal(unpinned, src) {
		t.Errorf("unpinning the pinned file did not give the input back (-input +unpinned):\n%s", cmp.Diff(string(src), string(unpinned)))
	}
}

// findAll runs the finder and checks the invariants every reference keeps.
func findAll(t *testing.T, find Finder, fsys fs.FS, name string, src []byte) ([]Ref, []Warning) {
	t.Helper()
	refs, warns, err := find(Input{FS: fsys, Path: name, Src: src})
	if err != nil {
		t.Fatalf("finding references: %v", err)
	}
	checkRefs(t, name, src, refs)
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
	for _, r := range refs {
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
	for _, r := range refs {
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

func formatRefs(refs []Ref) string {
	var b strings.Builder
	for _, r := range refs {
		fmt.Fprintf(&b, "%d:%d %s", r.Line, r.Col, r.Image)
		if r.Var != "" {
			fmt.Fprintf(&b, " var=%s", r.Var)
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
