package rewrite

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestFindCompose(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, dotenv string
		env               map[string]string
		want, warns       []string
	}{
		{
			name: "plain, quoted and commented",
			src:  "services:\n  web:\n    image: nginx:1.25 # front\n  db:\n    image: \"postgres:16\"\n  cache:\n    image: 'redis:7'\n  worker: {image: ghcr.io/acme/worker:2}\n",
			want: []string{"3:12 nginx:1.25", "5:13 postgres:16", "7:13 redis:7", "8:19 ghcr.io/acme/worker:2"},
		},
		{
			name: "defaults are pinned in place",
			src:  "services:\n  a:\n    image: ${IMG:-nginx:1.25}\n  b:\n    image: \"${IMG2-redis:7}\"\n  c:\n    image: ghcr.io/acme/app:${TAG:-1.0}\n  d:\n    image: ${REG:-docker.io}/library/alpine:3.20\n  e:\n    image: localhost:5000/app:v${V:-2}\n  f:\n    image: localhost:5000/${APP:-app:3}\n",
			want: []string{"3:19 nginx:1.25 var=IMG", "5:20 redis:7 var=IMG2", "7:36 ghcr.io/acme/app:1.0 tag var=TAG", "9:12 docker.io/library/alpine:3.20", "11:37 localhost:5000/app:v2 tag var=V", "13:34 localhost:5000/app:3 var=APP"},
		},
		{
			name:   "the environment wins over defaults and .env",
			src:    "services:\n  a:\n    image: ${IMG:-nginx:1.25}\n  b:\n    image: app:${TAG}\n  c:\n    image: ${EMPTY:-busybox:1}\n  d:\n    image: ${EMPTY-busybox:2}x\n",
			env:    map[string]string{"IMG": "caddy:2", "EMPTY": ""},
			dotenv: "IMG=ignored:1\nTAG=3.1 # the release\n",
			want:   []string{"3:12 caddy:2 external var=IMG", "5:12 app:3.1 external var=TAG", "7:21 busybox:1 var=EMPTY", "9:12 x"},
		},
		{
			name:  "unset variable without a default",
			src:   "services:\n  a:\n    image: $REGISTRY/app:1\n  b:\n    image: nginx:1\n",
			want:  []string{"5:12 nginx:1"},
			warns: []string{"compose.yaml:3: image $REGISTRY/app:1 uses REGISTRY, which is not set; set it in the environment or .env, or give it a default (${REGISTRY:-image})"},
		},
		{
			name: "anchors and merge keys",
			src:  "x-base: &base\n  image: redis:7\n  restart: always\nservices:\n  a:\n    <<: *base\n  b:\n    <<: *base\n    image: redis:8\n  c: &svc\n    image: caddy:2\n  d: *svc\n",
			want: []string{"2:10 redis:7", "9:12 redis:8", "11:12 caddy:2"},
		},
		{
			name: "no services",
			src:  "version: '3'\nvolumes: {data: {}}\n",
		},
		{
			name: "escaped dollar and empty image",
			src:  "services:\n  a:\n    image: \"\"\n  b:\n    image:\n  c:\n    command: echo $$HOME\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := fstest.MapFS{"compose.yaml": {Data: []byte(tt.src)}}
			if tt.dotenv != "" {
				files[".env"] = &fstest.MapFile{Data: []byte(tt.dotenv)}
			}
			_, find, _ := FinderFor("compose.yaml")
			refs, warns, err := find(Input{FS: files, Path: "compose.yaml", Src: files["compose.yaml"].Data, Env: mapEnv(tt.env)})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, brief(t, files, refs)); diff != "" {
				t.Errorf("refs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.warns, warnings(warns)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestFindComposeBuild(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{
		"app/Dockerfile":       {Data: []byte("ARG BASE=golang:1.26\nFROM $BASE AS build\nFROM alpine:3.20\n")},
		"app/build.Dockerfile": {Data: []byte("ARG GO=1.26\nFROM golang:${GO}-alpine\n")},
		"deploy/compose.yaml": {Data: []byte(`services:
  plain:
    build: ../app
    image: acme/app:dev
  mapped:
    image: acme/tool:dev
    build:
      context: ../app
      dockerfile: build.Dockerfile
      args:
        GO: "1.25"
  listed:
    build:
      context: ../app
      args:
        - BASE=golang:1.24
        - UNUSED
  remote:
    build: https://github.com/acme/app.git
  inline:
    build:
      dockerfile_inline: "FROM busybox:1"
  db:
    image: postgres:16
`)},
	}
	refs, warns, err := findIn(t, files, "deploy/compose.yaml", Compose)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range refs {
		got = append(got, r.Pos()+" "+r.Image)
	}
	want := []string{
		"app/Dockerfile:1:10 golang:1.26",
		"app/Dockerfile:3:6 alpine:3.20",
		"app/build.Dockerfile:2:6 golang:1.25-alpine",
		"deploy/compose.yaml:16:16 golang:1.24",
		"deploy/compose.yaml:24:12 postgres:16",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
	wantWarns := []string{
		"deploy/compose.yaml:19: service remote builds from remote context https://github.com/acme/app.git, not scanned",
		"deploy/compose.yaml:22: service inline builds from dockerfile_inline, which imagelock does not read",
	}
	if diff := cmp.Diff(wantWarns, warnings(warns)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestFindComposeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, dotenv, want string
	}{
		{"unset required variable", "services:\n  a:\n    image: ${IMG:?set IMG to the image}\n", "", "compose.yaml:3:12: interpolating \"${IMG:?set IMG to the image}\": required variable IMG is missing a value: set IMG to the image"},
		{"empty required variable", "services:\n  a:\n    image: \"app:${TAG?}\"\n", "", ""},
		{"malformed", "services:\n  a:\n    image: [nginx\n", "", "compose.yaml:2: parsing YAML: did not find expected ',' or ']'"},
		{"unknown anchor", "services:\n  a:\n    <<: *base\n", "", "compose.yaml:3: parsing YAML: unknown anchor 'base' referenced"},
		{"document not a mapping", "- nginx:1\n", "", "compose.yaml:1:1: the compose file is not a mapping"},
		{"services not a mapping", "services: [a, b]\n", "", "compose.yaml:1:11: services is not a mapping"},
		{"image not a string", "services:\n  a:\n    image: {name: nginx}\n", "", "compose.yaml:3:12: image of service a is not a string"},
		{"image written as a block of two lines", "services:\n  a:\n    image: |\n      nginx\n      :1\n", "", "compose.yaml:3:12: \"nginx\\n:1\\n\" is written across lines, as a block or with escapes; write it on one line, plain or quoted, so imagelock can edit it"},
		{"malformed .env", "services: {}\n", "A=\"unterminated\n", ".env: parsing .env: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := fstest.MapFS{"compose.yaml": {Data: []byte(tt.src)}}
			if tt.dotenv != "" {
				files[".env"] = &fstest.MapFile{Data: []byte(tt.dotenv)}
			}
			refs, _, err := findIn(t, files, "compose.yaml", Compose)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, %v; want an *Error", refs, err)
			}
			if tt.want != "" && !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %q\nwant   %q", err, tt.want)
			}
		})
	}
}

func TestComposeGolden(t *testing.T) {
	t.Parallel()
	runGolden(t, "../testdata/compose", FindCompose, "compose.yaml")
}

func TestExternalRefsAreNotEdited(t *testing.T) {
	t.Parallel()
	src := []byte("services:\n  a:\n    image: ${IMG}\n")
	files := fstest.MapFS{"compose.yaml": {Data: src}}
	refs, _, err := FindCompose(Input{FS: files, Path: "compose.yaml", Src: src, Env: mapEnv(map[string]string{"IMG": "nginx:1@" + digestA})})
	if err != nil || len(refs) != 1 || refs[0].Style != External {
		t.Fatalf("got %v, %v; want one External reference", refs, err)
	}
	pins, err := PinEdits(src, refs[0], digestA)
	if err != nil || len(pins) != 0 {
		t.Errorf("PinEdits = %v, %v; want none", pins, err)
	}
	unpins, err := UnpinEdits(src, refs[0])
	if err != nil || len(unpins) != 0 {
		t.Errorf("UnpinEdits = %v, %v; want none", unpins, err)
	}
}

// A build of a Dockerfile the tree does not have is one odd line: a
// warning naming it, and the other services are read.
func TestComposeBuildOfAMissingDockerfile(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{"compose.yaml": {Data: []byte("services:\n  a:\n    build: ./missing\n  db:\n    image: postgres:16\n")}}
	refs, warns, err := findIn(t, files, "compose.yaml", Compose)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || refs[0].Image != "postgres:16" {
		t.Errorf("refs = %v, want postgres:16", refs)
	}
	want := []string{"compose.yaml:3: service a builds missing/Dockerfile, which is not in the tree: its images are not locked"}
	if diff := cmp.Diff(want, warnings(warns)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

// A compose file that includes itself (or a diamond of includes) reads
// each file once: not once per path to it, which grows as n^depth.
func TestComposeIncludeIsBounded(t *testing.T) {
	t.Parallel()
	src := "include:\n" + strings.Repeat("  - compose.yaml\n", 10) + "services:\n  db:\n    image: postgres:16\n"
	files := fstest.MapFS{"compose.yaml": {Data: []byte(src)}}
	refs, warns, err := findIn(t, files, "compose.yaml", Compose)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || len(warns) > 1 {
		t.Errorf("refs = %d, warnings = %d; want 1 and at most 1", len(refs), len(warns))
	}
}
