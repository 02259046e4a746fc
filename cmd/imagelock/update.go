package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/imagelock/imagelock/workflow"
)

func updateCommand() *cli.Command {
	return &cli.Command{
		Name:      "update",
		Usage:     "re-resolve tags, rewrite the lock and the pinned sources, report what changed",
		ArgsUsage: "[PATH...]",
		Flags: append(commonFlags(),
			&cli.StringSliceFlag{Name: "image", Usage: "refresh only `NAME[:TAG]` (repeatable)"},
		),
		Action: func(c *cli.Context) error {
			o, err := options(c)
			if err != nil {
				return err
			}
			if o.Resolver, err = resolver(c, o); err != nil {
				return err
			}
			res, err := workflow.Update(c.Context, o, workflow.UpdateOptions{Images: c.StringSlice("image")})
			if err != nil {
				return err
			}
			printWarnings(c.App.ErrWriter, res.Warnings)
			out := c.App.Writer
			if c.String("format") == "json" {
				return writeJSON(out, res)
			}
			for _, ch := range res.Changes {
				fmt.Fprintf(out, "%s\n    old: %s\n    new: %s\n", ch.Image, ch.Old, ch.New)
			}
			for _, f := range res.Repinned {
				fmt.Fprintf(out, "re-pinned %s\n", f.File)
			}
			if len(res.Changes) == 0 {
				fmt.Fprintf(out, "%s is up to date: no tag moved\n", res.Lockfile)
			} else {
				fmt.Fprintf(out, "updated %s: %s\n", res.Lockfile, plural(len(res.Changes), "image", "images"))
			}
			return nil
		},
	}
}
