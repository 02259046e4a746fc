package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v3"
)

// TestCLIDoc keeps docs/cli.md what the command definitions say: run
// 'go test -run TestCLIDoc -update' after changing a command, a flag or
// a help text.
func TestCLIDoc(t *testing.T) {
	t.Parallel()
	app := newApp(io.Discard, io.Discard)
	// Running it once adds what urfave/cli adds: completion, --help.
	if err := app.Run(context.Background(), []string{"imagelock", "--help"}); err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join("..", "..", "docs", "cli.md"), []byte(cliMarkdown(app)))
}

// cliMarkdown is the reference of every command: what --help says, on
// one page.
func cliMarkdown(app *cli.Command) string {
	var b strings.Builder
	b.WriteString("# imagelock command line\n\n" +
		"<!-- Generated from the command definitions by 'go test ./cmd/imagelock -run TestCLIDoc -update'; do not edit. -->\n\n" +
		"Each section is what `imagelock COMMAND --help` prints.\n\n")
	docSection(&b, app, "imagelock [global options] COMMAND [options] [ARGS...]", "Global options")
	for _, c := range app.Commands {
		if c.Hidden || c.Name == "help" {
			continue
		}
		fmt.Fprintf(&b, "## %s\n\n", c.Name)
		docSection(&b, c, strings.TrimSpace("imagelock "+c.Name+" [options] "+c.ArgsUsage), "Options")
	}
	return b.String()
}

func docSection(b *strings.Builder, c *cli.Command, synopsis, options string) {
	fmt.Fprintf(b, "%s.\n\n```\n%s\n```\n\n", c.Usage, synopsis)
	if c.Description != "" {
		fmt.Fprintf(b, "```\n%s\n```\n\n", c.Description)
	}
	var rows []string
	for _, f := range c.Flags {
		if f.Names()[0] == "help" || f.Names()[0] == "generate-shell-completion" {
			continue
		}
		name, usage, _ := strings.Cut(fmt.Sprint(f), "\t")
		rows = append(rows, fmt.Sprintf("| `%s` | %s |", name, strings.ReplaceAll(usage, "|", `\|`)))
	}
	if len(rows) > 0 {
		fmt.Fprintf(b, "%s:\n\n| flag | |\n| --- | --- |\n%s\n\n", options, strings.Join(rows, "\n"))
	}
}
