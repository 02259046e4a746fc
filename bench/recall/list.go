package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// build compiles cmd/imagelock to bin. It must run inside the module.
func build(ctx context.Context, bin string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/imagelock/imagelock/cmd/imagelock")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building imagelock: %v\n%s", err, out)
	}
	return nil
}

// list runs `imagelock list --format json` in dir and returns its
// findings and warnings.
func list(ctx context.Context, bin, dir string) ([]Finding, []Warning, error) {
	cmd := exec.CommandContext(ctx, bin, "list", "--format", "json", "-q", "-C", dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, nil, fmt.Errorf("%v: %s", err, lastLines(stderr.String(), 3))
	}
	// docs/json.md: list prints {"schema_version": 1, "references": [...]}.
	var doc struct {
		SchemaVersion int       `json:"schema_version"`
		References    []Finding `json:"references"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		return nil, nil, fmt.Errorf("bad JSON: %w", err)
	}
	if doc.SchemaVersion != 1 {
		return nil, nil, fmt.Errorf("list printed schema_version %d; this program reads 1", doc.SchemaVersion)
	}
	return doc.References, parseWarnings(stderr.String()), nil
}

var warnRe = regexp.MustCompile(`^warning: (.+?):(\d+): (.*)$`)

// parseWarnings picks the `warning: FILE:LINE: msg` lines out of stderr.
func parseWarnings(stderr string) []Warning {
	var ws []Warning
	for _, l := range strings.Split(stderr, "\n") {
		if m := warnRe.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			n, _ := strconv.Atoi(m[2])
			ws = append(ws, Warning{File: m[1], Line: n, Msg: m[3]})
		}
	}
	return ws
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, " | ")
}
