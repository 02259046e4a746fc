package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/imagelock/imagelock/workflow"
)

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "check sources against the lock, and the lock against registries",
		ArgsUsage: "[PATH...]",
		Flags: append(commonFlags(),
			&cli.BoolFlag{Name: "offline", Usage: "check sources against the lock only; no network"},
			&cli.BoolFlag{Name: "strict", Usage: "fail on available updates too (moved tags every source pins)"},
		),
		Action: func(c *cli.Context) error {
			o, err := options(c)
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
			printWarnings(c.App.ErrWriter, res.Warnings)
			if c.String("format") == "json" {
				if err := writeJSON(c.App.Writer, res); err != nil {
					return err
				}
			} else {
				printFindings(c.App.Writer, res, o.Lockfile)
			}
			if res.Failed(c.Bool("strict")) {
				return errNo
			}
			return nil
		},
	}
}

// printFindings shows each finding with both values of a mismatch
// aligned, as go.sum's errors do, then a one-line verdict.
func printFindings(w io.Writer, res *workflow.VerifyResult, lockfile string) {
	failures, notices := 0, 0
	for _, f := range res.Findings {
		pos := f.File
		if f.Line > 0 {
			pos = fmt.Sprintf("%s:%d", f.File, f.Line)
			if f.Col > 0 {
				pos = fmt.Sprintf("%s:%d", pos, f.Col)
			}
		}
		label := ""
		if f.Severity == workflow.Notice {
			label = "update available: "
			notices++
		} else {
			failures++
		}
		fmt.Fprintf(w, "%s: %s%s: %s\n", pos, label, f.Image, f.Msg)
		if f.Current != "" {
			fmt.Fprintf(w, "    %-13s%s\n", lockfile+":", f.Locked)
			fmt.Fprintf(w, "    %-13s%s\n", f.CurrentFrom+":", f.Current)
		}
		fmt.Fprintf(w, "    %s\n", f.Fix)
	}
	mode := "online"
	if !res.Online {
		mode = "offline"
	}
	switch {
	case failures > 0:
		fmt.Fprintf(w, "verify failed (%s): %s, %s\n", mode, plural(failures, "problem", "problems"), plural(notices, "update available", "updates available"))
	case notices > 0:
		fmt.Fprintf(w, "verify ok (%s), %s: %s, %s\n", mode, plural(notices, "update available", "updates available"), plural(res.Refs, "reference", "references"), plural(res.Images, "image", "images"))
	default:
		fmt.Fprintf(w, "verify ok (%s): %s, %s\n", mode, plural(res.Refs, "reference", "references"), plural(res.Images, "image", "images"))
	}
}
