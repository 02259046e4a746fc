package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/imagelock/imagelock/rewrite"
	"github.com/imagelock/imagelock/workflow"
)

const (
	goldenOld = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	goldenNew = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

var goldenWarnings = []rewrite.Warning{{File: "build/Dockerfile", Line: 2, Msg: "FROM ${BASE}: variable BASE has no default; the image cannot be resolved"}}

// reports are every command's report, full and empty: the empty ones
// hold nil lists, which JSON must show as [].
func reports() map[string]report {
	edit := &workflow.EditResult{Refs: 3, Wrote: true, Warnings: goldenWarnings,
		Changes: []workflow.FileChange{{File: "Dockerfile", Old: []byte("FROM alpine:3.20\n"), New: []byte("FROM alpine:3.20@" + goldenNew + "\n")}}}
	return map[string]report{
		"lock": newLockReport(&workflow.LockResult{Lockfile: "images.lock", Wrote: true, Refs: 4, Images: 3,
			Added: []string{"docker.io/library/alpine:3.20"}, Changed: []string{"docker.io/library/golang:1.26"}, Removed: []string{"docker.io/library/redis:7"},
			Pinned:   []workflow.PinChange{{Image: "docker.io/library/golang:1.26", Old: goldenOld, New: goldenNew, At: "Dockerfile:3"}},
			Warnings: goldenWarnings}),
		"lock-empty": newLockReport(&workflow.LockResult{Lockfile: "images.lock"}),
		"verify":     newVerifyReport(goldenResult(), "images.lock", false),
		// The digests of a mismatch align after the longer label.
		"verify-lockfile": newVerifyReport(goldenResult(), "container-images.lock", false),
		"verify-empty":    newVerifyReport(&workflow.VerifyResult{}, "images.lock", false),
		"pin":             newEditReport("pin", edit, false, false),
		"unpin-empty":     newEditReport("unpin", &workflow.EditResult{}, true, false),
		"update": newUpdateReport(&workflow.UpdateResult{Lockfile: "images.lock", Wrote: true,
			Changes: []workflow.ImageChange{{Image: "docker.io/library/golang:1.26", Old: goldenOld, New: goldenNew,
				PlatformsChanged: []string{"linux/amd64"}, PlatformsAdded: []string{"linux/riscv64"}, Files: []string{"Dockerfile"}}},
			Added: []string{"docker.io/library/alpine:3.20"}, Repinned: []workflow.FileChange{{File: "Dockerfile"}}, Warnings: goldenWarnings}),
		"update-empty": newUpdateReport(&workflow.UpdateResult{Lockfile: "images.lock",
			Changes: []workflow.ImageChange{{Image: "docker.io/library/node:22", Old: goldenOld, New: goldenNew, SameImages: true}}}),
		// Signers where a [[trust]] rule covers an image, one changed; an
		// update min-age held back.
		"update-signed": newUpdateReport(&workflow.UpdateResult{Lockfile: "images.lock", Wrote: true,
			Changes: []workflow.ImageChange{{Image: "ghcr.io/acme/app:1", Old: goldenOld, New: goldenNew, Files: []string{"Dockerfile"},
				Signer: "key:sha256:" + goldenNew[7:], OldSigner: "key:sha256:" + goldenOld[7:]}},
			Held: []workflow.Held{{Image: "ghcr.io/acme/base:2", Locked: goldenOld, New: goldenNew,
				Since: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), Eligible: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC), From: "created"}}}),
		"list": listReport{header: newHeader("list"), Refs: []workflow.Reference{{File: "Dockerfile", Line: 1, Col: 6, Kind: rewrite.Dockerfile,
			Image: "alpine:3.20", Key: "docker.io/library/alpine:3.20"}}, Warnings: warningsJSON(goldenWarnings)},
		"list-empty": listReport{header: newHeader("list"), Refs: list[workflow.Reference](nil), Warnings: warningsJSON(nil)},
		"list-kinds": newKindsReport(),
		"guard": guardReport{header: newHeader("guard"), GuardResult: &workflow.GuardResult{Image: "ghcr.io/acme/app:1",
			Exists: true, Current: goldenOld, Want: goldenNew}},
		"guard-empty": guardReport{header: newHeader("guard"), GuardResult: &workflow.GuardResult{Image: "ghcr.io/acme/app:1", Safe: true}},
	}
}

// TestReportsGolden fixes each command's JSON document and text: run
// 'go test -run TestReportsGolden -update' to rewrite them, then read
// the diff, and docs/json.md when a key changed.
func TestReportsGolden(t *testing.T) {
	t.Parallel()
	for name, r := range reports() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var js, text bytes.Buffer
			if err := writeJSON(&js, r); err != nil {
				t.Fatal(err)
			}
			if err := r.text(&text); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "golden", "json", name+".json"), js.Bytes())
			golden(t, filepath.Join("testdata", "golden", "text", name+".txt"), text.Bytes())
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the golden file (run 'go test -update' to write it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

// TestJSONContract checks what docs/json.md promises of every document:
// schema_version 1 and the command first, snake_case keys, and no null
// anywhere (a list with nothing in it is []).
func TestJSONContract(t *testing.T) {
	t.Parallel()
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	for name, r := range reports() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := writeJSON(&b, r); err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if doc["schema_version"] != float64(1) {
				t.Errorf("schema_version = %v, want 1", doc["schema_version"])
			}
			if c, _ := doc["command"].(string); c == "" {
				t.Errorf("command = %v, want the command's name", doc["command"])
			}
			var walk func(path string, v any)
			walk = func(path string, v any) {
				switch v := v.(type) {
				case nil:
					t.Errorf("%s is null", path)
				case map[string]any:
					for k, x := range v {
						if !snake.MatchString(k) {
							t.Errorf("%s.%s: key is not snake_case", path, k)
						}
						walk(path+"."+k, x)
					}
				case []any:
					for i, x := range v {
						walk(fmt.Sprintf("%s[%d]", path, i), x)
					}
				}
			}
			walk(name, doc)
		})
	}
}
