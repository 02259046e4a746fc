package main

import (
	"encoding/json"
	"io"

	"github.com/urfave/cli/v3"

	"github.com/imagelock/imagelock/rewrite"
	"github.com/imagelock/imagelock/workflow"
)

// schemaVersion is the version of the JSON documents --format json
// prints, described in docs/json.md. It changes only when a key changes
// meaning or goes away; new keys may appear in any version.
const schemaVersion = 1

// header starts every JSON document: which contract, and which command.
type header struct {
	SchemaVersion int    `json:"schema_version"`
	Command       string `json:"command"`
}

func newHeader(command string) header {
	return header{SchemaVersion: schemaVersion, Command: command}
}

// A report is what a command prints. It marshals to the command's JSON
// document, and writes its text for people.
type report interface {
	text(w io.Writer) error
}

// renderChecked writes a checking command's result (verify, audit) in
// the --format it was given: GitHub annotations and SARIF from ch, text
// and JSON from r. It returns errNo, exit 1, when failed.
func renderChecked(c *cli.Command, o workflow.Options, ch checked, r report, failed bool) error {
	out, strict := c.Root().Writer, c.Bool("strict")
	var err error
	switch c.String("format") {
	case "github":
		printGitHub(out, ch, o.Lockfile, strict, repoPaths(o))
	case "sarif":
		err = writeSARIF(out, ch, o.Lockfile, strict, repoPaths(o))
	default:
		err = render(c, r)
	}
	if err != nil {
		return err
	}
	if failed {
		return errNo
	}
	return nil
}

// render writes r to stdout in the --format the command was given, text
// or json; renderChecked adds the checking commands' other formats.
func render(c *cli.Command, r report) error {
	w := c.Root().Writer
	if c.String("format") == "json" {
		return writeJSON(w, r)
	}
	return r.text(w)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// warningJSON is a warning of the scan, the same in every command's JSON:
// a line imagelock could not check.
type warningJSON struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

func warningsJSON(ws []rewrite.Warning) []warningJSON {
	out := make([]warningJSON, len(ws))
	for i, w := range ws {
		out[i] = warningJSON{File: w.File, Line: w.Line, Message: w.Msg}
	}
	return out
}

// list is s, or an empty list where s is nil: JSON says [], never null.
func list[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
