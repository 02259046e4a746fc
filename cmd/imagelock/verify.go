package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

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
		Flags: append(commonFlags(verifyFormats...),
			&cli.BoolFlag{Name: "offline", Usage: "check sources against the lock only; no network"},
			&cli.BoolFlag{Name: "strict", Usage: "fail on available updates too (moved tags every source pins)"},
		),
		Action: func(c *cli.Context) error {
			o, err := options(c, verifyFormats...)
			if err != nil {
				return err
			}
			if !c.Bool("offline") {
				if o.Resolver, err = resolver(c, o); err != nil {
					return err
				}
			}
			res, err := workflow.Verify(c.Context, o, workflow.VerifyOptions{Offline: c.Bool("offline")})
			if err != nil {
				return err
			}
			format, strict, out := c.String("format"), c.Bool("strict"), c.App.Writer
			printWarningsFor(c.App.ErrWriter, format, res.Warnings)
			switch format {
			case "json":
				err = writeJSON(out, res)
			case "github":
				printGitHub(out, res, o.Lockfile, strict, repoPaths(o))
			case "sarif":
				err = writeSARIF(out, res, o.Lockfile, strict, repoPaths(o))
			default:
				printFindings(out, res, o.Lockfile, strict)
			}
			if err != nil {
				return err
			}
			if res.Failed(strict) {
				return errNo
			}
			return nil
		},
	}
}

// printFindings shows each finding with both values of a mismatch
// aligned, as go.sum's errors do, then a one-line verdict.
func printFindings(w io.Writer, res *workflow.VerifyResult, lockfile string, strict bool) {
	for _, f := range res.Findings {
		pos := printable(f.File)
		if f.Line > 0 {
			pos = fmt.Sprintf("%s:%d", pos, f.Line)
			if f.Col > 0 {
				pos = fmt.Sprintf("%s:%d", pos, f.Col)
			}
		}
		label := ""
		if f.Severity == workflow.Notice {
			label = "update available: "
		}
		fmt.Fprintf(w, "%s: %s%s: %s\n", pos, label, printable(f.Image), printable(f.Msg))
		if f.Current != "" {
			fmt.Fprintf(w, "    %-13s%s\n", lockfile+":", f.Locked)
			fmt.Fprintf(w, "    %-13s%s\n", f.CurrentFrom+":", f.Current)
		}
		fmt.Fprintf(w, "    %s\n", f.Fix)
	}
	fmt.Fprintln(w, verdict(res, strict))
}

// verdict is the last line of verify's text and github output.
func verdict(res *workflow.VerifyResult, strict bool) string {
	failures, notices := 0, 0
	for _, f := range res.Findings {
		if f.Severity == workflow.Notice {
			notices++
		} else {
			failures++
		}
	}
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
