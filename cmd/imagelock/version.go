package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v3"
)

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version, the VCS revision and time the binary was built from, and the Go version",
		Description: help("version prints what a bug report needs: the module version ((devel) for a build from a\n"+
			"checkout), the VCS revision and time, and the Go version.",
			[]string{"imagelock version"}, "0."),
		Action: func(_ context.Context, c *cli.Command) error {
			bi, _ := debug.ReadBuildInfo()
			printVersion(c.Root().Writer, bi)
			return nil
		},
	}
}

// version is the module version the binary was built from: a tag for
// 'go install ...@v1.2.3', "(devel)" for a build from a checkout.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// printVersion writes the build information bi holds; nil when the
// binary has none.
func printVersion(w io.Writer, bi *debug.BuildInfo) {
	v := "(devel)"
	settings := map[string]string{}
	if bi != nil {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
	}
	fmt.Fprintf(w, "imagelock %s\n", v)
	if rev := settings["vcs.revision"]; rev != "" {
		if settings["vcs.modified"] == "true" {
			rev += " (modified)"
		}
		fmt.Fprintf(w, "  revision: %s\n", rev)
	}
	if t := settings["vcs.time"]; t != "" {
		fmt.Fprintf(w, "  time:     %s\n", t)
	}
	fmt.Fprintf(w, "  go:       %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
