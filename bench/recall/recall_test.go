package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestRecall builds imagelock and runs the whole program over
// testdata: demo (a Dockerfile, a compose file, a script imagelock does
// not read) and sampled, whose truth covers a/ only.
func TestRecall(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	args := []string{"-repos", "testdata/repos", "-truth", "testdata/truth"}
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("recall exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	for _, want := range []string{
		// demo: 5 refs and 1 warn-ok; the script's busybox is missed,
		// the FROM ${RUNTIME} warned. redis:7 is a false positive.
		"demo                                            6      5   83.3%        5      4     80.0%\n",
		// sampled: b/deploy.yaml's finding is out of scope, ignored.
		"sampled                                         2      2  100.0%        1      1    100.0% (sampled)\n",
		"TOTAL                                           8      7   87.5%        6      5     83.3%\n",
		"  missed [ref] run.sh:2 busybox:1.36 (",
		"  false positive compose.yaml:7 redis:7 (compose) [truth says not a reference: compose image of a service with build: (as if it had one)]\n",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	if stderr.Len() > 0 {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}

func TestRunRefusesBadFlags(t *testing.T) {
	t.Parallel()
	for name, args := range map[string][]string{
		"no truth":     {"-repos", "testdata/repos"},
		"no repos":     {"-truth", "testdata/truth"},
		"argument":     {"-repos", "testdata/repos", "-truth", "testdata/truth", "extra"},
		"unknown flag": {"-nope"},
		"unknown repo": {"-repos", "testdata/repos", "-truth", "testdata/truth", "-only", "demo,nope"},
		"empty truth":  {"-repos", "testdata/repos", "-truth", "testdata/repos"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
				t.Errorf("exit %d, want 2\nstderr:\n%s", code, stderr.String())
			}
		})
	}
}

// TestRecallOnly compares one repository with a given binary: a binary
// that fails counts it as nothing found, and says so.
func TestRecallOnly(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	args := []string{"-repos", "testdata/repos", "-truth", "testdata/truth", "-only", "sampled", "-bin", "false"}
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("recall exited %d\nstderr:\n%s", code, stderr.String())
	}
	for _, want := range []string{
		"sampled                                         2      0    0.0%        0      0         - (sampled) LIST ERROR\n",
		"TOTAL                                           2      0    0.0%        0      0         -\n",
		"LIST ERROR (repo counted as 0 found): exit status 1",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	if strings.Contains(stdout.String(), "demo") {
		t.Errorf("-only sampled compared demo too:\n%s", stdout.String())
	}
}
