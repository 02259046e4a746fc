package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/imagelock/imagelock/resolve"
	"github.com/imagelock/imagelock/rewrite"
	"github.com/imagelock/imagelock/workflow"
)

// errNo is the answer "no": verify found drift, --check found work. It
// exits 1; every other error exits 2.
var errNo = errors.New("no")

// run is the whole program: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	err := app.RunContext(ctx, args)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errNo):
		return 1
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "imagelock: interrupted; no file was written")
		return 2
	}
	// Each line is prefixed, so no text from input (a file name) can
	// start a line of its own, but the ignore list of an UnresolvedError,
	// which is there to be pasted as it is.
	var ue *workflow.UnresolvedError
	isUnresolved := errors.As(err, &ue)
	for _, line := range strings.Split(err.Error(), "\n") {
		if isUnresolved && strings.HasPrefix(line, "ignore = [") {
			fmt.Fprintln(stderr, line)
			continue
		}
		fmt.Fprintln(stderr, "imagelock: "+line)
	}
	return 2
}

func newApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:      "imagelock",
		Usage:     "lock container image tags to digests, like go.sum for images",
		Version:   version(),
		Writer:    stdout,
		ErrWriter: stderr,
		// Completion scripts (imagelock completion) ask the binary for
		// candidates with --generate-bash-completion.
		EnableBashCompletion: true,
		// Errors are mapped to exit codes in run, never here.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return fmt.Errorf("%v: see 'imagelock %s --help'", err, c.Command.Name)
		},
		Commands: []*cli.Command{
			lockCommand(),
			verifyCommand(),
			pinCommand("pin"),
			pinCommand("unpin"),
			updateCommand(),
			listCommand(),
			guardCommand(),
			versionCommand(),
			completionCommand(),
		},
	}
}

// commonFlags are the flags every command takes.
func commonFlags(formats ...string) []cli.Flag {
	if len(formats) == 0 {
		formats = []string{"text", "json"}
	}
	return []cli.Flag{
		&cli.StringFlag{Name: "C", Usage: "run as if started in `DIR`"},
		&cli.StringFlag{Name: "lockfile", Value: "images.lock", Usage: "the lock `FILE`; sources are relative to its directory"},
		&cli.StringSliceFlag{Name: "platform", Usage: "record only `os/arch[/variant]` (repeatable)"},
		&cli.StringFlag{Name: "format", Value: "text", Usage: "output format: " + strings.Join(formats, ", ")},
		&cli.IntFlag{Name: "jobs", Value: 64, Usage: "at most `N` requests at once to each registry"},
		&cli.StringSliceFlag{Name: "insecure-registry", Usage: "allow plain HTTP to `HOST` (localhost is always allowed)"},
		&cli.StringSliceFlag{Name: "registry-mirror", Usage: "resolve `REGISTRY=HOST` through a pull-through mirror, e.g. docker.io=mirror.lan:5000 (repeatable)"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "log every registry request to stderr"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress line on stderr"},
	}
}

// options reads the common flags. Paths come after the flags: a flag
// after a path would be taken for a path, so it is refused.
func options(c *cli.Context, formats ...string) (workflow.Options, error) {
	if len(formats) == 0 {
		formats = []string{"text", "json"}
	}
	if f := c.String("format"); !contains(formats, f) {
		return workflow.Options{}, fmt.Errorf("--format %s: want one of %s", f, strings.Join(formats, ", "))
	}
	for _, a := range c.Args().Slice() {
		if strings.HasPrefix(a, "-") {
			return workflow.Options{}, fmt.Errorf("flag %s after a path: put flags before paths, as in 'imagelock %s %s PATH'", a, c.Command.Name, a)
		}
	}
	for _, p := range c.StringSlice("platform") {
		if _, err := parsePlatform(p); err != nil {
			return workflow.Options{}, err
		}
	}
	return workflow.Options{
		Dir:       c.String("C"),
		Paths:     c.Args().Slice(),
		Lockfile:  c.String("lockfile"),
		Platforms: c.StringSlice("platform"),
		Env:       os.LookupEnv,
		Progress:  progressFor(c),
	}, nil
}

// resolver builds the registry client from the flags and the config.
func resolver(c *cli.Context, o workflow.Options) (resolve.Resolver, error) {
	dir := o.Dir
	if dir == "" {
		dir = "."
	}
	cfg, err := workflow.LoadConfig(configDir(dir, o.Lockfile))
	if err != nil {
		return nil, err
	}
	if n := c.Int("jobs"); n < 1 {
		return nil, fmt.Errorf("--jobs %d: want at least 1 request at a time", n)
	}
	mirrors := map[string]string{}
	for r, h := range cfg.Mirrors {
		mirrors[r] = h
	}
	for _, m := range c.StringSlice("registry-mirror") {
		r, h, ok := strings.Cut(m, "=")
		if !ok || r == "" || h == "" {
			return nil, fmt.Errorf("--registry-mirror %q: want REGISTRY=HOST, e.g. docker.io=mirror.lan:5000", m)
		}
		mirrors[r] = h
	}
	ro := resolve.Options{
		Insecure:  append(c.StringSlice("insecure-registry"), cfg.InsecureRegistries...),
		Jobs:      c.Int("jobs"),
		Mirrors:   mirrors,
		UserAgent: "imagelock/" + version(),
		Timeout:   2 * time.Minute,
	}
	if c.Bool("verbose") {
		w := c.App.ErrWriter
		ro.Logf = func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	}
	return resolve.New(ro), nil
}

func printWarnings(w io.Writer, ws []rewrite.Warning) {
	for _, x := range ws {
		fmt.Fprintln(w, "warning: "+printable(x.String()))
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
