package main

import (
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/urfave/cli/v2"

	"github.com/imagelock/imagelock/resolve"
	"github.com/imagelock/imagelock/workflow"
)

func guardCommand() *cli.Command {
	return &cli.Command{
		Name:  "guard",
		Usage: "before a push: exit 0 if the tag is new (or already points at --digest), 1 if pushing would overwrite it",
		Description: "guard asks the registry, with one HEAD, what REF points at. It exits 0 when the tag does not\n" +
			"exist, or points at exactly the --digest about to be pushed; 1 when it exists and points\n" +
			"elsewhere (or exists at all, without --digest); 2 when the registry cannot be asked.\n" +
			"Mirrors from .imagelock.toml are not used: the answer must come from where the push goes.",
		ArgsUsage: "REF",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "digest", Usage: "the `DIGEST` about to be pushed; the tag may already point at it"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "output format: text, json"},
			&cli.StringSliceFlag{Name: "insecure-registry", Usage: "allow plain HTTP to `HOST` (localhost is always allowed)"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "log every registry request to stderr"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return fmt.Errorf("guard takes one REF, got %d: see 'imagelock guard --help'", c.NArg())
			}
			if f := c.String("format"); f != "text" && f != "json" {
				return fmt.Errorf("--format %s: want one of text, json", f)
			}
			var want *v1.Hash
			if d := c.String("digest"); d != "" {
				h, err := v1.NewHash(d)
				if err != nil {
					return fmt.Errorf("--digest %s: want sha256:<64 hex digits>", d)
				}
				want = &h
			}
			ro := resolve.Options{
				Insecure:  c.StringSlice("insecure-registry"),
				UserAgent: "imagelock/" + version(),
				Timeout:   2 * time.Minute,
			}
			if c.Bool("verbose") {
				w := c.App.ErrWriter
				ro.Logf = func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
			}
			res, err := workflow.Guard(c.Context, resolve.New(ro), c.Args().First(), want)
			if err != nil {
				return err
			}
			out := c.App.Writer
			if c.String("format") == "json" {
				if err := writeJSON(out, res); err != nil {
					return err
				}
			} else {
				switch {
				case !res.Exists:
					fmt.Fprintf(out, "%s: tag does not exist; safe to push\n", res.Image)
				case res.Safe:
					fmt.Fprintf(out, "%s: already points at %s; pushing it again changes nothing\n", res.Image, res.Current)
				case res.Want != "":
					fmt.Fprintf(out, "%s: tag exists and points elsewhere; pushing would overwrite it\n", res.Image)
					fmt.Fprintf(out, "    registry: %s\n    push:     %s\n", res.Current, res.Want)
					fmt.Fprintln(out, "    push a new tag instead")
				default:
					fmt.Fprintf(out, "%s: tag exists, at %s; pushing would overwrite it\n", res.Image, res.Current)
					fmt.Fprintln(out, "    push a new tag instead, or pass --digest if the same image may be pushed again")
				}
			}
			if !res.Safe {
				return errNo
			}
			return nil
		},
	}
}
