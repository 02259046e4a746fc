package main

import (
	"context"
	"fmt"
	"io"

	"github.com/urfave/cli/v3"

	"github.com/imagelock/imagelock/workflow"
)

func pinCommand(name string) *cli.Command {
	usage := "write tag@digest into sources, from the lock (no network)"
	what := "pin writes each reference's locked digest into the sources (tag@digest), from the lock\n" +
		"alone. Nothing is written when any reference lacks a lock entry; pinning twice changes nothing."
	do := workflow.Pin
	if name == "unpin" {
		usage = "take digests out of sources where a tag is there to keep"
		what = "unpin takes the digests out of references that also name a tag, so the sources read as\n" +
			"tags again; digest-only references stay. Nothing is written when any lacks a lock entry."
		do = workflow.Unpin
	}
	return &cli.Command{
		Name:      name,
		Usage:     usage,
		ArgsUsage: "[PATH...]",
		Description: help(what,
			[]string{
				"imagelock " + name,
				"imagelock " + name + " ./deploy --diff",
				"imagelock " + name + " --check    # in CI: exit 1 if a source would change",
			},
			"0 done, or nothing to do; 1 --check found a source to change; 2 it could not be done\n"+
				"(a reference the lock lacks, an unreadable source)."),
		Flags: []cli.Flag{
			lockfileFlag(),
			formatFlag(),
			&cli.BoolFlag{Name: "check", Usage: "write nothing; exit 1 if any source would change"},
			&cli.BoolFlag{Name: "diff", Usage: "write nothing; print a unified diff of the changes"},
		},
		Action: func(ctx context.Context, c *cli.Command) error {
			o, err := options(c)
			if err != nil {
				return err
			}
			dry := c.Bool("check") || c.Bool("diff")
			res, err := do(ctx, o, !dry)
			if err != nil {
				return err
			}
			printWarnings(c.Root().ErrWriter, res.Warnings)
			if err := render(c, newEditReport(name, res, c.Bool("check"), c.Bool("diff"))); err != nil {
				return err
			}
			if c.Bool("check") && len(res.Changes) > 0 {
				return errNo
			}
			return nil
		},
	}
}

// editReport is pin's and unpin's output.
type editReport struct {
	header
	Wrote bool `json:"wrote"`
	Refs  int  `json:"references"`
	// Changed are the sources changed, or with --check or --diff, those
	// that would change.
	Changed     []string      `json:"changed"`
	Warnings    []warningJSON `json:"warnings"`
	res         *workflow.EditResult
	check, diff bool
}

func newEditReport(command string, res *workflow.EditResult, check, diff bool) editReport {
	r := editReport{header: newHeader(command), Wrote: res.Wrote, Refs: res.Refs, Changed: []string{},
		Warnings: warningsJSON(res.Warnings), res: res, check: check, diff: diff}
	for _, ch := range res.Changes {
		r.Changed = append(r.Changed, ch.File)
	}
	return r
}

// text is the diff with --diff, the files that would change with
// --check, and otherwise how many changed.
func (r editReport) text(w io.Writer) error {
	for _, ch := range r.res.Changes {
		switch {
		case r.diff:
			fmt.Fprint(w, ch.Diff(printable(ch.File)))
		case r.check:
			fmt.Fprintf(w, "%s: would %s\n", printable(ch.File), r.Command)
		}
	}
	if r.check || r.diff {
		return nil
	}
	_, err := fmt.Fprintf(w, "%s: %s changed, %s\n", r.Command, plural(len(r.Changed), "file", "files"), plural(r.Refs, "reference", "references"))
	return err
}
