// Command bench measures imagelock against DESIGN.md's performance
// targets: lock and verify of many image keys through a proxy that adds
// an internet round trip to every request, a re-lock with nothing new
// (which must make no request), and an offline scan of a large tree.
//
//	go run ./bench [-keys 600 -files 450 -latency 50ms -scan-files 10000 -world plain|token|tls] [-docker-lock PATH]
//
// Beside imagelock it runs yardsticks: a client that makes only the
// requests verify needs (the network floor), a minimal program that
// walks and matches the scan tree, and docker-lock when given its path.
//
// A cold lock also runs through faults (429 with Retry-After, 503,
// dropped connections) and must write the same lock as a clean one.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"
)

// config is the size of a run.
type config struct {
	keys      int           // unique image keys
	files     int           // Dockerfiles referencing them
	latency   time.Duration // added to every registry request
	scanFiles int           // sources in the offline scan tree
	runs      int           // repetitions; the report gives medians
	jobs      int           // imagelock --jobs; 0 is its default
	faults    faults        // injected into the "lock (faults)" run
	world     string        // worldPlain, worldToken or worldTLS

	dockerLock string // docker-lock's binary: run it beside imagelock ("": don't)
}

// The registry worlds the bench can run in.
const (
	worldPlain = "plain"
	worldToken = "token"
	worldTLS   = "tls"
)

var worlds = map[string]string{
	worldPlain: "plain HTTP, no auth, two registry names",
	worldToken: "plain HTTP with a bearer token per repository from /token, two registry names",
	worldTLS:   "TLS with HTTP/2, no auth, one registry name",
}

func main() {
	if spawning() {
		os.Exit(spawnMain())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.IntVar(&c.keys, "keys", 600, "unique image keys")
	fs.IntVar(&c.files, "files", 450, "Dockerfiles referencing the keys")
	fs.DurationVar(&c.latency, "latency", 50*time.Millisecond, "delay the proxy adds to every request")
	fs.IntVar(&c.scanFiles, "scan-files", 10000, "files in the offline scan tree")
	fs.IntVar(&c.runs, "runs", 3, "repetitions of each run; walls and RSS are medians")
	fs.IntVar(&c.jobs, "jobs", 0, "pass --jobs `N` to imagelock (0: its default)")
	fs.IntVar(&c.faults.tooMany, "fault-429", 10, "in the faults run, answer 1 in `N` manifest requests 429 with Retry-After: 1 (0: never)")
	fs.IntVar(&c.faults.unavailable, "fault-503", 20, "in the faults run, answer 1 in `N` manifest requests 503 (0: never)")
	fs.IntVar(&c.faults.drop, "fault-drop", 50, "in the faults run, drop the connection of 1 in `N` manifest requests (0: never)")
	fs.StringVar(&c.world, "world", worldPlain, "the registry's `world`: plain, token (a token server in front) or tls (HTTP/2 over TLS)")
	fs.StringVar(&c.dockerLock, "docker-lock", "", "also run docker-lock (v0.8.10) from `path` on the same tree, proxy and world")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if c.dockerLock != "" {
		abs, err := filepath.Abs(c.dockerLock)
		if err == nil {
			_, err = os.Stat(abs)
		}
		if err != nil {
			fmt.Fprintf(stderr, "bench: -docker-lock: %v\n", err)
			return 2
		}
		c.dockerLock = abs
	}
	if _, ok := worlds[c.world]; !ok {
		fmt.Fprintf(stderr, "bench: -world %q: want plain, token or tls\n", c.world)
		return 2
	}
	if fs.NArg() > 0 || c.keys < 1 || c.files < 1 || c.scanFiles < 1 || c.runs < 1 || c.latency < 0 {
		fmt.Fprintln(stderr, "bench: want positive -keys, -files, -scan-files and -runs, and no arguments")
		return 2
	}
	if c.faults.tooMany < 0 || c.faults.unavailable < 0 || c.faults.drop < 0 {
		fmt.Fprintln(stderr, "bench: want -fault-429, -fault-503 and -fault-drop of 0 (never) or more")
		return 2
	}
	if err := bench(ctx, c, stdout); err != nil {
		fmt.Fprintln(stderr, "bench: "+err.Error())
		return 1
	}
	return 0
}
