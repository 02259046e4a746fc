package rewrite

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBuildOutputs(t *testing.T) {
	t.Parallel()
	src := `apiVersion: skaffold/v4beta11
kind: Config
build:
  artifacts:
    - image: frontend
      context: src/frontend
    - image: ghcr.io/acme/worker
profiles:
  - name: gcb
    build:
      artifacts:
        - image: loadgenerator
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: x}
`
	got := BuildOutputs(Input{Path: "skaffold.yaml", Src: []byte(src)})
	if diff := cmp.Diff([]string{"frontend", "ghcr.io/acme/worker", "loadgenerator"}, got); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	for _, s := range []string{"apiVersion: apps/v1\nkind: Deployment\n", "apiVersion: skaffold/v4\nbuild: [", ""} {
		if got := BuildOutputs(Input{Path: "x.yaml", Src: []byte(s)}); got != nil {
			t.Errorf("BuildOutputs(%q) = %v, want none", s, got)
		}
	}
}
