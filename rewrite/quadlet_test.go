package rewrite

import (
	"bytes"
	"testing"
	"testing/fstest"
)

// The cases' inputs are named "unit": the finder reads .container,
// .image and .volume units alike, and the section decides.
func TestQuadletGolden(t *testing.T) {
	t.Parallel()
	runGolden(t, "../testdata/quadlet", FindQuadlet, "unit")
}

func FuzzQuadlet(f *testing.F) {
	addSeeds(f, "quadlet", "unit",
		"[Container]\nImage=a:1\\\n\\\n", "[Volume]\r\n Image = 'b:2' \r\n;x\\\nImage=c:3\n", "[Image]\nImage=\"\"\n")
	f.Fuzz(func(t *testing.T, src []byte) {
		if bytes.ContainsAny(src, "@") {
			return // pin replaces a digest already there
		}
		checkPinSplice(t, fstest.MapFS{"web.container": {Data: src}}, "web.container", FindQuadlet)
	})
}
