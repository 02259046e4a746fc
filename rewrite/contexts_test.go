package rewrite

import (
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// briefContexts is brief with the references that name a context marked.
func briefContexts(t *testing.T, files fstest.MapFS, refs []Ref) []string {
	t.Helper()
	out := brief(t, files, refs)
	for i, r := range refs {
		if r.Context {
			out[i] += " context"
		}
	}
	return out
}

// The names compose gives a build as additional_contexts are contexts
// wherever the Dockerfile reads an image: FROM, COPY --from, RUN --mount.
func TestComposeAdditionalContexts(t *testing.T) {
	t.Parallel()
	dockerfile := "FROM base\nCOPY --from=src /a /b\nRUN --mount=from=cache,target=/c true\nCOPY --from=alpine:3.20 /x /y\n"
	for _, tc := range []struct{ name, contexts string }{
		{"mapping", "      additional_contexts:\n        base: docker-image://alpine:3.20\n        src: ../src\n        cache: service:cache\n"},
		{"list", "      additional_contexts:\n        - base=docker-image://alpine:3.20\n        - src=../src\n        - cache=service:cache\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files := fstest.MapFS{
				"compose.yaml":   {Data: []byte("services:\n  app:\n    build:\n      context: app\n" + tc.contexts)},
				"app/Dockerfile": {Data: []byte(dockerfile)},
			}
			refs, _, err := findIn(t, files, "compose.yaml", Compose)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"6:30 alpine:3.20", "1:6 base context", "2:13 src context", "3:18 cache context", "4:13 alpine:3.20"}
			if tc.name == "list" {
				want[0] = "6:31 alpine:3.20"
			}
			if diff := cmp.Diff(want, briefContexts(t, files, refs)); diff != "" {
				t.Errorf("refs (-want +got):\n%s", diff)
			}
		})
	}
}

// A Dockerfile read on its own: a bare COPY --from or RUN --mount from=
// name that is no stage is an image, unless a bake file beside it gives
// the name as a context.
func TestDockerfileBakeContexts(t *testing.T) {
	t.Parallel()
	dockerfile := "FROM alpine:3.20\nCOPY --from=src /a /b\nRUN --mount=from=cache,target=/c true\nCOPY --from=other /x /y\n"
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		want  []string
	}{
		{"no bake file", fstest.MapFS{}, []string{"1:6 alpine:3.20", "2:13 src", "3:18 cache", "4:13 other"}},
		{"HCL", fstest.MapFS{"app/docker-bake.hcl": {Data: []byte(`target "app" {
  dockerfile = "Dockerfile"
  contexts = {
    src = "../src"
    "cache" = "target:cache" # built first
  }
}
`)}}, []string{"1:6 alpine:3.20", "4:13 other"}},
		{"JSON", fstest.MapFS{"app/docker-bake.json": {Data: []byte(`{"target": {"app": {"contexts": {"src": "../src"}}, "b": {"contexts": {"cache": "target:c"}}}}`)}},
			[]string{"1:6 alpine:3.20", "4:13 other"}},
		{"bake file elsewhere", fstest.MapFS{"docker-bake.hcl": {Data: []byte("target \"app\" {\n  contexts = { src = \"../src\" }\n}\n")}},
			[]string{"1:6 alpine:3.20", "2:13 src", "3:18 cache", "4:13 other"}},
		{"bake file above that names the Dockerfile", fstest.MapFS{"docker-bake.hcl": {Data: []byte(`target "t" {
  matrix     = { d = [{ f = "app/Dockerfile" }] }
  dockerfile = d.f
  contexts   = { src = "./src" }
}
`)}}, []string{"1:6 alpine:3.20", "3:18 cache", "4:13 other"}},
		{"HCL with variables, functions and a contexts map that is not in a target", fstest.MapFS{"app/docker-bake.hcl": {Data: []byte(`variable "TAG" { default = "dev" }
group "default" { targets = ["app"] }
target "app" {
  tags     = ["acme/app:${TAG}", lower("ACME/APP:LATEST")]
  contexts = { src = "../src" }
}
contexts = { other = "x" }
`)}}, []string{"1:6 alpine:3.20", "3:18 cache", "4:13 other"}},
		{"HCL that does not parse names none", fstest.MapFS{"app/docker-bake.hcl": {Data: []byte("target \"app\" {\n  contexts = { src = \"../src\"\n")}},
			[]string{"1:6 alpine:3.20", "2:13 src", "3:18 cache", "4:13 other"}},
		{"HCL on one line", fstest.MapFS{"app/docker-bake.override.hcl": {Data: []byte("target \"app\" {\n  contexts = { src = \"../src\", cache = \"../c\" }\n}\n")}},
			[]string{"1:6 alpine:3.20", "4:13 other"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.files["app/Dockerfile"] = &fstest.MapFile{Data: []byte(dockerfile)}
			refs, _, err := FindDockerfile(Input{FS: tc.files, Path: "app/Dockerfile", Src: []byte(dockerfile)})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, briefContexts(t, tc.files, refs)); diff != "" {
				t.Errorf("refs (-want +got):\n%s", diff)
			}
		})
	}
}
