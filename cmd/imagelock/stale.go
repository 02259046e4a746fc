package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v3"

	"github.com/imagelock/imagelock/workflow"
)

func staleCommand() *cli.Command {
	return &cli.Command{
		Name:      "stale",
		Usage:     "tell whether built images are still on their locked base, per platform",
		ArgsUsage: "IMAGE...",
		Description: help("stale finds each IMAGE's base (the OCI annotations org.opencontainers.image.base.name\n"+
			"and base.digest its builder wrote, else the final stage of --dockerfile) and compares\n"+
			"layers per platform: the locked base's layers must be the image's first. Each platform\n"+
			"is current (built on the locked base), behind (built on another digest of it: rebuild)\n"+
			"or unknown (no base to compare with). Run it after 'imagelock update' moved a base.",
			[]string{
				"imagelock stale ghcr.io/acme/app:1.0",
				"imagelock stale ghcr.io/acme/app:1.0 --dockerfile build/Dockerfile    # for builders that write no annotations",
				"imagelock stale ghcr.io/acme/app:1.0 || make rebuild    # in a scheduled job",
			},
			"0 no platform is behind; 1 some platform is behind its locked base; 2 stale could\n"+
				"not check (no lock, registry unreachable, an image not found)."),
		Flags: append([]cli.Flag{
			lockfileFlag(),
			&cli.StringFlag{Name: "dockerfile", Usage: "the Dockerfile `PATH` the images were built from: its final stage names the base when an image has no base annotation"},
			formatFlag(),
		}, networkFlags()...),
		Action: func(ctx context.Context, c *cli.Command) error {
			if c.NArg() == 0 {
				return usagef(c, "stale takes at least one IMAGE, e.g. ghcr.io/acme/app:1.0")
			}
			o := workflow.Options{Dir: c.String("C"), Lockfile: c.String("lockfile")}
			r, err := resolver(c, o)
			if err != nil {
				return err
			}
			res, err := workflow.Stale(ctx, o, workflow.StaleOptions{Images: c.Args().Slice(), Dockerfile: c.String("dockerfile"), Inspector: r})
			if err != nil {
				return err
			}
			if err := render(c, staleReport{header: newHeader("stale"), OK: !res.Behind(), StaleResult: res}); err != nil {
				return err
			}
			if res.Behind() {
				return errNo
			}
			return nil
		},
	}
}

// staleReport is stale's output.
type staleReport struct {
	header
	// OK is false exactly when stale exits 1: some platform is behind.
	OK bool `json:"ok"`
	*workflow.StaleResult
}

// text is one line per image and its base, then one per platform with
// its verdict, and under a platform that is behind, both digests and
// what to do.
func (r staleReport) text(w io.Writer) error {
	behind, unknown, total := 0, 0, 0
	for _, im := range r.Images {
		base := "base unknown"
		if im.Base != "" {
			base = "on " + im.Base + " (from " + im.BaseFrom + ")"
		}
		fmt.Fprintf(w, "%s: %s\n", printable(im.Image), printable(base))
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, p := range im.Platforms {
			total++
			switch p.Status {
			case workflow.StaleBehind:
				behind++
			case workflow.StaleUnknown:
				unknown++
			}
			fmt.Fprintf(tw, "    %s\t%s\t%s\n", orNone(p.Platform), p.Status, printable(p.Msg))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		// The platforms behind, grouped by the digests they show: one
		// block for an index whose platforms were all built at once.
		var order []string
		groups := map[string][]string{}
		fix := ""
		for _, p := range im.Platforms {
			if p.Status != workflow.StaleBehind {
				continue
			}
			built := p.BuiltOn
			if built == "" {
				built = "(not annotated)"
			}
			k := aligned("built on", built, "locked", p.Locked)
			if groups[k] == nil {
				order = append(order, k)
			}
			groups[k] = append(groups[k], orNone(p.Platform))
			fix = p.Fix
		}
		for _, k := range order {
			fmt.Fprintf(w, "    behind on %s:\n%s", strings.Join(groups[k], ", "), indent(k, "        "))
		}
		if fix != "" {
			fmt.Fprintf(w, "    %s\n", printable(fix))
		}
	}
	verdict := "stale ok"
	if behind > 0 {
		verdict = "stale: rebuild"
	}
	_, err := fmt.Fprintf(w, "%s: %s behind, %d unknown, of %s\n", verdict, plural(behind, "platform", "platforms"), unknown, plural(total, "platform", "platforms"))
	return err
}

func orNone(platform string) string {
	if platform == "" {
		return "(no platform)"
	}
	return platform
}
