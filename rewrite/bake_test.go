package rewrite

import (
	"bytes"
	"testing"
	"testing/fstest"
)

func TestBakeGolden(t *testing.T) {
	t.Parallel()
	runGolden(t, "../testdata/bake", FindBake, "docker-bake.hcl")
}

// FuzzBake checks the splice invariants on bake files, each input read
// as HCL and as JSON, with a Dockerfile beside it for targets to build.
func FuzzBake(f *testing.F) {
	addSeeds(f, "bake-json", "docker-bake.json")
	addSeeds(f, "bake", "docker-bake.hcl",
		"variable \"V\" { default = \"a:1\" }\ntarget \"t\" {\n  args = { B = V, C = \"${V}\" }\n  contexts = { c = \"docker-image://${V}\" }\n}\n",
		"target \"a\" { inherits = [\"b\"] }\ntarget \"b\" { inherits = [\"a\"] }\n",
		"target \"m\" {\n  matrix = { v = [\"1\", \"2\"] }\n  args = { B = \"b:${v}\", C = upper(\"c\") }\n}\n")
	f.Fuzz(func(t *testing.T, src []byte) {
		if bytes.ContainsAny(src, "@") {
			return // pin replaces a digest already there
		}
		for _, name := range []string{"docker-bake.hcl", "docker-bake.json"} {
			files := fstest.MapFS{
				name:         {Data: src},
				"Dockerfile": {Data: []byte("ARG B=b:1\nARG C=c:1\nFROM ${B}\nFROM ${C}\nFROM c\n")},
			}
			checkPinSplice(t, files, name, onlyFile(name, FindBake))
		}
	})
}

func TestBakeJSONGolden(t *testing.T) {
	t.Parallel()
	runGolden(t, "../testdata/bake-json", FindBake, "docker-bake.json")
}
