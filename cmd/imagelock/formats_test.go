package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imagelock/imagelock/rewrite"
	"github.com/imagelock/imagelock/workflow"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenResult has one finding of every kind verify reports, a warning,
// and text that needs escaping in workflow commands.
func goldenResult() *workflow.VerifyResult {
	const (
		d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
		d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	)
	return &workflow.VerifyResult{
		Refs: 8, Images: 6, Online: true,
		Warnings: []rewrite.Warning{{File: "build/Dockerfile", Line: 2, Msg: "FROM ${BASE}: variable BASE has no default; the image cannot be resolved"}},
		Findings: []workflow.Finding{
			{Severity: workflow.Failure, Code: workflow.CodeMoved, File: "Dockerfile", Line: 3, Col: 6, Image: "docker.io/library/alpine:3.20",
				Written: "alpine:3.20", Msg: "tag moved", Locked: d1, Current: d2, CurrentFrom: "registry",
				Fix: "run 'imagelock update --image alpine' to accept it"},
			{Severity: workflow.Failure, Code: workflow.CodeNotLocked, File: "deploy/a,b:c.yaml", Line: 12, Col: 14, Image: "ghcr.io/acme/app:1",
				Msg: "not in images.lock", Fix: "run 'imagelock lock' to add it"},
			{Severity: workflow.Failure, Code: workflow.CodePinMismatch, File: "k8s/app.yaml", Line: 20, Col: 16, Image: "docker.io/library/redis:7",
				Msg: "pinned digest differs from images.lock", Locked: d1, Current: d2, CurrentFrom: "source",
				Fix: "run 'imagelock pin' to write the locked digest, or 'imagelock lock' if the source is right"},
			{Severity: workflow.Notice, Code: workflow.CodeUpdate, File: "compose.yaml", Line: 4, Col: 12, Image: "docker.io/library/postgres:17",
				Msg: "tag moved; every source pins the locked digest, so builds do not change", Locked: d1, Current: d2, CurrentFrom: "registry",
				Fix: "run 'imagelock update --image postgres' to take the update (100% safe)"},
			{Severity: workflow.Notice, Code: workflow.CodeRepublished, File: "compose.yaml", Line: 9, Col: 12, Image: "docker.io/library/node:22",
				Msg: "tag moved to an index re-published with the locked platform manifests, so builds do not change", Locked: d1, Current: d2, CurrentFrom: "registry",
				Fix: "run 'imagelock update --image node' to record the new index"},
			{Severity: workflow.Failure, Code: workflow.CodeUnused, File: "images.lock", Line: 30, Image: "docker.io/library/nginx:1",
				Msg: "no source uses it", Fix: "run 'imagelock lock' to drop it"},
			{Severity: workflow.Failure, Code: workflow.CodeVanished, File: "ci/.gitlab-ci.yml", Image: "quay.io/x/y:2",
				Msg: "tag no longer in the registry", Fix: "change the tag in the sources, then run 'imagelock lock'"},
			{Severity: workflow.Failure, Code: workflow.CodePlatformGone, File: "Dockerfile", Line: 7, Col: 6, Image: "docker.io/library/golang:1.26",
				Written: "golang:1.26@" + d1, Msg: "locked platform linux/arm64/v8 is no longer in the registry: builds pinned to the locked digest fail on it", Locked: d2,
				Fix: "run 'imagelock update --image golang' to lock and pin what the tag points at now"},
		},
	}
}

func TestFormatsGolden(t *testing.T) {
	t.Parallel()
	same := func(f string) string { return f }
	for _, tc := range []struct {
		name   string
		golden string
		write  func(*bytes.Buffer) error
	}{
		{name: "github", golden: "verify.github.txt", write: func(b *bytes.Buffer) error {
			printGitHub(b, verifyChecked(goldenResult(), false), "images.lock", false, same)
			return nil
		}},
		{name: "github strict in a subdirectory", golden: "verify.github-strict.txt", write: func(b *bytes.Buffer) error {
			printGitHub(b, verifyChecked(goldenResult(), true), "images.lock", true, func(f string) string { return "sub/" + f })
			return nil
		}},
		{name: "sarif", golden: "verify.sarif.json", write: func(b *bytes.Buffer) error {
			return writeSARIF(b, verifyChecked(goldenResult(), false), "images.lock", false, same)
		}},
		{name: "sarif strict", golden: "verify.sarif-strict.json", write: func(b *bytes.Buffer) error {
			return writeSARIF(b, verifyChecked(goldenResult(), true), "images.lock", true, same)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := tc.write(&b); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", tc.golden)
			if *updateGolden {
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("reading the golden file (run 'go test -run TestFormatsGolden -update' to write it): %v", err)
			}
			if diff := cmp.Diff(string(want), b.String()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", path, diff)
			}
		})
	}
}

func TestGitHubEscaping(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, data, property string
	}{
		{name: "plain", in: "Dockerfile", data: "Dockerfile", property: "Dockerfile"},
		{name: "percent first", in: "100%0A", data: "100%250A", property: "100%250A"},
		{name: "line breaks", in: "a\r\nb", data: "a%0D%0Ab", property: "a%0D%0Ab"},
		{name: "separators", in: "a:b,c", data: "a:b,c", property: "a%3Ab%2Cc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := ghData(tc.in); got != tc.data {
				t.Errorf("ghData(%q) = %q, want %q", tc.in, got, tc.data)
			}
			if got := ghProperty(tc.in); got != tc.property {
				t.Errorf("ghProperty(%q) = %q, want %q", tc.in, got, tc.property)
			}
		})
	}
}

// TestSARIFRequired checks what the SARIF 2.1.0 schema requires
// (sarif-schema-2.1.0.json: "required" of sarifLog, run, tool,
// toolComponent, reportingDescriptor, result, message, location's
// physicalLocation, region) and what GitHub code scanning needs on top:
// a ruleId matching a rule, a level, and a location with a uri.
func TestSARIFRequired(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	res := goldenResult()
	if err := writeSARIF(&b, verifyChecked(res, false), "images.lock", false, func(f string) string { return f }); err != nil {
		t.Fatal(err)
	}
	var log map[string]any
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatalf("the SARIF log is not JSON: %v", err)
	}
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, strings.TrimSpace(fmt.Sprintf(format, args...))) }
	if log["version"] != "2.1.0" {
		fail("sarifLog.version = %v, want 2.1.0", log["version"])
	}
	if s, _ := log["$schema"].(string); !strings.Contains(s, "sarif-2.1.0") {
		fail("sarifLog.$schema = %q, want the 2.1.0 schema", s)
	}
	runs, _ := log["runs"].([]any)
	if len(runs) != 1 {
		t.Fatalf("sarifLog.runs has %d runs, want 1", len(runs))
	}
	run := obj(runs[0])
	driver := obj(obj(run["tool"])["driver"])
	if driver["name"] != "imagelock" {
		fail("run.tool.driver.name = %v, want imagelock", driver["name"])
	}
	if u, _ := driver["informationUri"].(string); !strings.HasPrefix(u, "https://") {
		fail("run.tool.driver.informationUri = %q, want a URL", u)
	}
	rules, _ := driver["rules"].([]any)
	ids := map[string]int{}
	for i, r := range rules {
		id, _ := obj(r)["id"].(string)
		if id == "" {
			fail("rules[%d].id is missing", i)
		}
		if _, dup := ids[id]; dup {
			fail("rules[%d].id %q is not unique", i, id)
		}
		ids[id] = i
	}
	// One result per finding, then one per warning of the scan.
	type place struct {
		file      string
		line, col int
	}
	var want []place
	for _, f := range res.Findings {
		want = append(want, place{f.File, max(f.Line, 1), f.Col})
	}
	for _, w := range res.Warnings {
		want = append(want, place{w.File, max(w.Line, 1), 0})
	}
	results, _ := run["results"].([]any)
	if len(results) != len(want) {
		fail("run.results has %d results, want one per finding and warning (%d)", len(results), len(want))
		results = results[:min(len(results), len(want))]
	}
	for i, x := range results {
		r := obj(x)
		id, _ := r["ruleId"].(string)
		idx, ok := ids[id]
		if !ok {
			fail("results[%d].ruleId %q names no rule", i, id)
		}
		if ri, _ := r["ruleIndex"].(float64); int(ri) != idx {
			fail("results[%d].ruleIndex = %v, want %d", i, r["ruleIndex"], idx)
		}
		if lv := r["level"]; lv != "error" && lv != "warning" {
			fail("results[%d].level = %v, want error or warning", i, lv)
		}
		if text, _ := obj(r["message"])["text"].(string); text == "" {
			fail("results[%d].message.text is missing", i)
		}
		locs, _ := r["locations"].([]any)
		if len(locs) != 1 {
			fail("results[%d] has %d locations, want 1", i, len(locs))
			continue
		}
		pl := obj(obj(locs[0])["physicalLocation"])
		if uri, _ := obj(pl["artifactLocation"])["uri"].(string); uri != want[i].file {
			fail("results[%d] uri = %q, want %q", i, uri, want[i].file)
		}
		region := obj(pl["region"])
		if line, _ := region["startLine"].(float64); int(line) != want[i].line {
			fail("results[%d].region.startLine = %v, want %d (1 for a whole file)", i, region["startLine"], want[i].line)
		}
		if col, _ := region["startColumn"].(float64); int(col) != want[i].col {
			fail("results[%d].region.startColumn = %v, want %d", i, region["startColumn"], want[i].col)
		}
	}
	if len(errs) > 0 {
		t.Errorf("the SARIF log lacks what the schema requires:\n%s", strings.Join(errs, "\n"))
	}
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
