package rewrite

import "testing"

func TestDevcontainerGolden(t *testing.T) {
	t.Parallel()
	runGolden(t, "../testdata/devcontainer", FindDevcontainer, "devcontainer.json")
}
