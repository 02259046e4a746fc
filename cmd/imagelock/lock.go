package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/imagelock/imagelock/workflow"
)

func lockCommand() *cli.Command {
	return &cli.Command{
		Name:      "lock",
		Usage:     "resolve every image reference and write images.lock",
		ArgsUsage: "[PATH...]",
		Flags: append(commonFlags(),
			&cli.BoolFlag{Name: "offline", Usage: "record only references pinned in the sources; no network"},
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
			res, err := workflow.Lock(c.Context, o, c.Bool("offline"))
			if err != nil {
				return err
			}
			printWarnings(c.App.ErrWriter, res.Warnings)
			if c.String("format") == "json" {
				return writeJSON(c.App.Writer, res)
			}
			fmt.Fprintln(c.App.Writer, lockSummary(res))
			return nil
		},
	}
}

func lockSummary(res *workflow.LockResult) string {
	counts := fmt.Sprintf("%s from %s", plural(res.Images, "image", "images"), plural(res.Refs, "reference", "references"))
	if !res.Wrote {
		return fmt.Sprintf("%s is up to date: %s", res.Lockfile, counts)
	}
	var what []string
	for _, x := range []struct {
		keys []string
		verb string
	}{{res.Added, "added"}, {res.Changed, "changed"}, {res.Removed, "removed"}} {
		if len(x.keys) > 0 {
			what = append(what, fmt.Sprintf("%d %s", len(x.keys), x.verb))
		}
	}
	s := fmt.Sprintf("wrote %s: %s", res.Lockfile, counts)
	if len(what) > 0 {
		s += " (" + strings.Join(what, ", ") + ")"
	}
	return s
}
