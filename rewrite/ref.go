package rewrite

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/imagelock/imagelock/internal/fileerr"
)

// Kind names a source format.
type Kind string

// The source formats imagelock reads.
const (
	Dockerfile    Kind = "dockerfile"
	Compose       Kind = "compose"
	Kubernetes    Kind = "kubernetes"
	GitHubActions Kind = "github-actions"
	GitLabCI      Kind = "gitlab-ci"
	Kustomize     Kind = "kustomize"
	Helm          Kind = "helm"
	// CI systems.
	CloudBuild     Kind = "cloudbuild"
	Woodpecker     Kind = "woodpecker"
	Drone          Kind = "drone"
	Bitbucket      Kind = "bitbucket-pipelines"
	CircleCI       Kind = "circleci"
	AzurePipelines Kind = "azure-pipelines"
	Devcontainer   Kind = "devcontainer"
	Quadlet        Kind = "quadlet"
	Bake           Kind = "bake"
	Gitpod         Kind = "gitpod"
)

// Span is a half-open byte range [Start, End) in a file.
type Span struct {
	Start, End int
}

// Style says how pin and unpin edit a reference.
type Style int

const (
	// Inline: the span holds the image text (name[:tag][@digest]); pin
	// writes "@digest" after the tag inside the span, unpin removes it.
	Inline Style = iota
	// Tag: the span holds a tag alone (Helm's tag:, the default of a
	// compose ${TAG:-1.2} after "image:"); pin writes "@digest" after it,
	// unpin removes it.
	Tag
	// DigestField: the digest has a field of its own beside the name and
	// tag (kustomize images:, Helm values); Span is the tag (else the
	// name) the reference is reported at, and pin and unpin edit Field.
	DigestField
	// External: the image text comes from outside the file (a compose
	// variable set in the environment or .env, a Helm chart's
	// appVersion); Span is the scalar that names the variable (the
	// repository). Lock and verify use the reference, pin and unpin leave
	// it as it is.
	External
	// LockOnly: the format cannot hold a digest beside the tag (the
	// devcontainer CLI rejects a feature key written name:tag@digest).
	// Lock and verify use the reference, pin and unpin leave it.
	LockOnly
)

// Field is where a DigestField reference keeps its digest.
type Field struct {
	// Value is the span of the digest field's value, which pin replaces
	// with Before, the digest, and After. When the field is missing, Value
	// is the empty span where pin inserts it, and Before and After carry
	// the key, indentation and line break ("  digest: ", "\n").
	Value         Span
	Before, After string
	// Hex is set when the field holds the digest's hex alone (a chart's
	// sha:, whose templates write "@sha256:" before it).
	Hex bool
	// Unpin takes the digest out: it deletes the field's whole line
	// (kustomize) or empties its value (Helm). Zero when there is nothing
	// to take out or no tag to keep.
	Unpin Edit
}

// Ref is one occurrence of an image in a source file.
type Ref struct {
	// File is the slash-separated path of the source, relative to the
	// root of the walk.
	File string
	// Line and Col are the 1-based position of Span's first byte.
	Line, Col int
	Kind      Kind
	// Image is what a build or deployment pulls: the text after variable
	// expansion, e.g. "golang:1.26" or "golang:1.26@sha256:...".
	Image string
	// Written is the source text at Span, exactly as written.
	Written string
	// Span is where pin and unpin edit. For an image that comes from a
	// variable default (ARG BASE=golang:1.26), it is the default's span at
	// its definition, so several references may share one span.
	Span Span
	// Var names the variable whose default supplied the image, if any.
	Var string
	// Context is set when the text names a build context the build is
	// given (compose build.additional_contexts), not an image it pulls.
	// Such a reference is not locked, and it overrules any reference
	// found at the same span when the file is read on its own.
	Context bool
	// Renamed is set for a manifest's reference read through a
	// kustomization whose images: renames it: Image is what the build
	// pulls (newName with the manifest's tag), and the reference overrules
	// the one found at the same span when the manifest is read on its own.
	Renamed bool
	// Replaced is set for a manifest's reference that a kustomization's
	// images: entry sets whole (a newTag or digest): the build pulls the
	// entry's image, not this one. Such a reference is not locked, and it
	// overrules the one found at the same span when the manifest is read
	// on its own.
	Replaced bool
	// Style says how pin and unpin edit Span.
	Style Style
	// Field is set for the DigestField style.
	Field *Field
	// NoPin, for the External style, says why pin cannot write the
	// digest into the file and what to do instead; empty for a value
	// from the environment or .env.
	NoPin string
	// Via is, for a reference found by reading a Dockerfile with another
	// file's build args (a compose service's build:), that file's
	// position, e.g. "compose.yaml:12"; empty otherwise.
	Via string
}

// BuildArg is a value a builder passes to a Dockerfile's ARG (compose
// build.args): the value, and where pin writes a digest into it.
type BuildArg struct {
	Value string
	// Site is a reference at the value's definition (Span, Written,
	// Style and position in the builder's file); pin writes there for an
	// image whose FROM the value ends. Nil when the value comes from
	// outside that file (the environment): such references have the
	// External style.
	Site *Ref
}

// Build is how a builder reads a Dockerfile: the build args it passes,
// and its own position for messages ("compose.yaml:12").
type Build struct {
	Args map[string]BuildArg
	By   string
}

// Pos returns "file:line:col".
func (r Ref) Pos() string { return fileerr.At(r.File, r.Line, r.Col) }

// Where returns Pos, and for a reference read through a build, who builds
// it: "Dockerfile:3:6 (as compose.yaml:12 builds it)".
func (r Ref) Where() string {
	if r.Via == "" {
		return r.Pos()
	}
	return r.Pos() + " (as " + r.Via + " builds it)"
}

// Warning is a reference that cannot be resolved, or a file skipped, with
// the position and the reason.
type Warning struct {
	File string
	Line int
	Msg  string
}

func (w Warning) String() string {
	return fileerr.At(w.File, w.Line, 0) + ": " + fileerr.Clip(w.Msg)
}

// OrExclude ends a warning about text that names no image, at path: a
// placeholder in docs or a broken fixture is fixed, or its file left out
// of the walk.
func OrExclude(path string) string {
	return fmt.Sprintf(": fix it, or exclude the file in .imagelock.toml: exclude = [%q]", path)
}

// Error is a source that cannot be read as its kind, with its position.
// It is imagelock's one positioned error, which lock and the config
// return too: errors.As with *rewrite.Error finds any of them.
type Error = fileerr.Error

// Input is one file handed to a finder.
type Input struct {
	// FS is the root of the walk: finders read files a source names
	// through it (the .env beside a compose file, a build's Dockerfile).
	FS fs.FS
	// Path is the slash-separated path of the file within FS.
	Path string
	Src  []byte
	// Env looks up the process environment (compose interpolation). Nil
	// means an empty environment.
	Env func(string) (string, bool)
	// Declared is set when the configuration names the file's kind: the
	// finder reads it as its kind whatever its name and place (a Helm
	// values file with no Chart.yaml beside it).
	Declared bool
}

// Finder returns the references in one file, in file order.
type Finder func(in Input) ([]Ref, []Warning, error)

func isDockerfileName(base string) bool {
	lower := strings.ToLower(base)
	switch {
	case isTemplateName(lower):
		return false
	case lower == "dockerfile", lower == "containerfile":
		return true
	case strings.HasSuffix(lower, ".dockerfile"), strings.HasSuffix(lower, ".containerfile"):
		return true
	}
	for _, stem := range []string{"dockerfile", "containerfile"} {
		rest, ok := strings.CutPrefix(lower, stem)
		if ok && rest != "" && strings.ContainsRune("._-", rune(rest[0])) {
			return rest[0] == '.' || !strings.ContainsRune(rest, '.')
		}
	}
	return false
}

// isTemplateName reports whether a lower-case base name is a template a
// generator renders into a Dockerfile (Dockerfile.template,
// Dockerfile.tmpl, app.Dockerfile.j2): not something a build reads.
func isTemplateName(lower string) bool {
	for _, ext := range []string{".template", ".tmpl", ".tpl", ".j2", ".jinja", ".jinja2", ".gotmpl"} {
		if strings.HasSuffix(lower, ext) {
			return true
		}
	}
	return false
}
