package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

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
			&cli.StringFlag{Name: "summary", Usage: "write a Markdown summary fit for a pull-request body to `FILE`"},
		),
		Action: func(c *cli.Context) error {
			o, err := options(c)
			if err != nil {
				return err
			}
			if o.Resolver, err = resolver(c, o); err != nil {
				return err
			}
			uo := workflow.UpdateOptions{Images: c.StringSlice("image"), Summary: c.String("summary")}
			if uo.Summary != "" && !filepath.IsAbs(uo.Summary) {
				uo.Summary = filepath.Join(defaultDir(o.Dir), uo.Summary)
			}
			res, err := workflow.Update(c.Context, o, uo)
			if err != nil {
				return err
			}
			printWarnings(c.App.ErrWriter, res.Warnings)
			if c.String("format") == "json" {
				return writeJSON(c.App.Writer, updateJSON(res))
			}
			printUpdate(c.App.Writer, res)
			return nil
		},
	}
}

// updateJSON is the result for bots: empty lists rather than null, and
// the re-pinned files by name.
func updateJSON(res *workflow.UpdateResult) any {
	out := struct {
		*workflow.UpdateResult
		Changes  []workflow.ImageChange `json:"changes"`
		Added    []string               `json:"added"`
		Removed  []string               `json:"removed"`
		Repinned []string               `json:"repinned"`
	}{UpdateResult: res, Changes: res.Changes, Added: res.Added, Removed: res.Removed, Repinned: []string{}}
	if out.Changes == nil {
		out.Changes = []workflow.ImageChange{}
	}
	if out.Added == nil {
		out.Added = []string{}
	}
	if out.Removed == nil {
		out.Removed = []string{}
	}
	for _, f := range res.Repinned {
		out.Repinned = append(out.Repinned, f.File)
	}
	return out
}

// printUpdate names each entry changed, with its digests and platforms,
// then each added (+) and removed (-), the sources re-pinned, and a
// verdict.
func printUpdate(w io.Writer, res *workflow.UpdateResult) {
	for _, ch := range res.Changes {
		if ch.Old == ch.New {
			fmt.Fprintf(w, "%s\n    digest: %s (unchanged; the index was fetched again for more platforms)\n", ch.Image, ch.New)
		} else {
			fmt.Fprintf(w, "%s\n    old: %s\n    new: %s\n", ch.Image, ch.Old, ch.New)
		}
		if ch.PinnedAt != "" {
			fmt.Fprintf(w, "    pinned in %s\n", printable(ch.PinnedAt))
		}
		for _, x := range []struct {
			what      string
			platforms []string
		}{{"changed", ch.PlatformsChanged}, {"added", ch.PlatformsAdded}, {"removed", ch.PlatformsRemoved}} {
			if len(x.platforms) > 0 {
				fmt.Fprintf(w, "    platforms %s: %s\n", x.what, strings.Join(x.platforms, ", "))
			}
		}
		if ch.SameImages {
			fmt.Fprintln(w, "    same images: the index was re-published; builds do not change")
		}
	}
	for _, k := range res.Added {
		fmt.Fprintf(w, "  + %s\n", k)
	}
	for _, k := range res.Removed {
		fmt.Fprintf(w, "  - %s\n", k)
	}
	for _, f := range res.Repinned {
		fmt.Fprintf(w, "re-pinned %s\n", printable(f.File))
	}
	var ar []string
	if n := len(res.Added); n > 0 {
		ar = append(ar, fmt.Sprintf("%d added", n))
	}
	if n := len(res.Removed); n > 0 {
		ar = append(ar, fmt.Sprintf("%d removed", n))
	}
	switch {
	case len(res.Changes) == 0 && len(ar) == 0:
		fmt.Fprintf(w, "%s is up to date: no tag moved\n", res.Lockfile)
	case len(res.Changes) == 0:
		fmt.Fprintf(w, "updated %s: no tag moved (%s)\n", res.Lockfile, strings.Join(ar, ", "))
	case len(ar) == 0:
		fmt.Fprintf(w, "updated %s: %s\n", res.Lockfile, plural(len(res.Changes), "image", "images"))
	default:
		fmt.Fprintf(w, "updated %s: %s (%s)\n", res.Lockfile, plural(len(res.Changes), "image", "images"), strings.Join(ar, ", "))
	}
}
