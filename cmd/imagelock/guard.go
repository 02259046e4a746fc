package main

import (
	"context"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/urfave/cli/v3"

	"github.com/imagelock/imagelock/resolve"
	"github.com/imagelock/imagelock/workflow"
)

func guardCommand() *cli.Command {
	return &cli.Command{
		Name:  "guard",
		Usage: "before a push: exit 0 if the tag is new (or already points at --digest), 1 if pushing would overwrite it",
		Description: help("guard asks the registry, with one HEAD, what REF points at. Mirrors from .imagelock.toml\n"+
			"are not used: the answer must come from where the push goes.",
			[]string{
				"imagelock guard ghcr.io/acme/app:1.4.2",
				"imagelock guard ghcr.io/acme/app:1.4.2 --digest sha256:…    # a re-push of the same image is fine",
			},
			"0 the tag does not exist, or points at exactly --digest; 1 it exists and points\n"+
				"elsewhere (or exists at all, without --digest); 2 the registry cannot be asked."),
		ArgsUsage: "REF",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "digest", Usage: "the `DIGEST` about to be pushed; the tag may already point at it"},
			formatFlag(),
			insecureFlag(),
			timeoutFlag(),
			requestTimeoutFlag(),
		},
		Action: func(ctx context.Context, c *cli.Command) error {
			if c.NArg() != 1 {
				return usagef(c, "guard takes one REF, got %d", c.NArg())
			}
			var want *v1.Hash
			if d := c.String("digest"); d != "" {
				h, err := v1.NewHash(d)
				if err != nil {
					return usagef(c, "--digest %s: want sha256:<64 hex digits>", d)
				}
				want = &h
			}
			r, err := newResolver(c, resolve.Options{Insecure: c.StringSlice("insecure-registry")})
			if err != nil {
				return err
			}
			res, err := workflow.Guard(ctx, r, c.Args().First(), want)
			if err != nil {
				return err
			}
			if err := render(c, guardReport{header: newHeader("guard"), GuardResult: res}); err != nil {
				return err
			}
			if !res.Safe {
				return errNo
			}
			return nil
		},
	}
}

// guardReport is guard's output.
type guardReport struct {
	header
	*workflow.GuardResult
}

func (r guardReport) text(w io.Writer) error {
	switch {
	case !r.Exists:
		fmt.Fprintf(w, "%s: tag does not exist; safe to push\n", r.Image)
	case r.Safe:
		fmt.Fprintf(w, "%s: already points at %s; pushing it again changes nothing\n", r.Image, r.Current)
	case r.Want != "":
		fmt.Fprintf(w, "%s: tag exists and points elsewhere; pushing would overwrite it\n", r.Image)
		fmt.Fprint(w, indent(aligned("registry", r.Current, "push", r.Want), "    "))
		fmt.Fprintln(w, "    push a new tag instead")
	default:
		fmt.Fprintf(w, "%s: tag exists, at %s; pushing would overwrite it\n", r.Image, r.Current)
		fmt.Fprintln(w, "    push a new tag instead, or pass --digest if the same image may be pushed again")
	}
	return nil
}
