package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

// result is one run of the binary.
type result struct {
	wall time.Duration
	usage
	stdout []byte
	tally  // the proxy's counts
}

// row gathers the repetitions of one run for the table.
type row struct {
	name    string
	network bool
	results []result
}

func bench(ctx context.Context, c config, w io.Writer) error {
	tmp, err := os.MkdirTemp("", "imagelock-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	// imagelock, and the yardsticks it is measured against.
	build := exec.CommandContext(ctx, "go", "build", "-o", tmp+string(filepath.Separator),
		"github.com/imagelock/imagelock/cmd/imagelock", "github.com/imagelock/imagelock/bench/floor", "github.com/imagelock/imagelock/bench/walker")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building imagelock, floor and walker: %v\n%s", err, out)
	}
	// No credentials of the user's: an empty docker config.
	dockerConfig := filepath.Join(tmp, "docker")
	if err := os.Mkdir(dockerConfig, 0o755); err != nil {
		return err
	}

	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	regURL, err := url.Parse(reg.URL)
	if err != nil {
		return err
	}
	px := newProxy(regURL, c.latency, c.world == worldToken)
	ps := httptest.NewUnstartedServer(px)
	ps.Config.ConnState = px.connState
	env := append(os.Environ(), "DOCKER_CONFIG="+dockerConfig)
	var hosts []string
	if c.world == worldTLS {
		// One registry over TLS, which speaks HTTP/2 as Docker Hub and
		// GHCR do: imagelock's requests share one connection as streams.
		// httptest's certificate names 127.0.0.1 only.
		ps.EnableHTTP2 = true
		ps.StartTLS()
		ca := filepath.Join(tmp, "ca.pem")
		if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ps.Certificate().Raw}), 0o644); err != nil {
			return err
		}
		env = append(env, "SSL_CERT_FILE="+ca)
		hosts = []string{strings.TrimPrefix(ps.URL, "https://")}
		// An HTTP/2 handler cannot drop its connection, only reset its
		// stream, which is another fault: no drops in this world.
		c.faults.drop = 0
	} else {
		ps.Start()
		// Two names for the one proxy: two registries to imagelock, each
		// allowed plain HTTP.
		port := strings.TrimPrefix(ps.URL, "http://127.0.0.1:")
		hosts = []string{"127.0.0.1:" + port, "localhost:" + port}
	}
	defer ps.Close()

	imgs := plan(c.keys, hosts)
	start := time.Now()
	if err := seed(ctx, regURL.Host, imgs); err != nil {
		return fmt.Errorf("seeding the registry: %w", err)
	}
	seeded := time.Since(start)

	mono := filepath.Join(tmp, "mono")
	refs, err := writeLockTree(mono, c.files, imgs)
	if err != nil {
		return fmt.Errorf("writing the lock tree: %w", err)
	}
	scanDir := filepath.Join(tmp, "scan")
	scanRefs, err := writeScanTree(scanDir, c.scanFiles, imgs)
	if err != nil {
		return fmt.Errorf("writing the scan tree: %w", err)
	}
	// The kernel's writeback of the trees just written (hundreds of
	// megabytes at 100,000 files) would run beside the timed runs.
	syscall.Sync()

	fmt.Fprintf(w, "machine: %s; load average %s\n", machine(), loadavg())
	fmt.Fprintf(w, "seeded %d keys (%d two-platform indexes) on %d registries in %s\n",
		len(imgs), len(imgs)/indexEvery, len(hosts), seeded.Round(time.Millisecond))
	fmt.Fprintf(w, "lock tree: %d Dockerfiles, %d references; scan tree: %d files, %d references\n",
		c.files, refs, c.scanFiles, scanRefs)
	fmt.Fprintf(w, "world: %s; latency %s per request; %d runs, medians shown\n\n", worlds[c.world], c.latency, c.runs)

	floorCmd, err := floorArgs(filepath.Join(tmp, "floor-keys"), c.world, imgs)
	if err != nil {
		return err
	}
	r := runner{px: px, jobs: c.jobs, env: env}
	il := func(dir string, args ...string) func() (result, error) {
		return func() (result, error) { return r.imagelock(ctx, filepath.Join(tmp, "imagelock"), dir, args...) }
	}
	indexes := 0
	for _, m := range imgs {
		if m.index {
			indexes++
		}
	}
	monoLock := filepath.Join(mono, "images.lock")
	var (
		clean      []byte // the lock the clean cold run wrote
		verifyPeak int    // requests in flight at once in the verify run
		listed     int    // references list printed
	)
	steps := []step{
		{name: coldRow, network: true, run: il(mono, "lock"), check: func(res result) error {
			if err := checkLock(res, true, len(imgs), refs); err != nil {
				return err
			}
			var err error
			clean, err = os.ReadFile(monoLock)
			return err
		}},
		{name: "lock (nothing new)", network: true, run: il(mono, "lock"), check: func(res result) error {
			if err := checkLock(res, false, len(imgs), refs); err != nil {
				return err
			}
			return checkNoRequest(res)
		}},
		{name: verifyRow, network: true, run: il(mono, "verify"), check: func(res result) error {
			verifyPeak = res.peak
			return nil
		}},
		{name: floorRow, network: true, run: func() (result, error) {
			return r.exec(ctx, mono, filepath.Join(tmp, "floor"), slices.Concat(floorCmd, []string{"-limit", strconv.Itoa(max(1, verifyPeak))})...)
		}, check: func(res result) error {
			return checkFloor(res, len(imgs), hosts, floorTokens(c.world, imgs))
		}},
		{name: "verify --offline", run: il(mono, "verify", "--offline"), check: checkNoRequest},
		{name: "lock (faults)", network: true, run: func() (result, error) {
			if err := os.Remove(monoLock); err != nil {
				return result{}, err
			}
			px.setFaults(c.faults)
			defer px.setFaults(faults{})
			return il(mono, "lock")()
		}, check: func(res result) error {
			if err := checkLock(res, true, len(imgs), refs); err != nil {
				return err
			}
			got, err := os.ReadFile(monoLock)
			if err != nil {
				return err
			}
			if !bytes.Equal(got, clean) {
				return fmt.Errorf("the lock written through faults differs from the clean cold lock's: %s", firstDiff(got, clean))
			}
			return checkFaults(res, len(imgs), indexes, hosts)
		}},
	}
	if c.dockerLock != "" {
		steps = append(steps, dockerLockSteps(ctx, r, c.dockerLock, mono, imgs)...)
	}
	steps = append(steps,
		step{name: listRow, run: il(scanDir, "list"), check: func(res result) error {
			if err := checkNoRequest(res); err != nil {
				return err
			}
			if listed = bytes.Count(res.stdout, []byte("\n")); listed != scanRefs {
				return fmt.Errorf("listed %d references, want %d", listed, scanRefs)
			}
			return nil
		}},
		step{name: walkerRow, run: func() (result, error) {
			return r.exec(ctx, scanDir, filepath.Join(tmp, "walker"), scanDir)
		}, check: func(res result) error {
			return checkWalker(res, listed)
		}},
		step{name: "scan: lock --offline", run: il(scanDir, "lock", "--offline"), check: func(res result) error {
			if err := checkNoRequest(res); err != nil {
				return err
			}
			return checkLock(res, true, -1, scanRefs)
		}},
		step{name: "scan: verify --offline", run: il(scanDir, "verify", "--offline"), check: checkNoRequest},
	)
	rows := make([]*row, len(steps))
	for i, s := range steps {
		rows[i] = &row{name: s.name, network: s.network}
	}
	for range c.runs {
		for _, f := range []string{monoLock, filepath.Join(scanDir, "images.lock"), filepath.Join(mono, dockerLockFile)} {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		for i, s := range steps {
			res, err := s.run()
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			if s.check != nil {
				if err := s.check(res); err != nil {
					return fmt.Errorf("%s: %w", s.name, err)
				}
			}
			rows[i].results = append(rows[i].results, res)
		}
	}
	printTable(w, rows, c.latency, len(imgs))
	printFaults(w, rows)
	if c.world == worldToken {
		printTokens(w, rows)
	}
	printRatios(w, rows, c.world)
	fmt.Fprintf(w, "\nload average after: %s\n", loadavg())
	return nil
}

// step is one run of a binary in each repetition, and what its result
// must pass.
type step struct {
	name    string
	network bool // a run that talks to the registry
	run     func() (result, error)
	check   func(result) error // nil: no check
}

// runner runs binaries and reads the proxy's counters around each run.
type runner struct {
	px   *proxy
	jobs int
	env  []string
}

// imagelock runs the imagelock binary bin in dir (-C), with the bench's
// --jobs and lock's JSON output.
func (r runner) imagelock(ctx context.Context, bin, dir string, args ...string) (result, error) {
	args = append(args, "-C", dir)
	if r.jobs > 0 && !slices.Contains(args, "--offline") && args[0] != "list" {
		args = append(args, "--jobs", strconv.Itoa(r.jobs))
	}
	if args[0] == "lock" {
		args = append(args, "--format", "json")
	}
	return r.exec(ctx, dir, bin, args...)
}

// exec runs bin in dir through a spawner, so that its CPU time and peak
// RSS are its own, and counts the requests the proxy saw meanwhile.
func (r runner) exec(ctx context.Context, dir, bin string, args ...string) (result, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = r.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	peak, err := spawned(cmd)
	if err != nil {
		return result{}, err
	}
	r.px.reset()
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	t := r.px.reset()
	u, uErr := peak()
	if err != nil {
		return result{}, fmt.Errorf("running %s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, tail(stderr.String(), 10))
	}
	if uErr != nil {
		return result{}, uErr
	}
	return result{wall: wall, usage: u, stdout: stdout.Bytes(), tally: t}, nil
}

// checkLock reads lock --format json and checks it found every reference
// and (when images >= 0) locked every key, writing the lock only when
// wrote.
func checkLock(res result, wrote bool, images, refs int) error {
	var got struct { // docs/json.md, schema_version 1
		Wrote  bool `json:"wrote"`
		Refs   int  `json:"references"`
		Images int  `json:"images"`
	}
	if err := json.Unmarshal(res.stdout, &got); err != nil {
		return fmt.Errorf("reading lock's JSON output: %w", err)
	}
	switch {
	case got.Wrote != wrote:
		return fmt.Errorf("wrote the lock: %t, want %t", got.Wrote, wrote)
	case got.Refs != refs:
		return fmt.Errorf("found %d references, want %d", got.Refs, refs)
	case images >= 0 && got.Images != images:
		return fmt.Errorf("locked %d images, want %d", got.Images, images)
	}
	return nil
}

// checkFaults is the cold lock's request count through faults: one HEAD
// per key, one GET per index (every index digest is new to a cold lock),
// one ping per registry, plus one request for each fault injected and
// nothing else. The proxy fails a request only the first time it sees it
// (pickFault), so each fault is followed by exactly one more try of the
// same request, whether resolve's retries or net/http's own retry of an
// idempotent request on a dropped keep-alive connection sends it. A
// client that asked twice for a key, that retried a request that had
// succeeded, or that gave up on a fault would break the equality.
func checkFaults(res result, keys, indexes int, hosts []string) error {
	var errs []error
	for _, want := range []struct {
		kind string
		n    int
	}{{kindHead, keys}, {kindManifest, indexes}} {
		faulted := 0
		for in, n := range res.injected {
			if in.kind == want.kind {
				faulted += n
			}
		}
		if n := res.counts[want.kind]; n != want.n+faulted {
			errs = append(errs, fmt.Errorf("%d %s requests, want %d plus one per fault injected on them: %d", n, want.kind, want.n, want.n+faulted))
		}
	}
	for _, k := range []string{kindBlob, kindOther} {
		if n := res.counts[k]; n != 0 {
			errs = append(errs, fmt.Errorf("%d %s requests, want 0", n, k))
		}
	}
	return errors.Join(append(errs, checkPings(res, hosts))...)
}

// checkPings wants one ping to each registry name.
func checkPings(res result, hosts []string) error {
	want := map[string]int{}
	for _, h := range hosts {
		want[h] = 1
	}
	if !maps.Equal(res.pings, want) {
		return fmt.Errorf("pings by registry %v, want %v", res.pings, want)
	}
	return nil
}

// checkNoRequest wants no registry request at all, not even a ping: what
// an offline run means, and DESIGN.md's promise for a re-lock with
// nothing new (lock resolves only keys and digests new to the lock).
func checkNoRequest(res result) error {
	if n := total(res.counts); n != 0 {
		return fmt.Errorf("%d registry requests, want none: %v", n, res.counts)
	}
	return nil
}

func printTable(w io.Writer, rows []*row, latency time.Duration, keys int) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "run\twall\tCPU\tround trips\t")
	for _, k := range kinds {
		fmt.Fprintf(tw, "%s\t", k)
	}
	fmt.Fprint(tw, "in flight\tconns\tHEAD/key\tpeak RSS\t\n")
	for _, r := range rows {
		last := r.results[len(r.results)-1]
		wall := median(r.results, func(x result) int64 { return int64(x.wall) })
		cpu := median(r.results, func(x result) int64 { return int64(x.cpu) })
		rss := median(r.results, func(x result) int64 { return x.rss })
		trips := "-"
		if r.network && latency > 0 {
			trips = fmt.Sprintf("%.1f", float64(wall)/float64(latency))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t", r.name, time.Duration(wall).Round(time.Millisecond), time.Duration(cpu).Round(time.Millisecond), trips)
		for _, k := range kinds {
			fmt.Fprintf(tw, "%d\t", last.counts[k])
		}
		fmt.Fprintf(tw, "%d\t%d\t%.2f\t%.1f MB\t\n", last.peak, last.conns, float64(last.counts[kindHead])/float64(keys), float64(rss)/1024)
	}
	tw.Flush()
}

// printFaults says, for each run with faults, what the proxy injected in
// its last repetition.
func printFaults(w io.Writer, rows []*row) {
	for _, r := range rows {
		last := r.results[len(r.results)-1]
		by := map[string]int{}
		on := map[string]int{}
		for in, n := range last.injected {
			by[in.fault] += n
			on[in.kind] += n
		}
		if len(by) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s: %d faults injected: %d × 429 (Retry-After: 1), %d × 503, %d dropped connections; %d on %s, %d on %s\n",
			r.name, total(by), by[fault429], by[fault503], by[faultDrop], on[kindHead], kindHead, on[kindManifest], kindManifest)
	}
}

// printTokens says, for each run that asked for tokens, how many
// repository scopes its token requests carried (in its last repetition).
func printTokens(w io.Writer, rows []*row) {
	fmt.Fprintln(w)
	for _, r := range rows {
		last := r.results[len(r.results)-1]
		if n := last.counts[kindToken]; n > 0 {
			fmt.Fprintf(w, "%s: %d token requests for %d repository scopes\n", r.name, n, last.scopes)
		}
	}
}

func median(rs []result, f func(result) int64) int64 {
	v := make([]int64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// firstDiff names the first line where got and want differ.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl || i >= len(g) || i >= len(w) {
			return fmt.Sprintf("line %d is %q, want %q", i+1, gl, wl)
		}
	}
	return "no line differs"
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// machine describes where the figures come from.
func machine() string {
	cpu := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	return fmt.Sprintf("%d CPUs (%s), %s %s/%s, %s", runtime.NumCPU(), cpu, runtime.Version(),
		runtime.GOOS, runtime.GOARCH, time.Now().UTC().Format("2006-01-02"))
}

// loadavg is the 1, 5 and 15 minute load averages: on a shared machine,
// wall times above CPU times mean the runs waited for a core.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}
