package workflow_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imagelock/imagelock/resolve"
	"github.com/imagelock/imagelock/workflow"
)

func TestUpdateBump(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	for tag, c := range map[string]string{"node:20.11-alpine": "1", "node:20.12-alpine": "2", "node:22.1-alpine": "3", "node:22.1": "4",
		"node:latest": "5", "golang:1.25": "6", "golang:1.26": "7", "golang:1.27rc1": "8", "python:3.12.1-slim": "9",
		"python:3.12.2-slim": "a", "python:3.13.0-slim": "b", "postgres:16.1": "c", "postgres:16.2": "d", "postgres:16.4": "e",
		"memcached:1.6": "f", "memcached:1.7": "0"} {
		f.SetImage(key(tag), digest(t, c))
	}
	f.SetIndex(key("redis:latest"), digest(t, "1"), nil)
	golang := digest(t, "6").String()
	dir := tree(t, map[string]string{
		"Dockerfile": "ARG BASE=node:20.11-alpine\nFROM ${BASE} AS web\nFROM golang:1.25@" + golang + " AS build\n" +
			"FROM python:3.12.1-slim\nFROM redis\n",
		"compose.yaml": "services:\n  db:\n    image: postgres:${PG:-16.1}\n  cache:\n    image: ${MC}\n",
		".env":         "MC=memcached:1.6\n",
		".imagelock.toml": "[[bump]]\nimages = \"python\"\nmax = \"patch\"\n\n" +
			"[[bump]]\nimages = [\"postgres\", \"ghcr.io/acme/app\"]\nignore-tags = [\"16.4*\"]\n",
	})
	o := workflow.Options{Dir: dir, Resolver: f}
	if _, err := workflow.Lock(ctx, o, false); err != nil {
		t.Fatal(err)
	}
	res, err := workflow.Update(ctx, o, workflow.UpdateOptions{Bump: resolve.Major})
	if err != nil {
		t.Fatal(err)
	}
	var moved []string
	for _, b := range res.Bumps {
		moved = append(moved, b.Image+" "+b.Old+" -> "+b.New+" "+b.OldDigest[len(b.OldDigest)-1:]+" -> "+b.NewDigest[len(b.NewDigest)-1:]+" "+strings.Join(b.Files, ","))
	}
	if diff := cmp.Diff([]string{
		"docker.io/library/golang 1.25 -> 1.26 6 -> 7 Dockerfile",
		"docker.io/library/node 20.11-alpine -> 22.1-alpine 1 -> 3 Dockerfile",
		"docker.io/library/postgres 16.1 -> 16.2 c -> d compose.yaml",
		"docker.io/library/python 3.12.1-slim -> 3.12.2-slim 9 -> a Dockerfile",
	}, moved); diff != "" {
		t.Errorf("bumps (-want +got):\n%s", diff)
	}
	var skipped []string
	for _, s := range res.BumpSkipped {
		skipped = append(skipped, s.Image+" "+s.Newer+" "+s.At+": "+s.Reason)
	}
	if diff := cmp.Diff([]string{
		`docker.io/library/postgres:16.1 16.4 .imagelock.toml:5: held back by ignore-tags "16.4*"`,
		`docker.io/library/python:3.12.1-slim 3.13.0-slim .imagelock.toml:1: held back by max = "patch"`,
		"docker.io/library/memcached:1.6 1.7 compose.yaml:5:12: the tag comes from the environment or .env, not compose.yaml: change it where it is set",
	}, skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	wantDockerfile := "ARG BASE=node:22.1-alpine\nFROM ${BASE} AS web\nFROM golang:1.26@" + digest(t, "7").String() + " AS build\n" +
		"FROM python:3.12.2-slim\nFROM redis\n"
	if got := read(t, filepath.Join(dir, "Dockerfile")); got != wantDockerfile {
		t.Errorf("Dockerfile:\n%s\nwant:\n%s", got, wantDockerfile)
	}
	if got, want := read(t, filepath.Join(dir, "compose.yaml")), "services:\n  db:\n    image: postgres:${PG:-16.2}\n  cache:\n    image: ${MC}\n"; got != want {
		t.Errorf("compose.yaml:\n%s\nwant:\n%s", got, want)
	}
	if diff := cmp.Diff([]string{"docker.io/library/golang:1.26", "docker.io/library/node:22.1-alpine", "docker.io/library/postgres:16.2", "docker.io/library/python:3.12.2-slim"}, res.Added); diff != "" {
		t.Errorf("added (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"docker.io/library/golang:1.25", "docker.io/library/node:20.11-alpine", "docker.io/library/postgres:16.1", "docker.io/library/python:3.12.1-slim"}, res.Removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	// One listing per repository, none for a tag that is no version.
	for name, want := range map[string]int{"node": 1, "golang": 1, "python": 1, "postgres": 1, "memcached": 1, "redis": 0} {
		if got := f.TagsCalls("docker.io/library/" + name); got != want {
			t.Errorf("%s: %d tag listings, want %d", name, got, want)
		}
	}
	lk := read(t, filepath.Join(dir, "images.lock"))
	if !strings.Contains(lk, `tag = "22.1-alpine"`) || strings.Contains(lk, `tag = "20.11-alpine"`) {
		t.Errorf("the lock does not record the new tag alone:\n%s", lk)
	}
	if _, err := workflow.Verify(ctx, o, workflow.VerifyOptions{Offline: true}); err != nil {
		t.Fatal(err)
	}

	// Again: nothing newer within the rules, nothing written.
	res, err = workflow.Update(ctx, o, workflow.UpdateOptions{Bump: resolve.Major})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Bumps) != 0 || res.Wrote {
		t.Errorf("second bump moved %v (wrote %v), want nothing", res.Bumps, res.Wrote)
	}
}

// --image limits the bump, and matches by the tag the source had.
func TestUpdateBumpImage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := &resolve.Fake{}
	f.SetImage(key("node:20.11"), digest(t, "1"))
	f.SetImage(key("node:20.12"), digest(t, "2"))
	f.SetImage(key("alpine:3.19"), digest(t, "3"))
	f.SetImage(key("alpine:3.20"), digest(t, "4"))
	dir := tree(t, map[string]string{"Dockerfile": "FROM node:20.11\nFROM alpine:3.19\n"})
	o := workflow.Options{Dir: dir, Resolver: f}
	if _, err := workflow.Lock(ctx, o, false); err != nil {
		t.Fatal(err)
	}
	res, err := workflow.Update(ctx, o, workflow.UpdateOptions{Bump: resolve.Minor, Images: []string{"node:20.11"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Bumps) != 1 || res.Bumps[0].New != "20.12" {
		t.Errorf("bumps = %+v, want node to 20.12 alone", res.Bumps)
	}
	if got := read(t, filepath.Join(dir, "Dockerfile")); got != "FROM node:20.12\nFROM alpine:3.19\n" {
		t.Errorf("Dockerfile:\n%s", got)
	}
	if n := f.TagsCalls("docker.io/library/alpine"); n != 0 {
		t.Errorf("alpine's tags listed %d times, want 0: --image leaves it out", n)
	}
}

func TestBumpConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ config, want string }{
		{"exclude = []\n\n[[bump]]\nimages = \"node\"\nmax = \"huge\"\n", `.imagelock.toml:5: bump: max: "huge" is not a bump level`},
		{"[[bump]]\nmax = \"minor\"\n[[bump]]\nignore-tags = [\"[\"]\n", `.imagelock.toml:4: bump: ignore-tags: invalid glob "["`},
		{"[[bump]]\nimages = 3\n", ".imagelock.toml:2: bump: images: want a name or a list of names"},
		{"[[bump]]\nmaximum = \"minor\"\n", `.imagelock.toml:2:1: unknown key "maximum" in [[bump]]`},
	} {
		dir := tree(t, map[string]string{".imagelock.toml": tc.config})
		_, err := workflow.LoadConfig(dir)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("config %q: %v, want %q", tc.config, err, tc.want)
		}
	}
}
