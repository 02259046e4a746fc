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
		Usage:     "record every image reference in images.lock, resolving only what is new to it",
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

// lockSummary is the counts, then one line per entry added (+), changed
// (~, with where a source pins the new digest) and removed (-).
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
	var b strings.Builder
	fmt.Fprintf(&b, "wrote %s: %s", res.Lockfile, counts)
	if len(what) > 0 {
		b.WriteString(" (" + strings.Join(what, ", ") + ")")
	}
	for _, k := range res.Added {
		fmt.Fprintf(&b, "\n  + %s", k)
	}
	pinned := map[string]workflow.PinChange{}
	for _, p := range res.Pinned {
		pinned[p.Image] = p
	}
	for _, k := range res.Changed {
		fmt.Fprintf(&b, "\n  ~ %s", k)
		if p, ok := pinned[k]; ok {
			fmt.Fprintf(&b, " (pinned in %s: %s -> %s)", printable(p.At), shortDigest(p.Old), shortDigest(p.New))
		}
	}
	for _, k := range res.Removed {
		fmt.Fprintf(&b, "\n  - %s", k)
	}
	return b.String()
}
