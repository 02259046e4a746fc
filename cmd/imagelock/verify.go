package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/imagelock/imagelock/internal/fileerr"
	"github.com/imagelock/imagelock/workflow"
)

// verifyFormats are verify's outputs: for people, for machines, for
// GitHub Actions annotations, and for code scanning.
var verifyFormats = []string{"text", "json", "github", "sarif"}

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "check sources against the lock, and the lock against registries",
		ArgsUsage: "[PATH...]",
		Description: help("verify reports every finding at once: a reference the lock lacks, a pinned digest that\n"+
			"differs from it, an entry no source uses (offline); a tag that moved or vanished, a\n"+
			"locked platform that is gone (online, one HEAD per image). Each says what to run next.",
			[]string{
				"imagelock verify",
				"imagelock verify ./deploy --offline",
				"imagelock verify --format github    # annotations in a GitHub Actions log",
			},
			"0 the lock holds; 1 a finding fails it (with --strict, updates and warnings too);\n"+
				"2 verify could not check (unreadable input, registry unreachable)."),
		Flags: append([]cli.Flag{
			lockfileFlag(),
			platformFlag(),
			formatFlag(verifyFormats...),
			&cli.BoolFlag{Name: "offline", Usage: "check sources against the lock only; no network"},
			&cli.BoolFlag{Name: "strict", Usage: "fail on available updates and warnings too"},
			&cli.BoolFlag{Name: "signatures", Usage: "check that each signature the lock records is still in the registry and verifies"},
		}, networkFlags()...),
		Action: func(ctx context.Context, c *cli.Command) error {
			o, err := options(c)
			if err != nil {
				return err
			}
			if !c.Bool("offline") {
				if o.Resolver, err = resolver(c, o); err != nil {
					return err
				}
				o.Signatures = signatures(o.Resolver)
			}
			res, err := workflow.Verify(ctx, o, workflow.VerifyOptions{Offline: c.Bool("offline"), Signatures: c.Bool("signatures")})
			if err != nil {
				return err
			}
			strict := c.Bool("strict")
			printWarningsFor(c.Root().ErrWriter, c.String("format"), res.Warnings)
			return renderChecked(c, o, verifyChecked(res, strict), newVerifyReport(res, o.Lockfile, strict), res.Failed(strict))
		},
	}
}

// verifyReport is verify's text and JSON output.
type verifyReport struct {
	header
	// OK is the verdict: false exactly when verify exits 1.
	OK bool `json:"ok"`
	*workflow.VerifyResult
	Warnings []warningJSON `json:"warnings"`
	lockfile string
	strict   bool
}

func newVerifyReport(res *workflow.VerifyResult, lockfile string, strict bool) verifyReport {
	r := *res
	r.Findings = list(r.Findings)
	return verifyReport{header: newHeader("verify"), OK: !res.Failed(strict), VerifyResult: &r,
		Warnings: warningsJSON(res.Warnings), lockfile: lockfile, strict: strict}
}

// text shows each finding with both values of a mismatch aligned, as
// go.sum's errors do, then a one-line verdict.
func (r verifyReport) text(w io.Writer) error {
	for _, f := range r.Findings {
		pos := fileerr.At(printable(f.File), f.Line, f.Col)
		label := ""
		if f.Severity == workflow.Notice {
			label = "update available: "
		}
		head, rest, _ := strings.Cut(findingText(f, r.lockfile), "\n")
		fmt.Fprintf(w, "%s: %s%s\n%s\n", pos, label, head, indent(rest, "    "))
	}
	_, err := fmt.Fprintln(w, verdict(r.VerifyResult, r.strict))
	return err
}

// verifyChecked is verify's result in the shape every format prints.
func verifyChecked(res *workflow.VerifyResult, strict bool) checked {
	return checked{findings: res.Findings, warnings: res.Warnings, verdict: verdict(res, strict)}
}

// severities counts the findings that fail a check and the notices.
func severities(fs []workflow.Finding) (failures, notices int) {
	for _, f := range fs {
		if f.Severity == workflow.Notice {
			notices++
		} else {
			failures++
		}
	}
	return failures, notices
}

// verdict is the last line of verify's text and github output.
func verdict(res *workflow.VerifyResult, strict bool) string {
	failures, notices := severities(res.Findings)
	mode := "online"
	if !res.Online {
		mode = "offline"
	}
	warned := ""
	if strict && len(res.Warnings) > 0 {
		warned = plural(len(res.Warnings), "warning", "warnings") + ", which --strict fails on"
	}
	switch {
	case failures > 0 && warned != "":
		return fmt.Sprintf("verify failed (%s): %s, %s, %s", mode, plural(failures, "problem", "problems"), plural(notices, "update available", "updates available"), warned)
	case failures > 0:
		return fmt.Sprintf("verify failed (%s): %s, %s", mode, plural(failures, "problem", "problems"), plural(notices, "update available", "updates available"))
	case warned != "":
		return fmt.Sprintf("verify failed (%s): %s", mode, warned)
	case notices > 0:
		return fmt.Sprintf("verify ok (%s), %s: %s, %s", mode, plural(notices, "update available", "updates available"), plural(res.Refs, "reference", "references"), plural(res.Images, "image", "images"))
	default:
		return fmt.Sprintf("verify ok (%s): %s, %s", mode, plural(res.Refs, "reference", "references"), plural(res.Images, "image", "images"))
	}
}
