package rewrite

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// FuzzFindDockerfile checks the finder's invariants on any input: no
// panic; every span in bounds and holding Written; pinning every
// reference changes no byte outside the spans; and where the input holds
// no digest, unpinning the pinned file gives the input back.
func FuzzFindDockerfile(f *testing.F) {
	paths, err := filepath.Glob("../testdata/dockerfile/*/Dockerfile")
	if err != nil || len(paths) == 0 {
		f.Fatalf("no golden inputs to seed from: %v", err)
	}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	for _, s := range []string{
		"ARG A=\"x:1\" B=${A}\nFROM $B\nFROM ${A:-y:2}\n",
		"FROM a:1 \\\n  AS b\nCOPY --from=\"c:1\" / /\nRUN --mount=\"type=bind,from=d:1\" x\n",
		"# escape=`\nFROM `\n e:1\n",
		"FROM f:1\r\nRUN <<EOF\r\nFROM g:1\r\nEOF\r\n",
		"\ufeff# syntax=h:1\nFROM i:1\\",
		"ARG J='j:1' K=\"k:2\"\\\n L=l:3\nFROM $J\nFROM \"$K\"\nFROM ${L}\n",
		"FROM m:1 AS \\\n n\nRUN --mount=type=bind,\\\n  from=o:1 true\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		refs, ws, err := FindDockerfile(Input{Path: "Dockerfile", Src: src})
		for _, w := range ws {
			if strings.Contains(w.Msg, "cannot locate the text") {
				t.Fatalf("%q: %s", src, w)
			}
		}
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) || fe.File != "Dockerfile" {
				t.Fatalf("error %v is not an *Error naming the file", err)
			}
			return
		}
		checkRefs(t, "Dockerfile", src, refs)
		var edits []Edit
		for _, r := range refs {
			es, err := PinEdits(src, r, fakeDigest(r.Image))
			if err != nil {
				t.Fatal(err)
			}
			edits = append(edits, es...)
		}
		pinned, err := Splice(src, edits)
		if err != nil {
			t.Fatalf("splicing the pins: %v", err)
		}
		checkOutside(t, src, pinned, edits)
		if !unpinRestores(refs) {
			return
		}
		for _, r := range refs {
			if strings.Contains(r.Written, "@") {
				return
			}
		}
		pinnedRefs, _, err := FindDockerfile(Input{Path: "Dockerfile", Src: pinned})
		if err != nil {
			t.Fatalf("finding in the pinned file: %v\n%q", err, pinned)
		}
		if len(pinnedRefs) != len(refs) {
			t.Fatalf("the pinned file has %d references, the input %d\n%q", len(pinnedRefs), len(refs), pinned)
		}
		var unpins []Edit
		for _, r := range pinnedRefs {
			es, err := UnpinEdits(pinned, r)
			if err != nil {
				t.Fatal(err)
			}
			unpins = append(unpins, es...)
		}
		unpinned, err := Splice(pinned, unpins)
		if err != nil {
			t.Fatalf("splicing the unpins: %v", err)
		}
		if !bytes.Equal(unpinned, src) {
			t.Fatalf("unpin(pin(src)) differs from src\nsrc:      %q\npinned:   %q\nunpinned: %q", src, pinned, unpinned)
		}
	})
}

// checkOutside checks that out is src with the edits' spans replaced and
// every other byte as it was. The edits must not overlap, except for
// identical edits, which apply once.
func checkOutside(t *testing.T, src, out []byte, edits []Edit) {
	t.Helper()
	es := append([]Edit(nil), edits...)
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Span.Start != es[j].Span.Start {
			return es[i].Span.Start < es[j].Span.Start
		}
		return es[i].Span.End < es[j].Span.End
	})
	at, last := 0, 0
	for i, e := range es {
		if i > 0 && e == es[i-1] {
			continue
		}
		keep := src[last:e.Span.Start]
		if !bytes.HasPrefix(out[at:], keep) {
			t.Fatalf("bytes %d-%d changed outside the edited spans", last, e.Span.Start)
		}
		at += len(keep)
		if !strings.HasPrefix(string(out[at:]), e.New) {
			t.Fatalf("edit at %d-%d not written", e.Span.Start, e.Span.End)
		}
		at += len(e.New)
		last = e.Span.End
	}
	if !bytes.Equal(out[at:], src[last:]) {
		t.Fatalf("bytes after %d changed", last)
	}
}
