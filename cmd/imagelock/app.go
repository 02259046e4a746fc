package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/imagelock/imagelock/resolve"
	"github.com/imagelock/imagelock/rewrite"
	"github.com/imagelock/imagelock/workflow"
)

// errNo is the answer "no": verify found drift, --check found work. It
// exits 1; every other error exits 2.
var errNo = errors.New("no")

// usageError is a command line that cannot work: a flag that is not
// defined, a value out of range, an argument too many. run prints it on
// one line, then where the help is.
type usageError struct {
	cmd string // the command's full name, e.g. "imagelock lock"
	err error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usageError for cmd.
func usagef(cmd *cli.Command, format string, args ...any) error {
	return &usageError{cmd: cmd.FullName(), err: fmt.Errorf(format, args...)}
}

// run is the whole program: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := newApp(stdout, stderr).Run(ctx, args)
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errNo):
		return 1
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "imagelock: interrupted; no file was written")
		return 2
	case errors.As(err, &ue):
		for _, line := range strings.Split(ue.Error(), "\n") {
			fmt.Fprintln(stderr, "imagelock: "+printable(line))
		}
		fmt.Fprintf(stderr, "run '%s --help' for usage\n", ue.cmd)
		return 2
	}
	// Each line is prefixed, so no text from input (a file name) can
	// start a line of its own, but the ignore list of an UnresolvedError,
	// which is there to be pasted as it is.
	var unresolved *workflow.UnresolvedError
	isUnresolved := errors.As(err, &unresolved)
	// A signature policy refusing an image is an answer, like drift.
	code := 2
	var refused *workflow.TrustError
	if errors.As(err, &refused) {
		code = 1
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if isUnresolved && strings.HasPrefix(line, "ignore = [") {
			fmt.Fprintln(stderr, line)
			continue
		}
		fmt.Fprintln(stderr, "imagelock: "+line)
	}
	return code
}

func newApp(stdout, stderr io.Writer) *cli.Command {
	app := &cli.Command{
		Name:  "imagelock",
		Usage: "lock container image tags to digests, like go.sum for images",
		Description: "Sources keep readable tags; images.lock records what every tag resolved to.\n" +
			"Flags go anywhere after the command, global ones before it too; -- ends the flags.\n" +
			"Registries are asked with docker's and podman's credentials; where they have none for\n" +
			"Amazon ECR, Google Artifact Registry or GCR, Azure ACR or ghcr.io (GITHUB_TOKEN), with\n" +
			"that cloud's own, from the environment as its credential helper finds them.\n\n" +
			exitCodes,
		Version:   version(),
		Writer:    stdout,
		ErrWriter: stderr,
		// -v is --verbose everywhere: urfave/cli leaves --version without
		// a short form when a flag of the root has taken it.
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "C", Usage: "run as if started in `DIR`"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "log every registry request, and each change of a registry's rate limit, to stderr"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress line on stderr"},
		},
		// imagelock completion bash|zsh|fish prints a script that asks
		// the binary for candidates with --generate-shell-completion.
		EnableShellCompletion: true,
		ConfigureShellCompletionCommand: func(c *cli.Command) {
			c.Hidden = false
			c.Usage = "print a shell completion script: bash, zsh, fish or pwsh"
			c.ArgsUsage = "bash|zsh|fish|pwsh"
			c.Description = help("The script asks imagelock itself for the commands and flags that fit.",
				[]string{
					"source <(imagelock completion bash)    # in ~/.bashrc",
					"source <(imagelock completion zsh)     # in ~/.zshrc",
					"imagelock completion fish > ~/.config/fish/completions/imagelock.fish",
				},
				"0 the script is printed; 2 the shell is not one of these.")
			c.OnUsageError = onUsageError
			c.Action = func(_ context.Context, c *cli.Command) error {
				if c.NArg() == 0 {
					return usagef(c, "completion takes a shell: bash, zsh, fish or pwsh")
				}
				return usagef(c, "completion %s: want one of bash, zsh, fish, pwsh", c.Args().First())
			}
		},
		// Errors are mapped to exit codes in run, never here.
		ExitErrHandler: func(context.Context, *cli.Command, error) {},
		OnUsageError:   onUsageError,
		Action: func(_ context.Context, c *cli.Command) error {
			if c.NArg() > 0 {
				return usagef(c, "unknown command %q", c.Args().First())
			}
			return cli.ShowRootCommandHelp(c)
		},
		Commands: []*cli.Command{
			lockCommand(),
			verifyCommand(),
			pinCommand("pin"),
			pinCommand("unpin"),
			updateCommand(),
			listCommand(),
			guardCommand(),
			auditCommand(),
			staleCommand(),
			versionCommand(),
		},
	}
	// Each command says what is wrong on one line, be it a flag urfave
	// refuses or a value the library does; run adds where the help is.
	for _, c := range app.Commands {
		c.OnUsageError = onUsageError
		if action := c.Action; action != nil {
			c.Action = func(ctx context.Context, c *cli.Command) error {
				err := action(ctx, c)
				var ue *workflow.UsageError
				if errors.As(err, &ue) {
					return &usageError{cmd: c.FullName(), err: err}
				}
				return err
			}
		}
	}
	return app
}

func onUsageError(_ context.Context, c *cli.Command, err error, _ bool) error {
	return &usageError{cmd: c.FullName(), err: err}
}

// exitCodes is the root help's account of the exit status.
const exitCodes = "Exit status: 0 all is well; 1 the answer is no (verify or audit found drift, --check\n" +
	"found work, guard found the tag taken, stale found a build behind its base); 2 the command\n" +
	"could not do its job (bad flags, unreadable or malformed input, registry unreachable,\n" +
	"authentication refused)."

// help is a command's description: what it does, examples, and its exit
// status.
func help(what string, examples []string, exit string) string {
	var b strings.Builder
	b.WriteString(what + "\n\nExamples:\n")
	for _, e := range examples {
		b.WriteString("   " + e + "\n")
	}
	b.WriteString("\nExit status: " + exit)
	return b.String()
}

// The flags commands share. Each command takes only those it uses: pin,
// unpin and list never ask a registry, so they take no network flags.

func lockfileFlag() cli.Flag {
	return &cli.StringFlag{Name: "lockfile", Value: "images.lock", Usage: "the lock `FILE`; sources are relative to its directory"}
}

func platformFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "platform", Usage: "record only `os/arch[/variant]` (repeatable)"}
}

func formatFlag(formats ...string) cli.Flag {
	if len(formats) == 0 {
		formats = []string{"text", "json"}
	}
	return &cli.StringFlag{
		Name: "format", Value: "text", Usage: "output `FORMAT`: " + strings.Join(formats, ", "),
		Validator: func(f string) error {
			if !contains(formats, f) {
				return fmt.Errorf("want one of %s", strings.Join(formats, ", "))
			}
			return nil
		},
	}
}

func insecureFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "insecure-registry", Usage: "allow plain HTTP to `HOST` (localhost is always allowed)"}
}

// networkFlags are the flags of the commands that ask registries.
func networkFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "jobs", Value: 256, Usage: "at most `N` requests at once to each registry; it starts at 64 and grows while the registry keeps pace, and shrinks on 429, 503 or slower answers"},
		insecureFlag(),
		&cli.StringSliceFlag{Name: "registry-mirror", Usage: "resolve `REGISTRY=HOST[/PATH]` through a pull-through mirror, e.g. docker.io=mirror.lan/dockerhub (repeatable)"},
		timeoutFlag(),
		requestTimeoutFlag(),
	}
}

func timeoutFlag() cli.Flag {
	return &cli.DurationFlag{Name: "timeout", Value: 2 * time.Minute, Usage: "give up on one image after `DURATION`, retries included"}
}

func requestTimeoutFlag() cli.Flag {
	return &cli.DurationFlag{Name: "request-timeout", Value: 30 * time.Second, Usage: "take a registry that leaves one request unanswered for `DURATION` for down"}
}

// options reads the flags every command that scans sources takes.
func options(c *cli.Command) (workflow.Options, error) {
	var platforms []string
	if hasFlag(c, "platform") {
		platforms = c.StringSlice("platform")
	}
	for _, p := range platforms {
		if err := workflow.CheckPlatform(p); err != nil {
			return workflow.Options{}, usagef(c, "--platform %v", err)
		}
	}
	return workflow.Options{
		Dir:       c.String("C"),
		Paths:     c.Args().Slice(),
		Lockfile:  c.String("lockfile"),
		Platforms: platforms,
		Env:       os.LookupEnv,
		Progress:  progressFor(c),
	}, nil
}

// hasFlag reports whether c defines the flag name.
func hasFlag(c *cli.Command, name string) bool {
	for _, f := range c.Flags {
		if contains(f.Names(), name) {
			return true
		}
	}
	return false
}

// resolver builds the registry client from the flags and the config.
func resolver(c *cli.Command, o workflow.Options) (*resolve.Registry, error) {
	cfg, err := workflow.LoadConfig(configDir(defaultDir(o.Dir), o.Lockfile))
	if err != nil {
		return nil, err
	}
	if n := c.Int("jobs"); n < 1 {
		return nil, usagef(c, "--jobs %d: want at least 1 request at a time", n)
	}
	mirrors := map[string]string{}
	for r, h := range cfg.Mirrors {
		mirrors[r] = h
	}
	for _, m := range c.StringSlice("registry-mirror") {
		r, h, ok := strings.Cut(m, "=")
		if !ok || r == "" || h == "" {
			return nil, usagef(c, "--registry-mirror %q: want REGISTRY=HOST[/PATH], e.g. docker.io=mirror.lan/dockerhub", m)
		}
		mirrors[r] = h
	}
	ro := resolve.Options{
		Insecure: append(c.StringSlice("insecure-registry"), cfg.InsecureRegistries...),
		Jobs:     c.Int("jobs"),
		Mirrors:  mirrors,
	}
	return newResolver(c, ro)
}

// signatures is what finds the signatures of images, for [[trust]]
// rules: the registry client itself.
func signatures(r resolve.Resolver) resolve.SignatureSource {
	s, _ := r.(resolve.SignatureSource)
	return s
}

// newResolver completes ro with what every registry client of the CLI
// shares: the user agent, the time limits, --verbose's log, and the
// registries' rate limits.
func newResolver(c *cli.Command, ro resolve.Options) (*resolve.Registry, error) {
	ro.UserAgent = "imagelock/" + version()
	ro.Timeout, ro.RequestTimeout = c.Duration("timeout"), c.Duration("request-timeout")
	for _, name := range []string{"timeout", "request-timeout"} {
		if d := c.Duration(name); d <= 0 {
			return nil, usagef(c, "--%s %s: want a positive duration, e.g. 30s or 2m", name, d)
		}
	}
	w := c.Root().ErrWriter
	if c.Bool("verbose") {
		ro.Logf = func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	}
	ro.RateLimit = rateLimits(w, c.Bool("verbose"))
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
