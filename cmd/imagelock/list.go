package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/imagelock/imagelock/workflow"
)

func listCommand() *cli.Command {
	return &cli.Command{
		Name:      "list",
		Usage:     "print every image reference found: file:line:col, kind, image (no network)",
		ArgsUsage: "[PATH...]",
		Flags: append(commonFlags(),
			&cli.BoolFlag{Name: "kinds", Usage: "print the kinds of source imagelock reads, and their files, instead"},
		),
		Action: func(c *cli.Context) error {
			if c.Bool("kinds") {
				return printKinds(c.App.Writer, c.String("format"))
			}
			o, err := options(c)
			if err != nil {
				return err
			}
			res, err := workflow.List(c.Context, o)
			if err != nil {
				return err
			}
			printWarnings(c.App.ErrWriter, res.Warnings)
			if c.String("format") == "json" {
				refs := res.Refs
				if refs == nil {
					refs = []workflow.Reference{}
				}
				return writeJSON(c.App.Writer, refs)
			}
			tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
			for _, r := range res.Refs {
				fmt.Fprintf(tw, "%s:%d:%d\t%s\t%s\n", printable(r.File), r.Line, r.Col, r.Kind, printable(r.Image))
			}
			return tw.Flush()
		},
	}
}
