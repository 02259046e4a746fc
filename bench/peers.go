package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The rows the ratios compare.
const (
	coldRow          = "lock (cold)"
	verifyRow        = "verify"
	floorRow         = "verify floor"
	listRow          = "scan: list"
	walkerRow        = "scan: walker"
	dockerLockGen    = "docker-lock: generate"
	dockerLockVerify = "docker-lock: verify"
)

// dockerLockFile is the lock docker-lock writes and reads in its working
// directory.
const dockerLockFile = "docker-lock.json"

// floorScopes is how many repository scopes the floor asks in one token
// request: imagelock's batch (resolve/auth.go maxScopes).
const floorScopes = 32

// floorArgs writes the floor's keys file (every key and its digest) and
// returns the floor's arguments but -limit.
func floorArgs(path, world string, imgs []image) ([]string, error) {
	var b strings.Builder
	for _, m := range imgs {
		fmt.Fprintf(&b, "%s %s %s %s\n", m.host, m.repo, m.tag, m.digest)
	}
	scheme := "http"
	if world == worldTLS {
		scheme = "https"
	}
	return []string{"-keys", path, "-scheme", scheme, "-scopes", strconv.Itoa(floorScopes)}, os.WriteFile(path, []byte(b.String()), 0o644)
}

// floorTokens is how many token requests the floor makes: in the token
// world, one per floorScopes repositories of each registry name.
func floorTokens(world string, imgs []image) int {
	if world != worldToken {
		return 0
	}
	repos := map[string]map[string]bool{}
	for _, m := range imgs {
		if repos[m.host] == nil {
			repos[m.host] = map[string]bool{}
		}
		repos[m.host][m.repo] = true
	}
	n := 0
	for _, rs := range repos {
		n += (len(rs) + floorScopes - 1) / floorScopes
	}
	return n
}

// checkFloor wants the floor to have verified every key with exactly the
// requests verify needs: a ping per registry name, tokens, one HEAD per
// key, and nothing else.
func checkFloor(res result, keys int, hosts []string, tokens int) error {
	want := map[string]int{kindPing: len(hosts), kindHead: keys}
	if tokens > 0 {
		want[kindToken] = tokens
	}
	got := maps.Clone(res.counts)
	maps.DeleteFunc(got, func(_ string, n int) bool { return n == 0 })
	var errs []error
	if !maps.Equal(got, want) {
		errs = append(errs, fmt.Errorf("requests by kind %v, want %v", got, want))
	}
	if n, err := strconv.Atoi(strings.TrimSpace(string(res.stdout))); err != nil || n != keys {
		errs = append(errs, fmt.Errorf("verified %q keys, want %d", strings.TrimSpace(string(res.stdout)), keys))
	}
	return errors.Join(append(errs, checkPings(res, hosts))...)
}

// checkWalker wants the walker to have found as many references as list
// printed: a yardstick that skipped work would not.
func checkWalker(res result, listed int) error {
	out := strings.TrimSpace(string(res.stdout))
	if n, err := strconv.Atoi(out); err != nil || n != listed {
		return fmt.Errorf("the walker found %q references, list %d", out, listed)
	}
	return nil
}

// dockerLockSteps run docker-lock on the lock tree: a cold generate,
// then verify. It finds Dockerfiles by glob (ci.Dockerfile too) and
// looks for nothing else.
func dockerLockSteps(ctx context.Context, r runner, bin, dir string, imgs []image) []step {
	lockfile := filepath.Join(dir, dockerLockFile)
	return []step{
		{name: dockerLockGen, network: true, run: func() (result, error) {
			if err := os.Remove(lockfile); err != nil && !errors.Is(err, os.ErrNotExist) {
				return result{}, err
			}
			return r.exec(ctx, dir, bin, "lock", "generate", "--dockerfile-globs", "**/*Dockerfile",
				"--exclude-all-composefiles", "--exclude-all-kubernetesfiles")
		}, check: func(result) error {
			return checkDockerLock(lockfile, imgs)
		}},
		{name: dockerLockVerify, network: true, run: func() (result, error) {
			return r.exec(ctx, dir, bin, "lock", "verify")
		}},
	}
}

// checkDockerLock wants docker-lock's lock to hold every key with the
// digest pushed, so that its times are for the same work.
func checkDockerLock(path string, imgs []image) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var lock struct {
		Dockerfiles map[string][]struct{ Name, Tag, Digest string }
	}
	if err := json.Unmarshal(b, &lock); err != nil {
		return fmt.Errorf("reading %s: %w", dockerLockFile, err)
	}
	got := map[string]string{}
	for _, entries := range lock.Dockerfiles {
		for _, e := range entries {
			got[e.Name+":"+e.Tag] = "sha256:" + e.Digest
		}
	}
	var errs []error
	for _, m := range imgs {
		if d, ok := got[m.key()]; !ok {
			errs = append(errs, fmt.Errorf("%s: not in docker-lock's lock", m.key()))
		} else if d != m.digest.String() {
			errs = append(errs, fmt.Errorf("%s: docker-lock locked %s, want %s", m.key(), d, m.digest))
		}
	}
	if len(got) != len(imgs) {
		errs = append(errs, fmt.Errorf("docker-lock locked %d keys, want %d", len(got), len(imgs)))
	}
	if len(errs) > 3 {
		errs = append(errs[:3], fmt.Errorf("and %d more", len(errs)-3))
	}
	return errors.Join(errs...)
}

// printRatios compares imagelock's rows with the yardsticks' (medians),
// beside issue 15's targets.
func printRatios(w io.Writer, rows []*row, world string) {
	byName := map[string]*row{}
	for _, r := range rows {
		byName[r.name] = r
	}
	fmt.Fprintln(w)
	ratio := func(what, of, to, target string) {
		a, b := byName[of], byName[to]
		if a == nil || b == nil {
			return
		}
		wall := func(r *row) int64 { return median(r.results, func(x result) int64 { return int64(x.wall) }) }
		cpu := func(r *row) int64 { return median(r.results, func(x result) int64 { return int64(x.cpu) }) }
		fmt.Fprintf(w, "%s: wall %.2f× (%s / %s), CPU %.2f× (%s / %s); %s\n", what,
			float64(wall(a))/float64(wall(b)), ms(wall(a)), ms(wall(b)),
			float64(cpu(a))/float64(cpu(b)), ms(cpu(a)), ms(cpu(b)), target)
	}
	tokenTarget := func(t string) string {
		if world == worldToken {
			return "target " + t + " of the wall time"
		}
		return "issue 15's target (" + t + ") is for the token world"
	}
	ratio("imagelock lock (cold) / docker-lock generate", coldRow, dockerLockGen, tokenTarget("≤ 0.60×"))
	ratio("imagelock verify / docker-lock verify", verifyRow, dockerLockVerify, tokenTarget("≤ 0.50×"))
	if f := byName[floorRow]; f != nil {
		limits := map[int]bool{}
		for _, v := range byName[verifyRow].results {
			limits[v.peak] = true
		}
		ratio(fmt.Sprintf("imagelock verify / the floor (%v in flight)", slices.Sorted(maps.Keys(limits))), verifyRow, floorRow, "target ≤ 1.05× of the wall time at 6,000 keys")
	}
	ratio("imagelock list / the minimal walker", listRow, walkerRow, "target ≤ 2× at 10,000 files")
}

func ms(d int64) string { return time.Duration(d).Round(time.Millisecond).String() }
