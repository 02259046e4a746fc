package rewrite

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// styleNames names the styles in test output.
var styleNames = map[Style]string{Inline: "", Tag: " tag", DigestField: " field", External: " external"}

// brief writes each reference as "line:col image", with its style unless
// Inline and its variable if any, and checks the span invariant.
func brief(t *testing.T, files fstest.MapFS, refs []Ref) []string {
	t.Helper()
	var out []string
	for _, r := range refs {
		src := files[r.File].Data
		if r.Span.End > len(src) || string(src[r.Span.Start:r.Span.End]) != r.Written {
			t.Errorf("%s: src[Span] = %q, Written = %q", r.Pos(), src[r.Span.Start:min(r.Span.End, len(src))], r.Written)
		}
		s := fmt.Sprintf("%d:%d %s%s", r.Line, r.Col, r.Image, styleNames[r.Style])
		if r.Var != "" {
			s += " var=" + r.Var
		}
		out = append(out, s)
	}
	return out
}

// findIn runs the finder FinderFor picks for name, in files, and checks
// that it picked kind.
func findIn(t *testing.T, files fstest.MapFS, name string, kind Kind) ([]Ref, []Warning, error) {
	t.Helper()
	k, find, ok := FinderFor(name)
	if !ok || k != kind {
		t.Fatalf("FinderFor(%q) = %q, %v; want %q", name, k, ok, kind)
	}
	return find(Input{FS: files, Path: name, Src: files[name].Data})
}

func warnings(ws []Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.String())
	}
	return out
}

func TestFinderFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path string
		want Kind
	}{
		{"compose.yaml", Compose},
		{"deploy/compose.prod.yml", Compose},
		{"docker-compose.yml", Compose},
		{"docker-compose-dev.yaml", Compose},
		{"docker-compose.override.yml", Compose},
		{".github/workflows/ci.yml", GitHubActions},
		{"sub/.github/workflows/release.yaml", GitHubActions},
		{"tools/lint/action.yml", GitHubActions},
		{".gitlab-ci.yml", GitLabCI},
		{"ci/build.gitlab-ci.yml", GitLabCI},
		{"overlays/prod/kustomization.yaml", Kustomize},
		{"base/kustomization.yml", Kustomize},
		{"base/Kustomization", Kustomize},
		{"chart/values.yaml", Helm},
		{"chart/values-prod.yml", Helm},
		{"k8s/deploy.yaml", Kubernetes},
		{".github/dependabot.yml", Kubernetes},
		{".github/workflows/nested/ci.yml", Kubernetes},
		{"composer.yaml", Kubernetes},
		{"Chart.yaml", Helm},
		{"Dockerfile", Dockerfile},
		{"README.md", ""},
		// JSON is read only as a Kubernetes object, whatever its name.
		{"compose.json", Kubernetes},
		{"k8s/pod.json", Kubernetes},
		{"notes.jsonl", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			kind, find, ok := FinderFor(tt.path)
			if kind != tt.want || ok != (tt.want != "") || ok != (find != nil) {
				t.Errorf("FinderFor(%q) = %q, %v; want %q", tt.path, kind, ok, tt.want)
			}
		})
	}
}

func TestScalarSpan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
	}{
		{"plain", "image: nginx:1.25\n"},
		{"plain with comment", "image: nginx:1.25   # pinned later\n"},
		{"single quoted", "image: 'nginx:1.25'\n"},
		{"double quoted", "image: \"nginx:1.25\"\n"},
		{"tagged", "image: !!str nginx:1.25\n"},
		{"anchored", "image: &img 'nginx:1.25'\n"},
		{"flow mapping", "{a: [b, c], image: nginx:1.25}\n"},
		{"flow over lines", "{a: b,\n  image: \"nginx:1.25\" }\n"},
		{"CRLF", "a: b\r\nc: d\r\nimage: nginx:1.25\r\n"},
		{"CR alone", "a: b\rimage: nginx:1.25\r"},
		{"byte order mark", "\ufeffimage: nginx:1.25\n"},
		{"multi-byte before", "{ä: ö, é: ü, image: nginx:1.25}\n"},
		{"four-byte runes before", "{\"🐳🐳\": x, image: 'nginx:1.25'}\n"},
		{"NEL breaks lines", "a: b\u0085image: nginx:1.25\n"},
		{"line separator", "a: b\u2028image: nginx:1.25\n"},
		{"second document", "a: b\n---\n# c\nimage: nginx:1.25\n...\n"},
		{"tab before value", "image:\tnginx:1.25\n"},
		{"key on its own line", "? image\n: nginx:1.25\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, _, err := parseYAML(Input{Path: "f.yaml", Src: []byte(tt.src)})
			if err != nil {
				t.Fatal(err)
			}
			n := f.value(root(f.docs[len(f.docs)-1]), "image")
			sp, err := f.scalar(n)
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.src[sp.Value.Start:sp.Value.End]; got != "nginx:1.25" {
				t.Errorf("value span holds %q", got)
			}
			tok := tt.src[sp.Token.Start:sp.Token.End]
			if strings.Trim(tok, `"'`) != "nginx:1.25" || len(tok)-len("nginx:1.25") > 2 {
				t.Errorf("token span holds %q", tok)
			}
		})
	}
}

func TestScalarSpanBlocks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
	}{
		{"literal", "image: |\n  nginx:1.25\n"},
		{"literal strip", "image: |-\n  nginx:1.25\n"},
		{"literal keep", "image: |+\n  nginx:1.25\n\n"},
		{"folded", "image: >\n    nginx:1.25\nnext: x\n"},
		{"folded strip", "image: >-\n  nginx:1.25"},
		{"indentation indicator", "a:\n  image: >2-\n     nginx:1.25\n"},
		{"header comment", "image: | # the base\n  nginx:1.25  \n"},
		{"blank line first", "image: >\n\n  nginx:1.25\n"},
		{"CRLF", "image: >-\r\n  nginx:1.25\r\nb: c\r\n"},
		{"anchored and tagged", "image: &i !!str >-\n  nginx:1.25\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, _, err := parseYAML(Input{Path: "f.yaml", Src: []byte(tt.src)})
			if err != nil {
				t.Fatal(err)
			}
			r := root(f.docs[0])
			if a := f.value(r, "a"); a != nil {
				r = a
			}
			n := f.value(r, "image")
			if n.Value != "nginx:1.25" {
				t.Errorf("value = %q, want the word alone", n.Value)
			}
			sp, err := f.scalar(n)
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.src[sp.Value.Start:sp.Value.End]; got != "nginx:1.25" {
				t.Errorf("value span holds %q", got)
			}
			if sp.Token != sp.Value {
				t.Errorf("token span %v, want the value's %v", sp.Token, sp.Value)
			}
		})
	}
}

func TestScalarSpanRefusesRewrittenText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
	}{
		{"escape", `image: "nginx\x3a1.25"` + "\n"},
		{"doubled quote", "image: 'it''s:1'\n"},
		{"literal block of two lines", "image: |\n  nginx\n  :1.25\n"},
		{"folded block of two words", "image: >\n  nginx\n  :1.25\n"},
		{"block with text after the word", "image: |\n  nginx:1.25 # not a comment\n"},
		{"plain over lines", "image: nginx\n  :1.25\n"},
		{"quoted over lines", "image: \"nginx\n  :1.25\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, _, err := parseYAML(Input{Path: "f.yaml", Src: []byte(tt.src)})
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.scalar(f.value(root(f.docs[0]), "image"))
			var e *Error
			if !errors.As(err, &e) || e.Line != 1 || e.Col != 8 || !strings.Contains(e.Error(), "f.yaml:1:8: ") {
				t.Errorf("err = %v, want an *Error at f.yaml:1:8", err)
			}
		})
	}
}

func TestParseYAMLBadInput(t *testing.T) {
	t.Parallel()
	t.Run("malformed names the line", func(t *testing.T) {
		t.Parallel()
		_, _, err := parseYAML(Input{Path: "x.yaml", Src: []byte("a: 1\nb: [2\nc: 3\n")})
		var e *Error
		if !errors.As(err, &e) || e.File != "x.yaml" || e.Line == 0 {
			t.Fatalf("err = %#v, want an *Error with a line", err)
		}
	})
	t.Run("over the size limit is skipped unparsed", func(t *testing.T) {
		t.Parallel()
		src := []byte("a: [" + strings.Repeat("x", maxYAMLSize))
		f, warns, err := parseYAML(Input{Path: "big.yaml", Src: src})
		if f != nil || err != nil || len(warns) != 1 || !strings.Contains(warns[0].String(), "big.yaml: YAML file of") {
			t.Fatalf("got %v, %v, %v; want one size warning", f, warns, err)
		}
	})
}

// aliasBomb returns a billion-laughs document whose expansion has 10^depth
// leaves, with a container list and a merge-key chain inside.
func aliasBomb(depth int) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: List\nl0: &l0 {containers: [{image: \"nginx:1\"}]}\n")
	for i := 1; i <= depth; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [", i, i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
		fmt.Fprintf(&b, "m%d: &m%d {<<: [", i, i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			if i == 1 {
				b.WriteString("*l0")
			} else {
				fmt.Fprintf(&b, "*m%d", i-1)
			}
		}
		b.WriteString("]}\n")
	}
	return b.String()
}

// mergeChain returns a document of n mappings that each merge one big
// mapping of n keys, and look like services, jobs, images and values: a
// file that would cost n² steps if every lookup walked the merges.
func mergeChain(n int) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: List\nbig: &big {")
	for i := range n {
		fmt.Fprintf(&b, "k%d: v, ", i)
	}
	b.WriteString("z: v}\nservices: &s\n")
	for i := range n {
		fmt.Fprintf(&b, "  s%d: {<<: *big}\n", i)
	}
	b.WriteString("jobs: *s\nimages: [*big]\nx: *s\n")
	return b.String()
}

func TestAliasBombStaysLinear(t *testing.T) {
	t.Parallel()
	src := aliasBomb(12)
	f, _, err := parseYAML(Input{Path: "bomb.yaml", Src: []byte(src)})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(f.pairs(f.value(root(f.docs[0]), "m12"))); got != 1 {
		t.Errorf("merged m12 has %d keys, want 1 (containers)", got)
	}
	files := fstest.MapFS{"bomb.yaml": {Data: []byte(src)}}
	refs, _, err := findIn(t, files, "bomb.yaml", Kubernetes)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"3:32 nginx:1"}, brief(t, files, refs)); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
}

func TestDerefStopsOnLongChains(t *testing.T) {
	t.Parallel()
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: "x"}
	for range maxAliasChain + 1 {
		n = &yaml.Node{Kind: yaml.AliasNode, Alias: n}
	}
	if got := deref(n); got != nil {
		t.Errorf("deref of a chain over the limit = %v, want nil", got)
	}
}

// TestYAMLBadInput runs every YAML finder on input no source should hold:
// a clear error with a line, or a skip with a warning, never a hang.
func TestYAMLBadInput(t *testing.T) {
	t.Parallel()
	names := map[Kind]string{
		Compose:       "compose.yaml",
		Kubernetes:    "k8s.yaml",
		GitHubActions: ".github/workflows/ci.yml",
		GitLabCI:      ".gitlab-ci.yml",
		Kustomize:     "kustomization.yaml",
		Helm:          "values.yaml",
	}
	huge := "a: [" + strings.Repeat("\"x\", ", 50<<20/5) + "]\n"
	tests := []struct {
		name, src string
		// errLine is the line the *Error names; 0 means no error, and
		// warn, when set, is the warning every kind gives.
		errLine int
		warn    string
	}{
		{name: "malformed", src: "a: 1\nb: c: d\n", errLine: 2},
		{name: "control character", src: "a: 1\nb: \x01\n", errLine: 2},
		{name: "not a mapping", src: "- a\n- b\n", errLine: 1},
		{name: "binary", src: "\x7fELF\x02\x01\x01\x00\x00\x00", warn: "not a text file, skipped"},
		{name: "50 MB", src: huge, warn: fmt.Sprintf("YAML file of %d bytes is over the 10 MiB limit, skipped", len(huge))},
		{name: "alias bomb", src: aliasBomb(9) + "services: {a: {<<: *m9}}\nimages: *l9\njobs: {j: *m9}\nx: *m9\n"},
		{name: "merge chain", src: mergeChain(20000), errLine: -1},
	}
	for _, tt := range tests {
		for kind, name := range names {
			t.Run(tt.name+"/"+string(kind), func(t *testing.T) {
				t.Parallel()
				files := fstest.MapFS{name: {Data: []byte(tt.src)}, "Chart.yaml": {Data: []byte("name: c\n")}}
				_, warns, err := findIn(t, files, name, kind)
				var e *Error
				switch {
				case tt.errLine < 0:
					// Compose, workflows and Helm look up keys in every
					// merging mapping (a service, a job, any map) and run
					// out of steps; the others never look inside them.
					lookup := kind == Compose || kind == GitHubActions || kind == Helm
					tooComplex := errors.As(err, &e) && e.Err.Error() == tooComplexMsg
					if lookup != tooComplex || (err != nil && !tooComplex) {
						t.Errorf("err = %v", err)
					}
				case tt.warn != "":
					if err != nil || len(warns) != 1 || warns[0].Msg != tt.warn {
						t.Errorf("got %v, %v; want the warning %q", warns, err, tt.warn)
					}
				case tt.errLine == 0:
					if err != nil {
						t.Errorf("err = %v", err)
					}
				case kind == Kubernetes && tt.name == "not a mapping":
					if err != nil || len(warns) != 0 {
						t.Errorf("got %v, %v; want nothing: a YAML list is not a manifest", warns, err)
					}
				case kind == Kubernetes:
					if err != nil || len(warns) != 1 || warns[0].Line != tt.errLine {
						t.Errorf("got %v, %v; want one warning at line %d", warns, err, tt.errLine)
					}
				case tt.name == "not a mapping" && kind == Helm:
					if !errors.As(err, &e) || e.Line != tt.errLine || !strings.Contains(err.Error(), "the values file is not a mapping") {
						t.Errorf("err = %v, want values.yaml:%d: the values file is not a mapping", err, tt.errLine)
					}
				default:
					if !errors.As(err, &e) || e.File != name || e.Line != tt.errLine {
						t.Errorf("err = %v, want an *Error at %s:%d", err, name, tt.errLine)
					}
				}
			})
		}
	}
}
