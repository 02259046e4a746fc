package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v3"
	"golang.org/x/term"

	"github.com/imagelock/imagelock/workflow"
)

func auditCommand() *cli.Command {
	return &cli.Command{
		Name:      "audit",
		Usage:     "check what pods run against the lock, from kubectl's JSON (no cluster access, no network)",
		ArgsUsage: "[FILE|-]",
		Description: help("audit reads 'kubectl get pods -A -o json' (a List of Pods, or one Pod) and compares each\n"+
			"container's running imageID with the lock: the locked index or any of its platform\n"+
			"manifests is a match. It reports drift (a digest the lock does not record), split (pods\n"+
			"of one owner running different images of one spec), unlocked images and unknown ones\n"+
			"(an image ID with no registry digest, a container not running yet).",
			[]string{
				"kubectl get pods -A -o json | imagelock audit",
				"imagelock audit pods.json --format github",
				"imagelock audit pods.json --strict    # unlocked and unknown images fail too",
			},
			"0 every container runs what the lock records; 1 drift or a split (with --strict,\n"+
				"unlocked and unknown images too); 2 audit could not check (unreadable or malformed input)."),
		Flags: []cli.Flag{
			lockfileFlag(),
			formatFlag(verifyFormats...),
			&cli.BoolFlag{Name: "strict", Usage: "fail on unlocked and unknown images too"},
		},
		Action: func(_ context.Context, c *cli.Command) error {
			if c.NArg() > 1 {
				return usagef(c, "audit reads one FILE (or - for stdin), got %d", c.NArg())
			}
			file := c.Args().First()
			if file == "" {
				if term.IsTerminal(int(os.Stdin.Fd())) {
					return usagef(c, "audit reads pods from FILE or stdin: kubectl get pods -A -o json | imagelock audit")
				}
				file = "-"
			}
			o := workflow.Options{Dir: c.String("C"), Lockfile: c.String("lockfile")}
			res, err := workflow.Audit(o, workflow.AuditOptions{File: file, Stdin: os.Stdin})
			if err != nil {
				return err
			}
			strict := c.Bool("strict")
			ch := checked{findings: res.Findings, verdict: auditVerdict(res, strict)}
			return renderChecked(c, o, ch, newAuditReport(res, o.Lockfile, strict), res.Failed(strict))
		},
	}
}

// auditReport is audit's text and JSON output.
type auditReport struct {
	header
	// OK is the verdict: false exactly when audit exits 1.
	OK bool `json:"ok"`
	*workflow.AuditResult
	lockfile string
	strict   bool
}

func newAuditReport(res *workflow.AuditResult, lockfile string, strict bool) auditReport {
	r := *res
	r.Findings = list(r.Findings)
	return auditReport{header: newHeader("audit"), OK: !res.Failed(strict), AuditResult: &r, lockfile: lockfile, strict: strict}
}

// text shows each finding at its container, with both digests of a
// mismatch aligned, then a one-line verdict.
func (r auditReport) text(w io.Writer) error {
	for _, f := range r.Findings {
		head, rest, _ := strings.Cut(findingText(f, r.lockfile), "\n")
		fmt.Fprintf(w, "%s: %s\n%s\n", printable(podPlace(f)), head, indent(rest, "    "))
	}
	_, err := fmt.Fprintln(w, auditVerdict(r.AuditResult, r.strict))
	return err
}

// auditVerdict is the last line of audit's text and github output.
func auditVerdict(res *workflow.AuditResult, strict bool) string {
	failures, notices := 0, 0
	for _, f := range res.Findings {
		if f.Severity == workflow.Notice {
			notices++
		} else {
			failures++
		}
	}
	counts := fmt.Sprintf("%s in %s, %d on locked digests", plural(res.Containers, "container", "containers"), plural(res.Pods, "pod", "pods"), res.Matched)
	switch {
	case failures > 0:
		return fmt.Sprintf("audit failed: %s, %s: %s", plural(failures, "problem", "problems"), plural(notices, "notice", "notices"), counts)
	case notices > 0 && strict:
		return fmt.Sprintf("audit failed: %s, which --strict fails on: %s", plural(notices, "notice", "notices"), counts)
	case notices > 0:
		return fmt.Sprintf("audit ok, %s: %s", plural(notices, "notice", "notices"), counts)
	}
	return "audit ok: " + counts
}
