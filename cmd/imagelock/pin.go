package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/imagelock/imagelock/workflow"
)

func pinCommand(name string) *cli.Command {
	usage := "write tag@digest into sources, from the lock (no network)"
	do := workflow.Pin
	if name == "unpin" {
		usage = "take digests out of sources where a tag is there to keep"
		do = workflow.Unpin
	}
	return &cli.Command{
		Name:      name,
		Usage:     usage,
		ArgsUsage: "[PATH...]",
		Flags: append(commonFlags(),
			&cli.BoolFlag{Name: "check", Usage: "write nothing; exit 1 if any source would change"},
			&cli.BoolFlag{Name: "diff", Usage: "write nothing; print a unified diff of the changes"},
		),
		Action: func(c *cli.Context) error {
			o, err := options(c)
			if err != nil {
				return err
			}
			dry := c.Bool("check") || c.Bool("diff")
			res, err := do(c.Context, o, !dry)
			if err != nil {
				return err
			}
			printWarnings(c.App.ErrWriter, res.Warnings)
			out := c.App.Writer
			if c.String("format") == "json" {
				files := []string{}
				for _, ch := range res.Changes {
					files = append(files, ch.File)
				}
				if err := writeJSON(out, map[string]any{"changed": files, "wrote": res.Wrote}); err != nil {
					return err
				}
			} else {
				for _, ch := range res.Changes {
					switch {
					case c.Bool("diff"):
						fmt.Fprint(out, ch.Diff())
					case c.Bool("check"):
						fmt.Fprintf(out, "%s: would %s\n", printable(ch.File), name)
					}
				}
				if !dry {
					fmt.Fprintf(out, "%s: %s changed, %s\n", name, plural(len(res.Changes), "file", "files"), plural(res.Refs, "reference", "references"))
				}
			}
			if c.Bool("check") && len(res.Changes) > 0 {
				return errNo
			}
			return nil
		},
	}
}
