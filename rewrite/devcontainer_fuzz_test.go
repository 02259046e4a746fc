package rewrite

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

// addSeeds adds the inputs of the golden cases under testdata/kind, and
// extra, to the corpus.
func addSeeds(f *testing.F, kind, input string, extra ...string) {
	f.Helper()
	paths, _ := filepath.Glob(filepath.Join("..", "testdata", kind, "*", input))
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
}

// FuzzDevcontainer checks the splice invariants on devcontainer.json, with
// a Dockerfile and a compose file beside it for build and
// dockerComposeFile to name.
func FuzzDevcontainer(f *testing.F) {
	addSeeds(f, "devcontainer", "devcontainer.json",
		`{"image":"a:1","build":{"dockerfile":"Dockerfile","args":{"B":"b:2"}},"dockerComposeFile":"c.yml"}`,
		"{/**/\"features\":{\"x/y:1\":{},},}\r\n")
	f.Fuzz(func(t *testing.T, src []byte) {
		if bytes.ContainsAny(src, "@") {
			return // pin replaces a digest already there
		}
		files := fstest.MapFS{
			"devcontainer.json": {Data: src},
			"Dockerfile":        {Data: []byte("ARG B=b:1\nFROM ${B}\n")},
			"c.yml":             {Data: []byte("services:\n  s:\n    image: c:1\n")},
		}
		checkPinSplice(t, files, "devcontainer.json", onlyFile("devcontainer.json", FindDevcontainer))
	})
}

// onlyFile returns find with the references in files other than name
// left out, for checks that edit name alone.
func onlyFile(name string, find Finder) Finder {
	return func(in Input) ([]Ref, []Warning, error) {
		refs, warns, err := find(in)
		var own []Ref
		for _, r := range refs {
			if r.File == name {
				own = append(own, r)
			}
		}
		return own, warns, err
	}
}
