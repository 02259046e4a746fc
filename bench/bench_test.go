package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	if spawning() {
		os.Exit(spawnMain())
	}
	os.Exit(m.Run())
}

// TestBench runs the whole benchmark at a tiny size: the binary builds,
// every run succeeds, and the re-lock's request counts hold.
func TestBench(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	args := []string{"-keys", "12", "-files", "8", "-latency", "1ms", "-scan-files", "200", "-runs", "1"}
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("bench exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	for _, want := range []string{
		"seeded 12 keys (2 two-platform indexes) on 2 registries",
		"scan tree: 200 files, 400 references",
		"lock (nothing moved)",
		"scan: verify --offline",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
}

func TestRunRefusesBadFlags(t *testing.T) {
	t.Parallel()
	for name, args := range map[string][]string{
		"zero keys":     {"-keys", "0"},
		"argument":      {"extra"},
		"unknown flag":  {"-nope"},
		"negative wait": {"-latency", "-1s"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
				t.Errorf("exit %d, want 2; stderr:\n%s", code, stderr.String())
			}
		})
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, method, path, want string
	}{
		{"ping", "GET", "/v2/", kindPing},
		{"head tag", "HEAD", "/v2/team/app/manifests/1.0", kindHead},
		{"get digest", "GET", "/v2/team/app/manifests/sha256:abc", kindManifest},
		{"blob", "GET", "/v2/team/app/blobs/sha256:abc", kindBlob},
		{"token", "GET", "/token", kindToken},
		{"upload", "POST", "/v2/team/app/blobs/uploads/", kindOther},
		{"catalog", "GET", "/v2/_catalog", kindOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := classify(httptest.NewRequest(tc.method, tc.path, nil)); got != tc.want {
				t.Errorf("classify(%s %s) = %q, want %q", tc.method, tc.path, got, tc.want)
			}
		})
	}
}

func TestCheckRelock(t *testing.T) {
	t.Parallel()
	hosts := []string{"127.0.0.1:1", "localhost:1"}
	pings := map[string]int{"127.0.0.1:1": 1, "localhost:1": 1}
	for _, tc := range []struct {
		name   string
		counts map[string]int
		pings  map[string]int
		ok     bool
	}{
		{"as promised", map[string]int{kindPing: 2, kindHead: 3}, pings, true},
		{"a HEAD short", map[string]int{kindPing: 2, kindHead: 2}, pings, false},
		{"a HEAD too many", map[string]int{kindPing: 2, kindHead: 4}, pings, false},
		{"a manifest GET", map[string]int{kindPing: 2, kindHead: 3, kindManifest: 1}, pings, false},
		{"a blob GET", map[string]int{kindPing: 2, kindHead: 3, kindBlob: 1}, pings, false},
		{"two pings to one host", map[string]int{kindPing: 3, kindHead: 3}, map[string]int{"127.0.0.1:1": 2, "localhost:1": 1}, false},
		{"one host never pinged", map[string]int{kindPing: 1, kindHead: 3}, map[string]int{"127.0.0.1:1": 1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := checkRelock(result{counts: tc.counts, pings: tc.pings}, 3, hosts)
			if (err == nil) != tc.ok {
				t.Errorf("checkRelock = %v, want ok %t", err, tc.ok)
			}
		})
	}
}
