package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/imagelock/imagelock/workflow"
)

func lockCommand() *cli.Command {
	return &cli.Command{
		Name:      "lock",
		Usage:     "record every image reference in images.lock, resolving only what is new to it",
		ArgsUsage: "[PATH...]",
		Description: help("lock finds every image reference under the paths (default: .), resolves the tags the lock\n"+
			"does not know yet, drops entries no source uses, and writes images.lock when it changes.\n"+
			"It never changes the digest of an entry it has: that is what update does.",
			[]string{
				"imagelock lock",
				"imagelock lock ./deploy --platform linux/amd64 --platform linux/arm64",
				"imagelock lock --offline    # only what the sources pin; no network",
			},
			"0 the lock is written or up to date; 1 a [[trust]] rule refuses an image (unsigned,\n"+
				"or signed by someone the rule does not trust); 2 it could not be (an unreadable source,\n"+
				"a tag the registry does not have, a registry that cannot be reached)."),
		Flags: append([]cli.Flag{
			lockfileFlag(),
			platformFlag(),
			formatFlag(),
			&cli.BoolFlag{Name: "offline", Usage: "record only references pinned in the sources; no network"},
		}, networkFlags()...),
		Action: func(ctx context.Context, c *cli.Command) error {
			o, err := options(c)
			if err != nil {
				return err
			}
			if !c.Bool("offline") {
				if o.Resolver, err = resolver(c, o); err != nil {
					return err
				}
				o.Signatures = signatures(o.Resolver)
			}
			res, err := workflow.Lock(ctx, o, c.Bool("offline"))
			if err != nil {
				return err
			}
			printWarnings(c.Root().ErrWriter, res.Warnings)
			return render(c, newLockReport(res))
		},
	}
}

// lockReport is lock's output: in JSON, the result with every list
// present.
type lockReport struct {
	header
	*workflow.LockResult
	Warnings []warningJSON `json:"warnings"`
}

func newLockReport(res *workflow.LockResult) lockReport {
	r := *res
	r.Added, r.Changed, r.Removed, r.Pinned = list(r.Added), list(r.Changed), list(r.Removed), list(r.Pinned)
	return lockReport{header: newHeader("lock"), LockResult: &r, Warnings: warningsJSON(res.Warnings)}
}

// text is the counts, then one line per entry added (+), changed (~,
// with where a source pins the new digest) and removed (-).
func (r lockReport) text(w io.Writer) error {
	counts := fmt.Sprintf("%s from %s", plural(r.Images, "image", "images"), plural(r.Refs, "reference", "references"))
	if !r.Wrote {
		_, err := fmt.Fprintf(w, "%s is up to date: %s\n", r.Lockfile, counts)
		return err
	}
	var what []string
	for _, x := range []struct {
		keys []string
		verb string
	}{{r.Added, "added"}, {r.Changed, "changed"}, {r.Removed, "removed"}} {
		if len(x.keys) > 0 {
			what = append(what, fmt.Sprintf("%d %s", len(x.keys), x.verb))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "wrote %s: %s", r.Lockfile, counts)
	if len(what) > 0 {
		b.WriteString(" (" + strings.Join(what, ", ") + ")")
	}
	for _, k := range r.Added {
		fmt.Fprintf(&b, "\n  + %s", k)
	}
	pinned := map[string]workflow.PinChange{}
	for _, p := range r.Pinned {
		pinned[p.Image] = p
	}
	for _, k := range r.Changed {
		fmt.Fprintf(&b, "\n  ~ %s", k)
		if p, ok := pinned[k]; ok {
			fmt.Fprintf(&b, " (pinned in %s: %s -> %s)", printable(p.At), shortDigest(p.Old), shortDigest(p.New))
		}
	}
	for _, k := range r.Removed {
		fmt.Fprintf(&b, "\n  - %s", k)
	}
	_, err := fmt.Fprintln(w, b.String())
	return err
}
