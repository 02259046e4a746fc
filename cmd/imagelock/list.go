package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/urfave/cli/v3"

	"github.com/imagelock/imagelock/workflow"
)

func listCommand() *cli.Command {
	return &cli.Command{
		Name:      "list",
		Usage:     "print every image reference found: file:line:col, kind, image (no network)",
		ArgsUsage: "[PATH...]",
		Description: help("list prints every reference the other commands would see, in file order, with no\n"+
			"network and no lock: a way to check what imagelock reads, and what it skips.",
			[]string{
				"imagelock list",
				"imagelock list ./deploy --format json",
				"imagelock list --kinds    # the kinds of source imagelock reads",
			},
			"0 listed; 2 a source could not be read or parsed."),
		Flags: []cli.Flag{
			lockfileFlag(),
			formatFlag(),
			&cli.BoolFlag{Name: "kinds", Usage: "print the kinds of source imagelock reads, and their files, instead"},
		},
		Action: func(ctx context.Context, c *cli.Command) error {
			if c.Bool("kinds") {
				return render(c, newKindsReport())
			}
			o, err := options(c)
			if err != nil {
				return err
			}
			res, err := workflow.List(ctx, o)
			if err != nil {
				return err
			}
			printWarnings(c.Root().ErrWriter, res.Warnings)
			return render(c, listReport{header: newHeader("list"), Refs: list(res.Refs), Warnings: warningsJSON(res.Warnings)})
		},
	}
}

// listReport is list's output.
type listReport struct {
	header
	Refs     []workflow.Reference `json:"references"`
	Warnings []warningJSON        `json:"warnings"`
}

func (r listReport) text(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, ref := range r.Refs {
		fmt.Fprintf(tw, "%s:%d:%d\t%s\t%s\n", printable(ref.File), ref.Line, ref.Col, ref.Kind, printable(ref.Image))
	}
	return tw.Flush()
}
