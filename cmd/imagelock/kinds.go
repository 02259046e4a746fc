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

// printKinds writes the kinds imagelock reads, one a line.
func printKinds(w io.Writer, format string) error {
	if format == "json" {
		out := make([]kindJSON, len(rewrite.Kinds))
		for i, k := range rewrite.Kinds {
			out[i] = kindJSON{k.Kind, k.Name, k.Files, k.Images}
		}
		return writeJSON(w, out)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, k := range rewrite.Kinds {
		fmt.Fprintf(tw, "%s\t%s\n", k.Kind, strings.ReplaceAll(k.Files, "`", ""))
	}
	return tw.Flush()
}
