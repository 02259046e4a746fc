package rewrite

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"gopkg.in/yaml.v3"
)

// addYAMLSeeds adds the golden inputs of every YAML kind (every
// testdata directory but the Dockerfiles') to the corpus.
func addYAMLSeeds(f *testing.F) {
	f.Helper()
	kinds, _ := filepath.Glob(filepath.Join("..", "testdata", "*"))
	for _, kind := range kinds {
		if filepath.Base(kind) == "dockerfile" {
			continue
		}
		paths, _ := filepath.Glob(filepath.Join(kind, "*", "*"))
		for _, p := range paths {
			switch filepath.Base(p) {
			case "refs", "pinned", "unpinned", "warnings", "Chart.yaml", ".env", "templates":
				continue
			}
			if st, err := os.Stat(p); err == nil && st.IsDir() {
				continue // a build's directory
			}
			src, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	f.Add([]byte("a: &a [x, *a]\nb: {<<: *a}\n"))
	f.Add([]byte("\ufeffk: 'v'\u0085w: \"é\"\r\n"))
	f.Add([]byte(aliasBomb(3)))
	f.Add([]byte("apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  steps: [{image: a:1}, &s {name: b, image: b:1}]\n  sidecars: [*s]\nstatus: {steps: [{name: c, image: c:1}]}\n"))
	f.Add([]byte(`{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow","spec":{"templates":[{"container":{"image":"a:1"}},{"script":{"image":"b:1"}}]}}`))
	f.Add([]byte("services:\n  a: {image: a:1}\n  b: {extends: a}\nx-y: 1\n"))
	f.Add([]byte("apiVersion: v2\nannotations:\n  images: |\n    - name: a\n      image: a:1 # c\n    - {name: b, image: 'b:2'}\n  artifacthub.io/images: |2-\n      - image: c:3\n"))
}

// FuzzYAMLScalarSpan checks that every scalar the span engine locates
// holds exactly its value, and that nothing panics.
func FuzzYAMLScalarSpan(f *testing.F) {
	addYAMLSeeds(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		yf, _, err := parseYAML(Input{Path: "f.yaml", Src: src})
		if yf == nil || err != nil {
			return
		}
		seen := map[*yaml.Node]bool{}
		var walk func(n *yaml.Node)
		walk = func(n *yaml.Node) {
			if n == nil || seen[n] {
				return
			}
			seen[n] = true
			if n.Kind == yaml.ScalarNode {
				sp, err := yf.scalar(n)
				if err != nil {
					return
				}
				if got := string(src[sp.Value.Start:sp.Value.End]); got != n.Value {
					t.Fatalf("line %d col %d: span holds %q, value is %q", n.Line, n.Column, got, n.Value)
				}
				if sp.Token.Start > sp.Value.Start || sp.Token.End < sp.Value.End || sp.Token.End-sp.Token.Start > len(n.Value)+2 {
					t.Fatalf("token %v does not wrap value %v", sp.Token, sp.Value)
				}
			}
			for _, c := range n.Content {
				walk(c)
			}
		}
		for _, d := range yf.docs {
			walk(d)
		}
	})
}

// FuzzYAMLPinSplice runs every YAML finder on the input and checks the
// splice invariants: pins only add text, deleting what they added gives
// the original bytes back, pinning again changes nothing, and unpin
// restores the input.
func FuzzYAMLPinSplice(f *testing.F) {
	addYAMLSeeds(f)
	finders := map[string]Finder{}
	for _, k := range Kinds {
		if k.Kind != Dockerfile {
			finders[k.Sample] = k.Find
		}
	}
	// A chart's templates and a helmfile's inline values.
	finders["templates/t.yaml"] = FindKubernetes
	finders["helmfile.yaml"] = FindHelmValues
	// A chart's Chart.yaml, for the images its annotations list.
	finders["chart/Chart.yaml"] = FindHelmValues
	// Kubernetes objects written as JSON.
	finders["manifest.json"] = FindKubernetes
	f.Fuzz(func(t *testing.T, src []byte) {
		if bytes.ContainsAny(src, "@") || bytes.Contains(src, []byte("sha256:")) || bytes.Contains(src, []byte("build")) {
			return
		}
		for name, find := range finders {
			files := fstest.MapFS{name: {Data: src}, "Chart.yaml": {Data: []byte("name: c\n")}}
			checkPinSplice(t, files, name, find)
		}
	})
}

// checkPinSplice runs find on the file name of files and checks the
// splice invariants: pins only add text, deleting what they added gives
// the original bytes back, pinning again changes nothing, and unpin
// restores the input. An input the finder rejects is skipped.
func checkPinSplice(t *testing.T, files fstest.MapFS, name string, find Finder) {
	t.Helper()
	src := files[name].Data
	in := Input{FS: files, Path: name, Src: src}
	refs, _, err := find(in)
	if err != nil {
		return
	}
	checkRefs(t, name, src, refs)
	if pinnedAlready(refs) {
		return
	}
	var edits []Edit
	var added []string
	for _, r := range refs {
		es, err := PinEdits(src, r, fakeDigest(r.Image))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, e := range es {
			old := string(src[e.Span.Start:e.Span.End])
			if !strings.HasPrefix(e.New, old) {
				t.Fatalf("%s: pin rewrites %q as %q instead of adding to it", name, old, e.New)
			}
			added = append(added, e.New[len(old):])
		}
		edits = append(edits, es...)
	}
	pinned, err := Splice(src, edits)
	if err != nil {
		t.Fatalf("%s: splicing pins: %v", name, err)
	}
	back := string(pinned)
	for _, a := range added {
		back = strings.Replace(back, a, "", 1)
	}
	if back != string(src) {
		t.Fatalf("%s: deleting the digests from the pinned file does not give the input:\n%q\n%q", name, src, pinned)
	}
	in.Src = pinned
	again, _, err := find(in)
	if err != nil || len(again) != len(refs) {
		t.Fatalf("%s: pinned file gives %d refs (%v), the input %d", name, len(again), err, len(refs))
	}
	if re := pinAll(t, pinned, again); !bytes.Equal(re, pinned) {
		t.Fatalf("%s: pinning twice changed the file:\n%q\n%q", name, pinned, re)
	}
	if !allTagged(refs) {
		return
	}
	if un := unpinAll(t, pinned, again); !bytes.Equal(un, src) {
		t.Fatalf("%s: unpin did not restore the input:\n%q\n%q", name, src, un)
	}
}

// allTagged reports whether every reference names a tag, which unpin
// keeps; a digest pinned on a bare name has no tag to go back to.
func allTagged(refs []Ref) bool {
	for _, r := range refs {
		if !hasTagBefore(StripDigest(r.Image)) {
			return false
		}
	}
	return true
}

// pinnedAlready reports whether a reference holds a digest, which pin
// replaces rather than adds to: a field written without "@" or "sha256:"
// (a chart's sha: holds the hex alone).
func pinnedAlready(refs []Ref) bool {
	for _, r := range refs {
		if strings.Contains(r.Image, "@") {
			return true
		}
	}
	return false
}

// yamlLineStarts breaks lines where yaml.v3 does, and nowhere else: a
// byte of NEL, LS or PS alone, or é (c3 a9), is no line break.
func TestYAMLLineStarts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		src  string
		want []int
	}{
		{"a\nb", []int{0, 2}},
		{"a\r\nb\rc\n", []int{0, 3, 5, 7}},
		{"\ufeffa\nb", []int{3, 5}},
		{"a\u0085b\u2028c\u2029d", []int{0, 3, 7, 11}},
		{"\xc2\xe2\x80é\n", []int{0, 6}},
		{"a\xe2\x80", []int{0}},
	} {
		if got := yamlLineStarts([]byte(tc.src)); !slices.Equal(got, tc.want) {
			t.Errorf("yamlLineStarts(%q) = %v, want %v", tc.src, got, tc.want)
		}
	}
}
