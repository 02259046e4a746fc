package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Peak RSS needs a small parent. On Linux a child's ru_maxrss starts at
// the high-water RSS of the memory it had before exec, and Go starts
// children with vfork, sharing the parent's memory: a child of the bench
// (which holds the registry) would report the bench's RSS whenever that
// is larger than its own. So the bench re-runs itself as a spawner, a
// fresh process that has touched little memory, which runs the command
// and reports the child's peak RSS on file descriptor 3.

// spawnEnv marks the bench binary (or test binary) running as a spawner.
const spawnEnv = "IMAGELOCK_BENCH_SPAWN"

// spawning reports whether this process is a spawner.
func spawning() bool { return os.Getenv(spawnEnv) == "1" }

// spawnMain runs os.Args[1:] and writes its peak RSS in KiB and its user
// and system CPU time in microseconds to fd 3. It exits as the child did.
func spawnMain() int {
	report := os.NewFile(3, "rss")
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = without(os.Environ(), spawnEnv)
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		fmt.Fprintln(os.Stderr, "bench spawner: "+err.Error())
		return 2
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		fmt.Fprintln(report, ru.Maxrss, ru.Utime.Nano()/1e3, ru.Stime.Nano()/1e3) // Maxrss in KiB on Linux
	}
	report.Close()
	return cmd.ProcessState.ExitCode()
}

// usage is what the spawner reports of its child.
type usage struct {
	rss int64         // peak, in KiB
	cpu time.Duration // user and system
}

// spawned prepares cmd to run through a spawner; read the child's usage
// with the returned function after cmd.Wait.
func spawned(cmd *exec.Cmd) (read func() (usage, error), err error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the bench binary: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Args = append([]string{self}, append([]string{cmd.Path}, cmd.Args[1:]...)...)
	cmd.Path = self
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, spawnEnv+"=1")
	cmd.ExtraFiles = []*os.File{w}
	return func() (usage, error) {
		w.Close()
		defer r.Close()
		b, err := io.ReadAll(r)
		if err != nil {
			return usage{}, fmt.Errorf("reading the spawner's report: %w", err)
		}
		var rss, user, sys int64
		if _, err := fmt.Sscan(string(b), &rss, &user, &sys); err != nil {
			return usage{}, fmt.Errorf("reading the spawner's report %q: %w", b, err)
		}
		return usage{rss: rss, cpu: time.Duration(user+sys) * time.Microsecond}, nil
	}, nil
}

func without(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
