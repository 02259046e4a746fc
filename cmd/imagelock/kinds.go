package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/imagelock/imagelock/rewrite"
)

// kindsMarkdown is the README's "What it reads" table, from rewrite.Kinds.
func kindsMarkdown() string {
	var b strings.Builder
	b.WriteString("| kind | files | where the images are |\n| --- | --- | --- |\n")
	for _, k := range rewrite.Kinds {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", k.Name, k.Files, k.Images)
	}
	return b.String()
}

// kindJSON is one source kind as `list --kinds --format json` prints it.
type kindJSON struct {
	Kind   rewrite.Kind `json:"kind"`
	Name   string       `json:"name"`
	Files  string       `json:"files"`
	Images string       `json:"images"`
}

// kindsReport is `list --kinds`: the kinds imagelock reads, one a line.
type kindsReport struct {
	header
	Kinds []kindJSON `json:"kinds"`
}

func newKindsReport() kindsReport {
	r := kindsReport{header: newHeader("list"), Kinds: make([]kindJSON, len(rewrite.Kinds))}
	for i, k := range rewrite.Kinds {
		r.Kinds[i] = kindJSON{k.Kind, k.Name, k.Files, k.Images}
	}
	return r
}

func (r kindsReport) text(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, k := range r.Kinds {
		fmt.Fprintf(tw, "%s\t%s\n", k.Kind, strings.ReplaceAll(k.Files, "`", ""))
	}
	return tw.Flush()
}
