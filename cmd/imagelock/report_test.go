package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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
			Added: []string{"docker.io/library/alpine:3.20"}, Repinned: []workflow.FileChange{{File: "Dockerfile"}}, Warnings: goldenWarnings,
			Bumps: []workflow.TagBump{{Image: "docker.io/library/node", Old: "20.11-alpine", New: "20.12-alpine", OldDigest: goldenOld, NewDigest: goldenNew,
				Platforms: []string{"linux/amd64", "linux/arm64/v8"}, Files: []string{"Dockerfile"}}},
			BumpSkipped: []workflow.BumpSkip{{Image: "docker.io/library/node:20.11-alpine", Newer: "22.1-alpine", At: ".imagelock.toml:3", Reason: `held back by max = "minor"`}}}),
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
		"audit": newAuditReport(&workflow.AuditResult{Pods: 3, Containers: 5, Matched: 2, Findings: []workflow.Finding{
			{Severity: workflow.Failure, Code: workflow.CodeDrift, File: "images.lock", Line: 9, Image: "ghcr.io/acme/app:0.0.1", Written: "ghcr.io/acme/app:0.0.1",
				Msg: "runs a digest images.lock does not record for it", Locked: goldenOld, Current: goldenNew, CurrentFrom: "cluster",
				Fix:       "pin the image ('imagelock pin') and roll the pods out again; or, if what runs is right, run 'imagelock update --image ghcr.io/acme/app'",
				Namespace: "prod", Pod: "web-5f7c9-fghij", Container: "app"},
			{Severity: workflow.Notice, Code: workflow.CodeUnlocked, File: "images.lock", Image: "docker.io/library/busybox:latest", Written: "busybox",
				Msg: "not in images.lock", Current: goldenNew, CurrentFrom: "cluster",
				Fix:       "run 'imagelock lock' where the manifests that deploy it live, or add it to ignore in .imagelock.toml",
				Namespace: "prod", Pod: "web-5f7c9-fghij", Container: "debug"},
		}}, "images.lock", false),
		"stale": staleReport{header: newHeader("stale"), StaleResult: &workflow.StaleResult{Images: []workflow.StaleImage{
			{Image: "ghcr.io/acme/app:1.0", Base: "docker.io/library/node:16.13", BaseFrom: "annotation", Platforms: []workflow.StalePlatform{
				{Platform: "linux/amd64", Status: workflow.StaleBehind, Digest: goldenOld, BuiltOn: goldenOld, Locked: goldenNew,
					Msg: "built on another digest of docker.io/library/node:16.13: its first layers are not the locked base's",
					Fix: "rebuild ghcr.io/acme/app:1.0 (if the lock is older than the build, run 'imagelock update --image node' first)"},
				{Platform: "linux/arm64/v8", Status: workflow.StaleCurrent, Digest: goldenNew, Locked: goldenNew, Msg: "built on the locked docker.io/library/node:16.13"},
			}},
			{Image: "ghcr.io/acme/tool:2", Platforms: []workflow.StalePlatform{
				{Platform: "linux/amd64", Status: workflow.StaleUnknown, Digest: goldenOld,
					Msg: "no base annotation (org.opencontainers.image.base.name): name the Dockerfile it was built from with --dockerfile"},
			}},
		}}},
		"stale-empty": staleReport{header: newHeader("stale"), OK: true, StaleResult: &workflow.StaleResult{Images: []workflow.StaleImage{
			{Image: "ghcr.io/acme/app:1.0", Platforms: []workflow.StalePlatform{}}}}},
		"audit-empty": newAuditReport(&workflow.AuditResult{}, "images.lock", true),
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

// TestListStreamJSON checks that list's document, written a reference at
// a time, is byte for byte what the encoder writes whole.
func TestListStreamJSON(t *testing.T) {
	t.Parallel()
	refs := []workflow.Reference{
		{File: "Dockerfile", Line: 1, Col: 6, Kind: rewrite.Dockerfile, Image: "alpine:3.20", Key: "docker.io/library/alpine:3.20"},
		{File: "deploy/<app>&é.yaml", Line: 12, Col: 18, Kind: rewrite.Kubernetes, Image: "ghcr.io/o/app:1@" + goldenOld,
			Key: "ghcr.io/o/app:1", Digest: goldenOld},
		{File: "compose.yaml", Line: 3, Col: 12, Kind: rewrite.Compose, Image: "${IMG:-redis:7}", Key: "docker.io/library/redis:7", Var: "IMG"},
	}
	for name, r := range map[string]listReport{
		"three":               {header: newHeader("list"), Refs: refs, Warnings: warningsJSON(append(goldenWarnings, rewrite.Warning{File: "x", Msg: "y"}))},
		"one":                 {header: newHeader("list"), Refs: refs[:1], Warnings: warningsJSON(nil)},
		"empty":               {header: newHeader("list"), Refs: list[workflow.Reference](nil), Warnings: warningsJSON(nil)},
		"many (past a flush)": {header: newHeader("list"), Refs: slices.Repeat(refs, 400), Warnings: warningsJSON(nil)},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var whole, streamed bytes.Buffer
			enc := json.NewEncoder(&whole)
			enc.SetIndent("", "  ")
			if err := enc.Encode(r); err != nil {
				t.Fatal(err)
			}
			if err := r.streamJSON(&streamed); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(whole.String(), streamed.String()); diff != "" {
				t.Errorf("streamed document (-encoder +streamed):\n%s", diff)
			}
		})
	}
}
