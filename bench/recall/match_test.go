package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// summary is what a test states about a Result.
type summary struct {
	Truth, Found, Findings, TP int
	Status                     []string
	Misses                     []string // "file:line category"
	FalsePositives             []string // "file:line image: reason"
}

func summarize(r Result) summary {
	s := summary{Truth: r.Truth, Found: r.Found, Findings: r.Findings, TP: r.TP, Status: r.Status}
	for _, m := range r.Misses {
		s.Misses = append(s.Misses, fmt.Sprintf("%s:%d %s", m.Row.File, m.Row.Line, m.Category))
	}
	for _, p := range r.FalsePositives {
		s.FalsePositives = append(s.FalsePositives, fmt.Sprintf("%s:%d %s: %s", p.Finding.File, p.Finding.Line, p.Finding.Image, p.Reason))
	}
	return s
}

// rows reads truth lines written with " | " between the columns.
func rows(t *testing.T, lines ...string) []Row {
	t.Helper()
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(strings.ReplaceAll(l, " | ", "\t") + "\n")
	}
	rs, err := parseTruth("test.tsv", strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestMatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		rows     []string
		findings []Finding
		warnings []Warning
		scope    []string
		want     summary
	}{
		{
			// Line 6 is the tag line of the map at 5 and also a reference
			// of its own. Matched by line alone, in row order, the map
			// would take line 6's finding and the sidecar would be missed.
			name: "exact image first",
			rows: []string{
				"values.yaml | 5 | app:1 | ref | helm-map; alt=6",
				"values.yaml | 6 | sidecar:2 | ref | helm image string",
			},
			findings: []Finding{{File: "values.yaml", Line: 6, Image: "sidecar:2"}},
			want: summary{Truth: 2, Found: 2, Findings: 1, TP: 1,
				Status: []string{"found (definition)", "found"}},
		},
		{
			name: "line match when the image text differs",
			rows: []string{
				`compose.yaml | 3 | "nginx:1.27" | ref | compose`,
				"compose.yaml | 5 | ${REGISTRY}/app:${TAG} | ref | compose ${VAR:-default}",
				"compose.yaml | 7 | redis:7 | ref | compose",
			},
			findings: []Finding{
				{File: "compose.yaml", Line: 3, Image: "nginx:1.27"},
				{File: "compose.yaml", Line: 5, Image: "registry.example/app:1.0"},
				{File: "compose.yaml", Line: 8, Image: "redis:7"},
			},
			want: summary{Truth: 3, Found: 2, Findings: 3, TP: 2,
				Status:         []string{"found", "found", ""},
				Misses:         []string{"compose.yaml:7 compose"},
				FalsePositives: []string{"compose.yaml:8 redis:7: not in truth"}},
		},
		{
			// Both FROMs use the ARG default on line 1: its one finding
			// finds the first and, as a definition, the second.
			name: "alt lines",
			rows: []string{
				"Dockerfile | 2 | ${BASE} | ref | FROM: ARG default; alt=1",
				"Dockerfile | 5 | ${BASE} | ref | FROM: ARG default; alt=1",
			},
			findings: []Finding{{File: "Dockerfile", Line: 1, Image: "alpine:3.20"}},
			want: summary{Truth: 2, Found: 2, Findings: 1, TP: 1,
				Status: []string{"found", "found (definition)"}},
		},
		{
			name: "definition line in another file",
			rows: []string{
				".gitlab-ci.yml | 10 | $CI_IMAGE | ref | gitlab CI var; altf=ci/vars.yml:3",
				".gitlab-ci.yml | 20 | $CI_IMAGE | ref | gitlab CI var; altf=ci/vars.yml:3",
				".gitlab-ci.yml | 30 | $OTHER | ref | gitlab CI var; altf=ci/vars.yml:4",
			},
			findings: []Finding{{File: "ci/vars.yml", Line: 3, Image: "golang:1.26"}},
			want: summary{Truth: 3, Found: 2, Findings: 1, TP: 1,
				Status: []string{"found (definition)", "found (definition)", ""},
				Misses: []string{".gitlab-ci.yml:30 gitlab CI var"}},
		},
		{
			name: "warn-ok matched by a warning",
			rows: []string{
				"Dockerfile | 7 | ${RUNTIME} | warn-ok | FROM: ARG without default",
				"Dockerfile | 9 | ${OTHER} | warn-ok | FROM: ARG without default; alt=8",
				"Dockerfile | 11 | ${NONE} | warn-ok | FROM: ARG without default",
				"Dockerfile | 13 | ${REF} | ref | FROM: ARG default",
			},
			warnings: []Warning{
				{File: "Dockerfile", Line: 7, Msg: "FROM uses $RUNTIME"},
				{File: "Dockerfile", Line: 8, Msg: "ARG OTHER has no default"},
				{File: "other/Dockerfile", Line: 11, Msg: "FROM uses $NONE"},
				{File: "Dockerfile", Line: 13, Msg: "a ref needs a finding, not a warning"},
			},
			want: summary{Truth: 4, Found: 2,
				Status: []string{"warned", "warned", "", ""},
				Misses: []string{"Dockerfile:11 FROM: ARG without default", "Dockerfile:13 FROM: ARG default"}},
		},
		{
			// Out-of-scope rows are not counted, and a finding on their
			// line is a true positive, matched or not; a finding on a
			// "not" row is a false positive that says why.
			name: "out-of-scope and not",
			rows: []string{
				"run.sh | 2 | busybox:1.36 | out-of-scope | docker run in a script",
				"Dockerfile | 4 | build | not | COPY --from stage name; REVIEW",
				"Dockerfile | 1 | alpine:3.20 | ref | FROM",
			},
			findings: []Finding{
				{File: "run.sh", Line: 2, Image: "busybox:1.36"},
				{File: "run.sh", Line: 2, Image: "alpine:3.20"},
				{File: "Dockerfile", Line: 4, Image: "build"},
				{File: "Dockerfile", Line: 1, Image: "alpine:3.20"},
			},
			want: summary{Truth: 1, Found: 1, Findings: 4, TP: 3,
				Status:         []string{"found", "", "found"},
				FalsePositives: []string{"Dockerfile:4 build: truth says not a reference: COPY --from stage name"}},
		},
		{
			name: "scope filtering",
			rows: []string{
				"charts/a/values.yaml | 3 | a:1 | ref | helm image string",
				"charts/a/values.yaml | 9 | a-sidecar:1 | ref | helm image string",
			},
			findings: []Finding{
				{File: "charts/a/values.yaml", Line: 3, Image: "a:1"},
				{File: "charts/b/values.yaml", Line: 3, Image: "b:1"},
				{File: "charts/ab/values.yaml", Line: 9, Image: "ab:1"},
			},
			scope: []string{"charts/a/", ".github/"},
			want: summary{Truth: 2, Found: 1, Findings: 1, TP: 1,
				Status: []string{"found", ""},
				Misses: []string{"charts/a/values.yaml:9 helm image string"}},
		},
		{
			name: "no scope keeps every finding",
			rows: []string{"charts/a/values.yaml | 3 | a:1 | ref | helm image string"},
			findings: []Finding{
				{File: "charts/a/values.yaml", Line: 3, Image: "a:1"},
				{File: "charts/b/values.yaml", Line: 3, Image: "b:1"},
			},
			want: summary{Truth: 1, Found: 1, Findings: 2, TP: 1,
				Status:         []string{"found"},
				FalsePositives: []string{"charts/b/values.yaml:3 b:1: not in truth"}},
		},
		{
			name: "a finding is used once",
			rows: []string{
				"bake.hcl | 5 | a:1 | ref | bake target",
				"bake.hcl | 5 | a:1 | ref | bake target, second platform",
			},
			findings: []Finding{{File: "bake.hcl", Line: 5, Image: "a:1"}},
			want: summary{Truth: 2, Found: 1, Findings: 1, TP: 1,
				Status: []string{"found", ""},
				Misses: []string{"bake.hcl:5 bake target, second platform"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := summarize(Match(rows(t, tc.rows...), tc.findings, tc.warnings, tc.scope))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Match (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCategory(t *testing.T) {
	t.Parallel()
	for note, want := range map[string]string{
		"FROM":                                   "FROM",
		"helm-map REVIEW; alt=30":                "helm-map",
		"tekton param default (used at line 41)": "tekton param default",
		"GitLab Duo image (hand-set; was: not)":  "GitLab Duo image",
		"kustomize newTag -> newName line":       "kustomize newTag",
		"":                                       "(no note)",
		"; alt=3":                                "(no note)",
	} {
		if got := category(Row{Note: note}); got != want {
			t.Errorf("category(%q) = %q, want %q", note, got, want)
		}
	}
}

func TestParseTruth(t *testing.T) {
	t.Parallel()
	got, err := parseTruth("t.tsv", strings.NewReader("file\tline\timage\tclass\tnote\n"+
		"# a comment\n"+
		"\n"+
		"Dockerfile\t2\t${BASE}\tref\tFROM; alt=1,3 altf=ci/vars.yml:4,ci/more.yml:5\n"+
		"run.sh\t7\tbusybox\tout-of-scope\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{
		{File: "Dockerfile", Line: 2, Image: "${BASE}", Class: "ref", Note: "FROM; alt=1,3 altf=ci/vars.yml:4,ci/more.yml:5",
			Alt: []int{1, 3}, AltFiles: []string{"ci/vars.yml:4", "ci/more.yml:5"}},
		{File: "run.sh", Line: 7, Image: "busybox", Class: "out-of-scope"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseTruth (-want +got):\n%s", diff)
	}

	for in, want := range map[string]string{
		"Dockerfile\tx\talpine\tref\tFROM\n":                  `t.tsv:1: line "x" is not a number`,
		"a\t1\talpine\tref\n\nDockerfile\t2\talpine\tmaybe\n": `t.tsv:3: class "maybe" is none of ref, warn-ok, out-of-scope, not`,
	} {
		if _, err := parseTruth("t.tsv", strings.NewReader(in)); err == nil || err.Error() != want {
			t.Errorf("parseTruth(%q) = %v, want %s", in, err, want)
		}
	}
}

func TestParseWarnings(t *testing.T) {
	t.Parallel()
	got := parseWarnings("imagelock: scanning\n" +
		"warning: Dockerfile:7: FROM uses $RUNTIME: declare it\n" +
		"  warning: a/b.yaml:12: \"X\" is not an image reference\n" +
		"warning: no position here\n")
	want := []Warning{
		{File: "Dockerfile", Line: 7, Msg: "FROM uses $RUNTIME: declare it"},
		{File: "a/b.yaml", Line: 12, Msg: `"X" is not an image reference`},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseWarnings (-want +got):\n%s", diff)
	}
}
