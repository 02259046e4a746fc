package main

import (
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/imagelock/imagelock/rewrite"
	"github.com/imagelock/imagelock/workflow"
)

// repoPaths returns a function that turns a path relative to the lock's
// directory into one relative to the current directory, which is what
// GitHub annotations and code scanning resolve against the checkout.
// Paths outside the current directory are left as the lock writes them.
func repoPaths(o workflow.Options) func(string) string {
	same := func(f string) string { return f }
	dir := configDir(defaultDir(o.Dir), o.Lockfile)
	if filepath.IsAbs(dir) {
		cwd, err := os.Getwd()
		if err != nil {
			return same
		}
		if dir, err = filepath.Rel(cwd, dir); err != nil {
			return same
		}
	}
	rel := filepath.ToSlash(filepath.Clean(dir))
	if rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
		return same
	}
	return func(f string) string { return path.Join(rel, f) }
}

func defaultDir(dir string) string {
	if dir == "" {
		return "."
	}
	return dir
}

// findingText is a finding's message without its position: the image,
// what is wrong, both digests of a mismatch, and what to run.
func findingText(f workflow.Finding, lockfile string) string {
	text := fmt.Sprintf("%s: %s\n", printable(f.Image), printable(f.Msg))
	switch {
	case f.Current != "" && f.Locked != "":
		text += aligned(lockfile, f.Locked, f.CurrentFrom, f.Current)
	case f.Current != "":
		text += aligned(f.CurrentFrom, f.Current)
	}
	return text + f.Fix
}

// aligned writes labelled values one a line, as go.sum shows both
// digests of a mismatch: every value starts in the same column, after
// the longest label.
func aligned(labelsAndValues ...string) string {
	w := 0
	for i := 0; i < len(labelsAndValues); i += 2 {
		w = max(w, len(labelsAndValues[i])+2)
	}
	var b strings.Builder
	for i := 0; i+1 < len(labelsAndValues); i += 2 {
		fmt.Fprintf(&b, "%-*s%s\n", w, labelsAndValues[i]+":", labelsAndValues[i+1])
	}
	return b.String()
}

// checked is what a command that checks (verify, audit) reports in
// every format: its findings, the scan's warnings, and the verdict that
// ends its text and github output.
type checked struct {
	findings []workflow.Finding
	warnings []rewrite.Warning
	verdict  string
}

// findingMessage is a finding's whole message for an annotation or a
// code scanning alert: where it runs, for audit's, then findingText.
func findingMessage(f workflow.Finding, lockfile string) string {
	if f.Pod == "" {
		return findingText(f, lockfile)
	}
	return printable(podPlace(f)) + ": " + findingText(f, lockfile)
}

// podPlace names the container of an audit finding: namespace/pod/container.
func podPlace(f workflow.Finding) string {
	return f.Namespace + "/" + f.Pod + "/" + f.Container
}

// printGitHub writes GitHub Actions workflow commands: an ::error
// annotation for each failure, a ::warning for each notice and each
// warning of the scan (errors with strict), then the verdict as plain
// text.
func printGitHub(w io.Writer, c checked, lockfile string, strict bool, rel func(string) string) {
	for _, x := range c.warnings {
		cmd := "warning"
		if strict {
			cmd = "error"
		}
		fmt.Fprintf(w, "::%s %s::%s\n", cmd, ghProperties(rel(x.File), x.Line, 0), ghData(x.Msg))
	}
	for _, f := range c.findings {
		cmd := "warning"
		if f.Fails(strict) {
			cmd = "error"
		}
		fmt.Fprintf(w, "::%s %s::%s\n", cmd, ghProperties(rel(f.File), f.Line, f.Col), ghData(findingMessage(f, lockfile)))
	}
	fmt.Fprintln(w, c.verdict)
}

func ghProperties(file string, line, col int) string {
	props := []string{"file=" + ghProperty(file)}
	if line > 0 {
		props = append(props, fmt.Sprintf("line=%d", line))
		if col > 0 {
			props = append(props, fmt.Sprintf("col=%d", col))
		}
	}
	return strings.Join(append(props, "title=imagelock"), ",")
}

// ghData escapes a workflow command's message, as the runner's
// toolkit does: %, CR and LF.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a workflow command's property value: also : and ,.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// printWarningsFor prints the scan's warnings to stderr, except with
// --format github, which annotates them.
func printWarningsFor(w io.Writer, format string, ws []rewrite.Warning) {
	if format != "github" {
		printWarnings(w, ws)
	}
}

// indent prefixes each line of s.
func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "")
}
