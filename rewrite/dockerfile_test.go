package rewrite

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/imagelock/imagelock/internal/fileerr"
)

func TestDockerfileGolden(t *testing.T) {
	t.Parallel()
	runGolden(t, "../testdata/dockerfile", FindDockerfile, "Dockerfile")
}

// briefRefs writes each reference as "line:col written => image [var=X]".
func briefRefs(refs []Ref) []string {
	var out []string
	for _, r := range refs {
		s := fmt.Sprintf("%d:%d %s => %s", r.Line, r.Col, r.Written, r.Image)
		if r.Var != "" {
			s += " var=" + r.Var
		}
		if r.Style == External {
			s += " style=external"
		}
		out = append(out, s)
	}
	return out
}

func briefWarnings(warns []Warning) []string {
	var out []string
	for _, w := range warns {
		out = append(out, w.String())
	}
	return out
}

func TestFindDockerfile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		args  map[string]string
		src   string
		refs  []string
		warns []string
	}{
		{
			name: "whole variable default is pinned at the ARG",
			src:  "ARG BASE=golang:1.26\nFROM ${BASE}\nFROM $BASE AS b\n",
			refs: []string{"1:10 golang:1.26 => golang:1.26 var=BASE", "1:10 golang:1.26 => golang:1.26 var=BASE"},
		},
		{
			name: "quoted default spans the text inside the quotes",
			src:  "ARG A=\"alpine:3.20\" B='redis:7'\nFROM $A\nFROM ${B}\n",
			refs: []string{"1:8 alpine:3.20 => alpine:3.20 var=A", "1:24 redis:7 => redis:7 var=B"},
		},
		{
			name: "a variable that ends the image is pinned at its default",
			src:  "ARG REG=ghcr.io TAG=1\nFROM ${REG}/app:${TAG}\n",
			refs: []string{"1:21 1 => ghcr.io/app:1 var=TAG"},
		},
		{
			name: "a tag variable a stage reads again is pinned at the FROM",
			src:  "ARG V=1.26\nFROM golang:${V}\nARG V\nRUN echo go$V\n",
			refs: []string{"2:6 golang:${V} => golang:1.26"},
		},
		{
			name: "a tag variable that another FROM reads inside its image is pinned at each FROM",
			src:  "ARG V=1.26\nFROM golang:${V}\nFROM golang:${V}-alpine\n",
			refs: []string{"2:6 golang:${V} => golang:1.26", "3:6 golang:${V}-alpine => golang:1.26-alpine"},
		},
		{
			name: "a variable that ends two different images is pinned at each FROM",
			src:  "ARG BASE=golang:1.26\nFROM $BASE\nFROM mirror.example/$BASE\n",
			refs: []string{"2:6 $BASE => golang:1.26 var=BASE", "3:6 mirror.example/$BASE => mirror.example/golang:1.26"},
		},
		{
			name: "a stage's own ARG with a value does not read the global one",
			src:  "ARG BASE=golang:1.26\nFROM $BASE\nARG BASE=other:1\n",
			refs: []string{"1:10 golang:1.26 => golang:1.26 var=BASE"},
		},
		{
			name: "a variable read twice in one image is pinned at the FROM",
			src:  "ARG V=1\nFROM acme/app${V}:${V}\n",
			refs: []string{"2:6 acme/app${V}:${V} => acme/app1:1"},
		},
		{
			name: "a build arg from the environment overrides a whole variable: the FROM is not edited",
			args: map[string]string{"BASE": "golang:1.27"},
			src:  "ARG BASE=golang:1.26\nFROM ${BASE}\n",
			refs: []string{"2:6 ${BASE} => golang:1.27 var=BASE style=external"},
		},
		{
			name: "a build arg gives a value to an ARG without default",
			args: map[string]string{"V": "3.21"},
			src:  "ARG V\nFROM alpine:$V\n",
			refs: []string{"2:6 alpine:$V => alpine:3.21 var=V style=external"},
		},
		{
			name: "build arg for an undeclared variable is ignored",
			args: map[string]string{"X": "alpine:3"},
			src:  "FROM $X\n",
			warns: []string{
				"Dockerfile:1: FROM uses $X, which no ARG before the first FROM declares: declare it with a default or pin the FROM by hand",
			},
		},
		{
			name: "default built from another ARG",
			src:  "ARG V=1.26\nARG BASE=golang:${V}\nFROM $BASE\n",
			refs: []string{"2:10 golang:${V} => golang:1.26 var=BASE"},
		},
		{
			name: "ARG redeclared without a value keeps its default",
			src:  "ARG BASE=golang:1.26\nARG BASE\nFROM $BASE\n",
			refs: []string{"1:10 golang:1.26 => golang:1.26 var=BASE"},
		},
		{
			name: "later default wins",
			src:  "ARG BASE=golang:1.26\nARG BASE=golang:1.27\nFROM $BASE\n",
			refs: []string{"2:10 golang:1.27 => golang:1.27 var=BASE"},
		},
		{
			name: "ARG after the first FROM does not reach a FROM",
			src:  "FROM alpine:3 AS a\nARG BASE=golang:1.26\nFROM ${BASE:-busybox:1}\n",
			refs: []string{"1:6 alpine:3 => alpine:3", "3:6 ${BASE:-busybox:1} => busybox:1"},
		},
		{
			name: "variable with no default",
			src:  "ARG BASE\nFROM $BASE\nFROM alpine:3\n",
			refs: []string{"3:6 alpine:3 => alpine:3"},
			warns: []string{
				"Dockerfile:2: FROM uses $BASE, which has no default: give the ARG a default or pin the FROM by hand",
			},
		},
		{
			name: "default split across lines is pinned at the FROM",
			src:  "ARG BASE=golang:\\\n1.26\nFROM $BASE\n",
			refs: []string{"3:6 $BASE => golang:1.26 var=BASE"},
		},
		{
			name: "image split across lines cannot be pinned",
			src:  "FROM golang:\\\n1.26\n",
			warns: []string{
				"Dockerfile:1: FROM golang:1.26 is split across lines: join it to pin it",
			},
		},
		{
			name: "stage names, indexes and scratch are not images",
			src:  "FROM scratch AS Base\nFROM base\nFROM SCRATCH\nCOPY --from=0 / /\nCOPY --from=BASE / /\nRUN --mount=from=Base true\n",
		},
		{
			name: "a stage named later is an image in FROM, a stage in COPY --from",
			src:  "FROM app:1\nCOPY --from=later / /\nFROM later:1 AS later\n",
			refs: []string{"1:6 app:1 => app:1", "3:6 later:1 => later:1"},
		},
		{
			name: "COPY --from with a variable",
			src:  "FROM alpine:3\nCOPY --from=$IMG / /\n",
			refs: []string{"1:6 alpine:3 => alpine:3"},
			warns: []string{
				"Dockerfile:2: COPY --from=$IMG: buildkit expands no variables there; name a stage instead",
			},
		},
		{
			name: "quoted COPY --from",
			src:  "FROM alpine:3\nCOPY --from=\"busybox:1\" / /\n",
			refs: []string{"1:6 alpine:3 => alpine:3", "2:14 busybox:1 => busybox:1"},
		},
		{
			name: "mount from first in the list",
			src:  "FROM alpine:3\nRUN --mount=from=busybox:1,target=/b true\n",
			refs: []string{"1:6 alpine:3 => alpine:3", "2:18 busybox:1 => busybox:1"},
		},
		{
			name: "ADD and ONBUILD are not read",
			src:  "FROM alpine:3\nADD --from=x:1 a b\nONBUILD FROM y:1\nONBUILD COPY --from=z:1 / /\n",
			refs: []string{"1:6 alpine:3 => alpine:3"},
		},
		{
			name: "leading whitespace and lower case",
			src:  "  \tfrom  alpine:3   as   x\n",
			refs: []string{"1:10 alpine:3 => alpine:3"},
		},
		{
			name: "syntax directive after blank line is a comment",
			src:  "\n# syntax=docker/dockerfile:1\nFROM alpine:3\n",
			refs: []string{"3:6 alpine:3 => alpine:3"},
		},
		{
			name: "syntax directive with options",
			src:  "#syntax=docker/dockerfile:1 --opt=x\nFROM alpine:3\n",
			refs: []string{"1:9 docker/dockerfile:1 => docker/dockerfile:1", "2:6 alpine:3 => alpine:3"},
		},
		{
			name:  "FROM with no image is a warning",
			src:   "ARG A=1\nFROM\nFROM alpine:3\n",
			refs:  []string{"3:6 alpine:3 => alpine:3"},
			warns: []string{`Dockerfile:2: FROM names no image (write FROM <image> [AS <name>]): fix it, or exclude the file in .imagelock.toml: exclude = ["Dockerfile"]`},
		},
		{
			name:  "FROM placeholder of several words is a warning",
			src:   "FROM <your base image>\nFROM alpine:3 AS a b\n",
			warns: []string{`Dockerfile:1: FROM <your base image> is not FROM <image> [AS <name>]: fix it, or exclude the file in .imagelock.toml: exclude = ["Dockerfile"]`, `Dockerfile:2: FROM alpine:3 AS a b is not FROM <image> [AS <name>]: fix it, or exclude the file in .imagelock.toml: exclude = ["Dockerfile"]`},
		},
		{
			name:  "FROM that expands to nothing is a warning",
			src:   "FROM \"\"\n",
			warns: []string{`Dockerfile:1: FROM "" names no image: fix it, or exclude the file in .imagelock.toml: exclude = ["Dockerfile"]`},
		},
		{
			name:  "not a text file",
			src:   "FROM alpine:3\x00\n",
			warns: []string{"Dockerfile: not a text file, skipped"},
		},
		{
			name: "a byte that is not UTF-8 is read as Docker reads it",
			src:  "# caf\xe9\nFROM alpine:3\nRUN echo \xff\n",
			refs: []string{"2:6 alpine:3 => alpine:3"},
		},
		{
			name: "a runaway ARG expansion is bounded",
			src:  "ARG A=xxxxxxxxxxxxxxxx\n" + strings.Repeat("ARG A=${A}${A}\n", 14) + "FROM alpine:3\nFROM $A\n",
			refs: []string{"16:6 alpine:3 => alpine:3"},
			warns: []string{
				"Dockerfile:14: ARG A expands to over 64 KiB, which is no image: left without a value",
				"Dockerfile:17: FROM uses $A, which is empty: give the ARG a default or pin the FROM by hand",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := Build{Args: map[string]BuildArg{}}
			for k, v := range tt.args {
				b.Args[k] = BuildArg{Value: v}
			}
			refs, warns, err := FindDockerfileArgs(Input{Path: "Dockerfile", Src: []byte(tt.src)}, b)
			if err != nil {
				t.Fatal(err)
			}
			checkRefs(t, "Dockerfile", []byte(tt.src), refs)
			if diff := cmp.Diff(tt.refs, briefRefs(refs)); diff != "" {
				t.Errorf("refs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.warns, briefWarnings(warns)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

// A Dockerfile that does not parse, or whose FROM or ARG the shell
// lexer refuses (a template's ${templateOption:imageVariant}), is a
// warning naming the line: one such file must not stop a run over a
// whole repository.
func TestDockerfileThatCannotBeReadIsAWarning(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		refs []string
		warn string
	}{
		{"unterminated heredoc", "FROM alpine:3\nRUN <<EOF\necho\n", nil,
			"Dockerfile:2: not a valid Dockerfile, skipped: unterminated heredoc"},
		{"bad substitution", "FROM ${:x}\nFROM alpine:3\n", []string{"2:6 alpine:3 => alpine:3"},
			"Dockerfile:1: FROM ${:x} cannot be expanded (syntax error: bad substitution): fix it, or exclude"},
		{"template placeholder", "FROM mcr.microsoft.com/devcontainers/cpp:2-${templateOption:imageVariant}\n", nil,
			"Dockerfile:1: FROM mcr.microsoft.com/devcontainers/cpp:2-${templateOption:imageVariant} cannot be expanded (unsupported modifier (:i) in substitution): fix it, or exclude"},
		{"ARG", "ARG V=${:x}\nFROM alpine:${V}\n", nil,
			"Dockerfile:1: ARG V=${:x} cannot be expanded (syntax error: bad substitution): left without a value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			refs, warns, err := FindDockerfile(Input{Path: "Dockerfile", Src: []byte(tt.src)})
			if err != nil {
				t.Fatalf("err = %v, want warnings", err)
			}
			if diff := cmp.Diff(tt.refs, briefRefs(refs)); diff != "" {
				t.Errorf("refs (-want +got):\n%s", diff)
			}
			if len(warns) == 0 || !strings.HasPrefix(warns[0].String(), tt.warn) {
				t.Errorf("warnings = %v, want the first to start %q", warns, tt.warn)
			}
		})
	}
}

// A FROM whose substitution no builder takes is a template's (a dev
// container template's ${templateOption:variant}): a warning naming it,
// and the file's other images are still read.
func TestDockerfileTemplateSubstitutionWarns(t *testing.T) {
	t.Parallel()
	for _, from := range []string{"${:x}", "mcr.microsoft.com/devcontainers/go:1-${templateOption:imageVariant}"} {
		src := "FROM " + from + "\nCOPY --from=alpine:3.20 /etc/os-release /\n"
		refs, warns, err := FindDockerfile(Input{Path: "Dockerfile", Src: []byte(src)})
		if err != nil {
			t.Fatalf("FROM %s: %v", from, err)
		}
		if len(refs) != 1 || refs[0].Image != "alpine:3.20" {
			t.Errorf("FROM %s: refs = %v, want the COPY --from image", from, refs)
		}
		if len(warns) != 1 || warns[0].Line != 1 || !strings.HasPrefix(warns[0].Msg, "FROM "+from+" cannot be expanded") {
			t.Errorf("FROM %s: warnings = %v, want one at line 1", from, warns)
		}
	}
}

// An empty or comments-only Dockerfile pulls nothing: a warning, not an
// error that would stop a lock of the whole repository.
func TestDockerfileWithoutInstructions(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"", "# just a comment\n", "\n\n"} {
		refs, warns, err := FindDockerfile(Input{Path: "Dockerfile", Src: []byte(src)})
		if err != nil || len(refs) != 0 || len(warns) != 1 || warns[0].Msg != "no instructions, skipped" {
			t.Errorf("FindDockerfile(%q) = %v, %v, %v; want one warning", src, refs, warns, err)
		}
	}
}

// An error that quotes a runaway line quotes a bounded part of it.
func TestErrorsQuoteABoundedText(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		"FROM alpine:3 AS a " + strings.Repeat("b", 1<<20) + "\n",
		"FROM ${" + strings.Repeat("b", 1<<20) + ":x}\n",
	} {
		_, ws, err := FindDockerfile(Input{Path: "Dockerfile", Src: []byte(src)})
		msgs := briefWarnings(ws)
		if err != nil {
			msgs = append(msgs, err.Error())
		}
		if len(msgs) == 0 {
			t.Errorf("%.30q: no warning and no error", src)
		}
		for _, m := range msgs {
			if len(m) > 2*fileerr.MaxMessage {
				t.Errorf("%.30q: a message of %d bytes", src, len(m))
			}
		}
	}
	w := Warning{File: "f", Line: 1, Msg: strings.Repeat("é", fileerr.MaxMessage)}
	if s := w.String(); len(s) > 2*fileerr.MaxMessage || !strings.Contains(s, "bytes more)") || !utf8.ValidString(s) {
		t.Errorf("warning of %d bytes (valid UTF-8: %v)", len(s), utf8.ValidString(s))
	}
}

// expand gives what buildkit's lexer gives, for the words it answers
// itself and for those it hands on, and refuses a word that is not
// UTF-8 (of which the lexer makes U+FFFD, printing to stderr).
func TestExpandIsTheLexers(t *testing.T) {
	t.Parallel()
	env := shell.EnvsFromSlice([]string{"BASE=alpine", "TAG=3.20"})
	words := []string{
		"", "alpine", "alpine:3.20", "ghcr.io/o/r:v1@sha256:" + strings.Repeat("a", 64), "naïve:1",
		"$BASE", "${BASE}:${TAG}", "${UNSET:-x}", "'quoted'", `"double"`, `a\b`, "a`b", "a<<b", "a<b",
		"bad\xffbyte", "tab\there", "a b",
	}
	for _, escape := range []rune{'\\', '`'} {
		d := &dockerfile{escape: escape, lex: shell.NewLex(escape)}
		for _, w := range words {
			got, gotErr := d.expand(w, env)
			if !utf8.ValidString(w) {
				if gotErr == nil {
					t.Errorf("escape %q, %q: expand = %q, want an error", escape, w, got.Result)
				}
				continue
			}
			want, wantErr := shell.NewLex(escape).ProcessWordWithMatches(w, env)
			if got.Result != want.Result || (gotErr == nil) != (wantErr == nil) ||
				len(got.Matched) != len(want.Matched) || len(got.Unmatched) != len(want.Unmatched) {
				t.Errorf("escape %q, %q: expand = %q %v %v, %v; the lexer's = %q %v %v, %v", escape, w,
					got.Result, got.Matched, got.Unmatched, gotErr, want.Result, want.Matched, want.Unmatched, wantErr)
			}
		}
	}
}
