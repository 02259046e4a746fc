package rewrite

import (
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// A service whose image another service of the file builds runs the
// build's output: no registry has it, so it is no reference.
func TestComposeBuildOutputsAreNotReferences(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{
		"compose.yaml": {Data: []byte(`services:
  app:
    build: ./app
    image: acme/app:dev
  worker:
    image: acme/app:dev
  migrate:
    image: ${APP_IMAGE:-acme/app:dev}
  tools:
    build: ./app
    image: acme/tools
  cron:
    image: acme/tools:latest
  other:
    image: acme/app:1.0
  db:
    image: postgres:16.2
`)},
		"app/Dockerfile": {Data: []byte("FROM golang:1.26-alpine\n")},
	}
	refs, warns, err := findIn(t, files, "compose.yaml", Compose)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1:6 golang:1.26-alpine", "15:12 acme/app:1.0", "17:12 postgres:16.2"}
	if diff := cmp.Diff(want, brief(t, files, refs)); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
	if len(warns) != 0 {
		t.Errorf("warnings: %v", warns)
	}
}

// An empty default is a default: ${REGISTRY:-}nginx:1.27 is nginx:1.27,
// and so is nginx:1.27${SUFFIX:-}, pinned in the text before the variable.
func TestComposeEmptyDefault(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{"compose.yaml": {Data: []byte(`services:
  a:
    image: ${REGISTRY:-}nginx:1.27
  b:
    image: "${REGISTRY-}redis:7"
  c:
    image: ${MIRROR:-}${NAME:-caddy:2}
  d:
    image: ghcr.io/acme/app:1.0${SUFFIX:-}
`)}}
	refs, warns, err := findIn(t, files, "compose.yaml", Compose)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"3:12 nginx:1.27", "5:13 redis:7", "7:31 caddy:2 var=NAME", "9:12 ghcr.io/acme/app:1.0"}
	if diff := cmp.Diff(want, brief(t, files, refs)); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
	if len(warns) != 0 {
		t.Errorf("warnings: %v", warns)
	}
	src := files["compose.yaml"].Data
	pinned := pinAll(t, src, refs)
	again, _, err := findIn(t, fstest.MapFS{"compose.yaml": {Data: pinned}}, "compose.yaml", Compose)
	if err != nil {
		t.Fatal(err)
	}
	if got := unpinAll(t, pinned, again); string(got) != string(src) {
		t.Errorf("pin then unpin gave\n%s\nwant\n%s", got, src)
	}
}
