package rewrite

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestRetagEdits moves each kind's tag where it is written, unpinned and
// pinned, and says why where it cannot.
func TestRetagEdits(t *testing.T) {
	t.Parallel()
	const newDigest = "sha256:" + "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12"
	for _, tc := range []struct {
		name, path, src string
		from, to        string
		pin             bool   // write newDigest too
		want            string // the file after the edits
		err             string // the reason the tag cannot be edited, instead
	}{
		{name: "FROM", path: "Dockerfile", src: "FROM node:20.11-alpine AS build\n",
			from: "20.11-alpine", to: "20.12-alpine", want: "FROM node:20.12-alpine AS build\n"},
		{name: "FROM pinned", path: "Dockerfile", src: "FROM node:20.11@" + digestA + "\n",
			from: "20.11", to: "22.1", pin: true, want: "FROM node:22.1@" + newDigest + "\n"},
		{name: "ARG default", path: "Dockerfile", src: "ARG BASE=golang:1.25-alpine\nFROM ${BASE}\n",
			from: "1.25-alpine", to: "1.26-alpine", want: "ARG BASE=golang:1.26-alpine\nFROM ${BASE}\n"},
		{name: "tag through a variable", path: "Dockerfile", src: "ARG GO=1.25\nFROM golang:${GO}-alpine\nFROM golang:${GO}\n",
			from: "1.25-alpine", to: "1.26-alpine", err: "written through a variable (golang:${GO}-alpine)"},
		{name: "compose image", path: "compose.yaml", src: "services:\n  db:\n    image: \"postgres:16.1\" # main\n",
			from: "16.1", to: "16.4", want: "services:\n  db:\n    image: \"postgres:16.4\" # main\n"},
		{name: "compose tag default", path: "compose.yaml", src: "services:\n  db:\n    image: postgres:${PG:-16.1}\n",
			from: "16.1", to: "16.4", want: "services:\n  db:\n    image: postgres:${PG:-16.4}\n"},
		{name: "compose image default", path: "compose.yaml", src: "services:\n  db:\n    image: ${DB:-mysql:8.0}\n",
			from: "8.0", to: "8.4", want: "services:\n  db:\n    image: ${DB:-mysql:8.4}\n"},
		{name: "kubernetes", path: "deploy.yaml", src: "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: ghcr.io/acme/app:v1.2.3\r\n",
			from: "v1.2.3", to: "v1.3.0", want: "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: ghcr.io/acme/app:v1.3.0\r\n"},
		{name: "kustomize newTag pinned", path: "kustomization.yaml", src: "images:\n- name: nginx\n  newTag: \"1.25.3\"\n",
			from: "1.25.3", to: "1.27.1", pin: true, want: "images:\n- name: nginx\n  newTag: \"1.27.1\"\n  digest: " + newDigest + "\n"},
		// A plain 1.40 would reach the template as the number 1.4.
		{name: "helm plain number is quoted", path: "chart/values.yaml", src: "image:\n  repository: busybox\n  tag: 1.36\n",
			from: "1.36", to: "1.40", want: "image:\n  repository: busybox\n  tag: \"1.40\"\n"},
		{name: "helm quoted stays quoted", path: "chart/values.yaml", src: "image:\n  repository: busybox\n  tag: '1.36'\n",
			from: "1.36", to: "1.40", want: "image:\n  repository: busybox\n  tag: '1.40'\n"},
		{name: "helm text tag", path: "chart/values.yaml", src: "image:\n  repository: busybox\n  tag: 1.36.1-musl\n",
			from: "1.36.1-musl", to: "1.37.0-musl", want: "image:\n  repository: busybox\n  tag: 1.37.0-musl\n"},
		{name: "helm appVersion", path: "chart/values.yaml", src: "image:\n  repository: busybox\n  tag: \"\"\n",
			from: "3.1", to: "3.2", err: "the tag is not written in chart/values.yaml"},
		{name: "compose from the environment", path: "compose.yaml", src: "services:\n  db:\n    image: ${APP}\n",
			from: "8.0", to: "8.4", err: "the tag comes from the environment or .env, not compose.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fsys := fstest.MapFS{
				tc.path:                       {Data: []byte(tc.src)},
				"chart/Chart.yaml":            {Data: []byte("apiVersion: v2\nname: c\nversion: 1.0.0\nappVersion: \"3.1\"\n")},
				"chart/templates/deploy.yaml": {Data: []byte("image: {{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}\n")},
				".env":                        {Data: []byte("APP=mysql:8.0\n")},
			}
			_, find, ok := FinderFor(tc.path)
			if !ok {
				t.Fatalf("no finder for %s", tc.path)
			}
			refs, _, err := find(Input{FS: fsys, Path: tc.path, Src: []byte(tc.src)})
			if err != nil || len(refs) == 0 {
				t.Fatalf("finding references: %v, %d found", err, len(refs))
			}
			r := refs[0]
			digest := ""
			if tc.pin {
				digest = newDigest
			}
			es, err := RetagEdits([]byte(tc.src), r, tc.from, tc.to, digest)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("RetagEdits: %v, want an error with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := Splice([]byte(tc.src), es)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("after the edits:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}
