package rewrite

import "testing"

func TestDockerfileGolden(t *testing.T) {
	t.Parallel()
	runGolden(t, "../testdata/dockerfile", FindDockerfile, "Dockerfile")
}
