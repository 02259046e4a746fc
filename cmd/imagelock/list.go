package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/urfave/cli/v3"

	"github.com/imagelock/imagelock/workflow"
)

func listCommand() *cli.Command {
	return &cli.Command{
		Name:      "list",
		Usage:     "print every image reference found: file:line:col, kind, image (no network)",
		ArgsUsage: "[PATH...]",
		Description: help("list prints every reference the other commands would see, in file order, with no\n"+
			"network and no lock: a way to check what imagelock reads, and what it skips.",
			[]string{
				"imagelock list",
				"imagelock list ./deploy --format json",
				"imagelock list --kinds    # the kinds of source imagelock reads",
			},
			"0 listed; 2 a source could not be read or parsed."),
		Flags: []cli.Flag{
			lockfileFlag(),
			formatFlag(),
			&cli.BoolFlag{Name: "kinds", Usage: "print the kinds of source imagelock reads, and their files, instead"},
		},
		Action: func(ctx context.Context, c *cli.Command) error {
			if c.Bool("kinds") {
				return render(c, newKindsReport())
			}
			o, err := options(c)
			if err != nil {
				return err
			}
			res, err := workflow.List(ctx, o)
			if err != nil {
				return err
			}
			printWarnings(c.Root().ErrWriter, res.Warnings)
			return render(c, listReport{header: newHeader("list"), Refs: list(res.Refs), Warnings: warningsJSON(res.Warnings)})
		},
	}
}

// listReport is list's output.
type listReport struct {
	header
	Refs     []workflow.Reference `json:"references"`
	Warnings []warningJSON        `json:"warnings"`
}

// streamJSON writes the document one reference at a time, indented as
// writeJSON's encoder indents it.
func (r listReport) streamJSON(w io.Writer) error {
	head, err := json.MarshalIndent(r.header, "", "  ")
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.Write(bytes.TrimSuffix(head, []byte("\n}")))
	b.WriteString(",\n  \"references\": ")
	if len(r.Refs) == 0 {
		b.WriteString("[]")
	} else {
		b.WriteString("[\n")
		for i, ref := range r.Refs {
			one, err := json.MarshalIndent(ref, "    ", "  ")
			if err != nil {
				return err
			}
			b.WriteString("    ")
			b.Write(one)
			if i < len(r.Refs)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
			if b.Len() > 64<<10 {
				if _, err := b.WriteTo(w); err != nil {
					return err
				}
			}
		}
		b.WriteString("  ]")
	}
	warnings, err := json.MarshalIndent(r.Warnings, "  ", "  ")
	if err != nil {
		return err
	}
	b.WriteString(",\n  \"warnings\": ")
	b.Write(warnings)
	b.WriteString("\n}\n")
	_, err = b.WriteTo(w)
	return err
}

// text prints one line per reference in aligned columns, as a tabwriter
// would, but a line at a time: a tabwriter holds every line until the
// end, hundreds of megabytes for a tree of 100,000 files.
func (r listReport) text(w io.Writer) error {
	pos := func(ref workflow.Reference) string {
		return printable(ref.File) + ":" + strconv.Itoa(ref.Line) + ":" + strconv.Itoa(ref.Col)
	}
	wPos, wKind := 0, 0
	for _, ref := range r.Refs {
		wPos = max(wPos, utf8.RuneCountInString(pos(ref)))
		wKind = max(wKind, utf8.RuneCountInString(string(ref.Kind)))
	}
	for _, ref := range r.Refs {
		p, k := pos(ref), string(ref.Kind)
		_, err := fmt.Fprintf(w, "%s%*s%s%*s%s\n", p, wPos-utf8.RuneCountInString(p)+2, "", k, wKind-utf8.RuneCountInString(k)+2, "", printable(ref.Image))
		if err != nil {
			return err
		}
	}
	return nil
}
