package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/imagelock/imagelock/resolve"
	"github.com/imagelock/imagelock/workflow"
)

func updateCommand() *cli.Command {
	return &cli.Command{
		Name:      "update",
		Usage:     "re-resolve tags, rewrite the lock and the pinned sources, report what changed",
		ArgsUsage: "[PATH...]",
		Description: help("update is the one command that accepts moved tags: it asks the registry again for every\n"+
			"tag in scope, writes the new digests to the lock, re-pins the sources that pinned the old\n"+
			"ones, and says what changed in words fit for a pull request.",
			[]string{
				"imagelock update",
				"imagelock update --image alpine --image golang:1.26",
				"imagelock update --summary pr-body.md --format json    # for an update bot",
				"imagelock update --bump minor    # also node:20.11 -> node:20.12, golang:1.25-alpine -> golang:1.26-alpine",
			},
			"0 updated, or nothing moved; 1 a [[trust]] rule refuses a new digest (unsigned, signed\n"+
				"by someone else, or a changed signer without --accept-signer); 2 it could not be done\n"+
				"(--image names nothing in scope, a registry that cannot be reached)."),
		Flags: append([]cli.Flag{
			lockfileFlag(),
			platformFlag(),
			formatFlag(),
			&cli.StringSliceFlag{Name: "image", Usage: "refresh only `NAME[:TAG]` (repeatable)"},
			&cli.StringFlag{Name: "summary", Usage: "write a Markdown summary fit for a pull-request body to `FILE`"},
			&cli.BoolFlag{Name: "accept-signer", Usage: "take new digests signed by someone other than the locked signer (the [[trust]] rule must still accept them)"},
			&cli.StringFlag{Name: "bump", Usage: "also move tags to the newest version of their line, at most a `LEVEL` up: patch, minor or major",
				Validator: func(l string) error { _, err := resolve.ParseLevel(l); return err }},
		}, networkFlags()...),
		Action: func(ctx context.Context, c *cli.Command) error {
			o, err := options(c)
			if err != nil {
				return err
			}
			if o.Resolver, err = resolver(c, o); err != nil {
				return err
			}
			o.Signatures = signatures(o.Resolver)
			uo := workflow.UpdateOptions{Images: c.StringSlice("image"), Summary: c.String("summary"), AcceptSigner: c.Bool("accept-signer")}
			if l := c.String("bump"); l != "" {
				uo.Bump, _ = resolve.ParseLevel(l) // checked by the flag's Validator
			}
			if uo.Summary != "" && !filepath.IsAbs(uo.Summary) {
				uo.Summary = filepath.Join(defaultDir(o.Dir), uo.Summary)
			}
			res, err := workflow.Update(ctx, o, uo)
			if err != nil {
				return err
			}
			printWarnings(c.Root().ErrWriter, res.Warnings)
			return render(c, newUpdateReport(res))
		},
	}
}

// updateReport is update's output: in JSON, the result with every list
// present and the re-pinned files by name.
type updateReport struct {
	header
	*workflow.UpdateResult
	Repinned []string      `json:"repinned"`
	Warnings []warningJSON `json:"warnings"`
}

func newUpdateReport(res *workflow.UpdateResult) updateReport {
	r := *res
	r.Added, r.Removed, r.BumpSkipped, r.Held = list(r.Added), list(r.Removed), list(r.BumpSkipped), list(r.Held)
	r.Bumps = make([]workflow.TagBump, len(res.Bumps))
	for i, b := range res.Bumps {
		b.Platforms, b.Files = list(b.Platforms), list(b.Files)
		r.Bumps[i] = b
	}
	r.Changes = make([]workflow.ImageChange, len(res.Changes))
	for i, ch := range res.Changes {
		ch.PlatformsChanged, ch.PlatformsAdded, ch.PlatformsRemoved = list(ch.PlatformsChanged), list(ch.PlatformsAdded), list(ch.PlatformsRemoved)
		ch.Files = list(ch.Files)
		r.Changes[i] = ch
	}
	out := updateReport{header: newHeader("update"), UpdateResult: &r, Repinned: []string{}, Warnings: warningsJSON(res.Warnings)}
	for _, f := range res.Repinned {
		out.Repinned = append(out.Repinned, f.File)
	}
	return out
}

func (r updateReport) text(w io.Writer) error {
	printUpdate(w, r.UpdateResult)
	return nil
}

// printUpdate names each entry changed, with its digests and platforms,
// then each added (+) and removed (-), the sources re-pinned, and a
// verdict.
func printUpdate(w io.Writer, res *workflow.UpdateResult) {
	for _, b := range res.Bumps {
		fmt.Fprintf(w, "%s: %s -> %s\n", b.Image, b.Old, b.New)
		if b.OldDigest != "" {
			fmt.Fprintf(w, "    old: %s\n", b.OldDigest)
		}
		fmt.Fprintf(w, "    new: %s\n", b.NewDigest)
		if len(b.Platforms) > 0 {
			fmt.Fprintf(w, "    platforms: %s\n", strings.Join(b.Platforms, ", "))
		}
		fmt.Fprintf(w, "    in %s\n", printable(strings.Join(b.Files, ", ")))
	}
	for _, s := range res.BumpSkipped {
		fmt.Fprintf(w, "%s: %s: not moved to %s: %s\n", printable(s.At), s.Image, s.Newer, printable(s.Reason))
	}
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
		printSigner(w, ch)
	}
	printHeld(w, res.Held)
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
	var what []string
	if n := len(res.Changes); n > 0 {
		what = append(what, plural(n, "image", "images"))
	}
	if n := len(res.Bumps); n > 0 {
		what = append(what, plural(n, "tag", "tags")+" bumped")
	}
	if len(what) == 0 {
		what = []string{"no tag moved"}
	}
	switch {
	case len(res.Changes)+len(res.Bumps) == 0 && len(ar) == 0 && len(res.Held) > 0:
		fmt.Fprintf(w, "%s is up to date: %s held back by min-age\n", res.Lockfile, plural(len(res.Held), "update", "updates"))
	case len(res.Changes)+len(res.Bumps) == 0 && len(ar) == 0:
		fmt.Fprintf(w, "%s is up to date: no tag moved\n", res.Lockfile)
	case len(ar) == 0:
		fmt.Fprintf(w, "updated %s: %s\n", res.Lockfile, strings.Join(what, ", "))
	default:
		fmt.Fprintf(w, "updated %s: %s (%s)\n", res.Lockfile, strings.Join(what, ", "), strings.Join(ar, ", "))
	}
}
