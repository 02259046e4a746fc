package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/imagelock/imagelock/resolve"
	"github.com/urfave/cli/v3"
	"golang.org/x/term"
)

// progressFor returns a progress callback that keeps one line on stderr
// up to date while registries answer ("resolving 120/600 docker.io/...");
// nil when stderr is not a terminal or with --quiet, so logs and pipes get
// nothing.
func progressFor(c *cli.Command) func(done, total int, image string) {
	f, ok := c.Root().ErrWriter.(*os.File)
	if c.Bool("quiet") || !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil || width < 20 {
		width = 80
	}
	return progressLine(f, width, time.Now)
}

// progressLine redraws at most every 100 ms, and clears the line when a
// phase is done.
func progressLine(w io.Writer, width int, now func() time.Time) func(done, total int, image string) {
	var mu sync.Mutex
	var last time.Time
	return func(done, total int, image string) {
		mu.Lock()
		defer mu.Unlock()
		if done >= total {
			fmt.Fprint(w, "\r\033[K")
			return
		}
		if t := now(); t.Sub(last) >= 100*time.Millisecond {
			last = t
			line := fmt.Sprintf("resolving %d/%d %s", done, total, image)
			if len(line) > width-1 {
				line = line[:width-1]
			}
			fmt.Fprint(w, "\r\033[K"+line)
		}
	}
}

// rateLimits reports the rate limits registries announce: each change
// with --verbose, and once per registry a warning when fewer than a tenth
// of its requests are left.
func rateLimits(w io.Writer, verbose bool) func(resolve.RateLimit) {
	warned := map[string]bool{}
	return func(l resolve.RateLimit) {
		if verbose {
			fmt.Fprintf(w, "%s: rate limit: %s\n", l.Host, l)
		}
		if l.Low() && !warned[l.Host] {
			warned[l.Host] = true
			fmt.Fprintf(w, "warning: %s: %s; run 'docker login %s' for a higher limit\n", l.Host, l, l.Host)
		}
	}
}
