package rewrite

import (
	"strings"
	"testing"
)

// Input nested deeper than any real file is skipped with a warning before
// a recursive parser sees it: hcl and hujson would overflow the stack,
// which kills the process.
func TestDeepNestingIsSkipped(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[", 100_000)
	for _, tc := range []struct {
		path, src string
		find      Finder
	}{
		{"docker-bake.hcl", "x = " + deep, FindBake},
		{"docker-bake.json", `{"x": ` + deep, FindBake},
		{"devcontainer.json", `{"image": ` + deep, FindDevcontainer},
	} {
		refs, warns, err := tc.find(Input{Path: tc.path, Src: []byte(tc.src)})
		if err != nil || len(refs) != 0 || len(warns) != 1 || !strings.Contains(warns[0].Msg, "nest deeper") {
			t.Errorf("%s: %v, %v, %v; want one warning", tc.path, refs, warns, err)
		}
	}
	// Nesting as deep as real files go is read.
	src := `{"image": "alpine:3.20", "x": ` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`
	if refs, _, err := FindDevcontainer(Input{Path: "devcontainer.json", Src: []byte(src)}); err != nil || len(refs) != 1 {
		t.Errorf("devcontainer.json nested 100 deep: %v, %v", refs, err)
	}
}
