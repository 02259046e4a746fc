package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMain(m *testing.M) {
	if spawning() {
		os.Exit(spawnMain())
	}
	os.Exit(m.Run())
}

// TestBench runs the whole benchmark at a tiny size: the binary builds,
// every run succeeds, and the re-lock makes no request. The faults
// run meets each fault: of its 14 manifest requests (12 HEADs, 2 index
// GETs), the 1st and 11th answer 429, the 2nd 503, the 3rd drops.
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
		"lock (nothing new)",
		"scan: verify --offline",
		"lock (faults): 4 faults injected: 2 × 429 (Retry-After: 1), 1 × 503, 1 dropped connections",
		"imagelock verify / the floor (",
		"imagelock list / the minimal walker: wall ",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
}

// TestBenchWorlds runs the tiny benchmark behind a token server and over
// TLS with HTTP/2: in the token world, the cold lock asks for every
// repository's scope once, in fewer token requests than repositories.
func TestBenchWorlds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		world string
		want  []string
	}{
		{worldToken, []string{"world: " + worlds[worldToken], "seeded 12 keys (2 two-platform indexes) on 2 registries"}},
		{worldTLS, []string{"world: " + worlds[worldTLS], "seeded 12 keys (2 two-platform indexes) on 1 registries"}},
	} {
		t.Run(tc.world, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			args := []string{"-keys", "12", "-files", "8", "-latency", "1ms", "-scan-files", "20", "-runs", "1", "-world", tc.world}
			if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
				t.Fatalf("bench exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
			}
			for _, want := range tc.want {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, stdout.String())
				}
			}
			if tc.world != worldToken {
				return
			}
			// 12 keys in 12 repositories (plan's team%02d/svc%04d), 6 per registry name.
			m := regexp.MustCompile(`lock \(cold\): (\d+) token requests for (\d+) repository scopes`).FindStringSubmatch(stdout.String())
			if m == nil {
				t.Fatalf("no token line for the cold lock:\n%s", stdout.String())
			}
			if m[2] != "12" {
				t.Errorf("cold lock asked for %s scopes, want 12 (each repository once)", m[2])
			}
			if n, _ := strconv.Atoi(m[1]); n >= 12 {
				t.Errorf("cold lock made %d token requests for 12 repositories, want fewer", n)
			}
		})
	}
}

// TestProxyTokens plays the token world's handshake against the proxy.
func TestProxyTokens(t *testing.T) {
	t.Parallel()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer backend.Close()
	target, err := url.Parse(backend.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(target, 0, true)
	srv := httptest.NewServer(p)
	defer srv.Close()
	do := func(method, path, token string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp
	}
	if resp := do("GET", "/v2/", ""); resp.StatusCode != http.StatusUnauthorized ||
		!strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Bearer realm="`+srv.URL+`/token",service="bench"`) {
		t.Errorf("ping: %s %q, want 401 with the token realm", resp.Status, resp.Header.Get("WWW-Authenticate"))
	}
	req, _ := http.NewRequest("GET", srv.URL+"/token?service=bench&scope=repository:a/b:pull&scope=repository:c:pull", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, tc := range []struct {
		path, token string
		want        int
	}{
		{"/v2/a/b/manifests/1", tok.Token, http.StatusOK},
		{"/v2/c/manifests/1", tok.Token, http.StatusOK},
		{"/v2/d/manifests/1", tok.Token, http.StatusUnauthorized},
		{"/v2/a/b/manifests/1", "", http.StatusUnauthorized},
	} {
		if resp := do("HEAD", tc.path, tc.token); resp.StatusCode != tc.want {
			t.Errorf("HEAD %s with %q: %s, want %d", tc.path, tc.token, resp.Status, tc.want)
		}
	}
	got := p.reset()
	if got.counts[kindToken] != 1 || got.scopes != 2 {
		t.Errorf("%d token requests for %d scopes, want 1 for 2", got.counts[kindToken], got.scopes)
	}
}

func TestRunRefusesBadFlags(t *testing.T) {
	t.Parallel()
	for name, args := range map[string][]string{
		"zero keys":      {"-keys", "0"},
		"argument":       {"extra"},
		"unknown flag":   {"-nope"},
		"negative wait":  {"-latency", "-1s"},
		"negative fault": {"-fault-503", "-1"},
		"unknown world":  {"-world", "moon"},
		"no docker-lock": {"-docker-lock", "/nonexistent/docker-lock"},
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

func TestCheckNoRequest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		counts map[string]int
		ok     bool
	}{
		{"as promised", map[string]int{}, true},
		{"a ping", map[string]int{kindPing: 1}, false},
		{"a HEAD", map[string]int{kindHead: 1}, false},
		{"a manifest GET", map[string]int{kindManifest: 1}, false},
		{"a token", map[string]int{kindToken: 1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := checkNoRequest(result{tally: tally{counts: tc.counts}}); (err == nil) != tc.ok {
				t.Errorf("checkNoRequest = %v, want ok %t", err, tc.ok)
			}
		})
	}
}

func TestPickFault(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		faults   faults
		requests []string
		want     []string
	}{
		{
			name:     "defaults: the first three fail, then 1 in 10 answers 429",
			faults:   faults{tooMany: 10, unavailable: 20, drop: 50},
			requests: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"},
			want:     []string{fault429, fault503, faultDrop, "", "", "", "", "", "", "", fault429, ""},
		},
		{
			name:     "a retry always passes",
			faults:   faults{tooMany: 1},
			requests: []string{"a", "a", "b", "a", "b"},
			want:     []string{fault429, "", fault429, "", ""},
		},
		{
			name:     "429 wins, then 503, where faults fall on one request",
			faults:   faults{tooMany: 2, unavailable: 1, drop: 1},
			requests: []string{"a", "b", "c", "d"},
			want:     []string{fault429, fault503, fault429, fault503},
		},
		{
			name:     "off",
			requests: []string{"a", "b", "c"},
			want:     []string{"", "", ""},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newProxy(&url.URL{}, 0, false)
			p.setFaults(tc.faults)
			var got []string
			for _, id := range tc.requests {
				got = append(got, p.pickFault(id))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("faults (-want +got):\n%s", diff)
			}
		})
	}
}

// The proxy's faults reach the client as a 429 with Retry-After, a 503
// and a closed connection, and the retry of each passes through.
func TestProxyFaults(t *testing.T) {
	t.Parallel()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer backend.Close()
	target, err := url.Parse(backend.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(target, 0, false)
	p.setFaults(faults{tooMany: 10, unavailable: 20, drop: 50})
	srv := httptest.NewServer(p)
	defer srv.Close()
	// A fresh connection per request: net/http would otherwise resend
	// the dropped request on its own.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for i, want := range []string{"429 Too Many Requests, Retry-After 1", "503 Service Unavailable, Retry-After ", "EOF", "200 OK, Retry-After "} {
		url := fmt.Sprintf("%s/v2/team/app/manifests/%d", srv.URL, i)
		resp, err := client.Head(url)
		got := ""
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("HEAD %s: %v", url, err)
			}
			got = "EOF"
		} else {
			resp.Body.Close()
			got = resp.Status + ", Retry-After " + resp.Header.Get("Retry-After")
		}
		if got != want {
			t.Errorf("HEAD %s: %s, want %s", url, got, want)
		}
		if resp, err := client.Head(url); err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("retrying HEAD %s: %v %v, want 200 OK", url, resp, err)
		}
	}
	got := p.reset()
	wantInjected := map[injection]int{{fault429, kindHead}: 1, {fault503, kindHead}: 1, {faultDrop, kindHead}: 1}
	if diff := cmp.Diff(wantInjected, got.injected); diff != "" {
		t.Errorf("injected (-want +got):\n%s", diff)
	}
	if n := got.counts[kindHead]; n != 8 {
		t.Errorf("%d HEADs counted, want 8", n)
	}
}

func TestCheckFaults(t *testing.T) {
	t.Parallel()
	hosts := []string{"127.0.0.1:1", "localhost:1"}
	pings := map[string]int{"127.0.0.1:1": 1, "localhost:1": 1}
	injected := map[injection]int{{fault429, kindHead}: 2, {faultDrop, kindHead}: 1, {fault503, kindManifest}: 1}
	for _, tc := range []struct {
		name   string
		counts map[string]int
		ok     bool
	}{
		{"one retry per fault", map[string]int{kindPing: 2, kindHead: 13, kindManifest: 3}, true},
		{"a fault not retried", map[string]int{kindPing: 2, kindHead: 12, kindManifest: 3}, false},
		{"a HEAD asked twice", map[string]int{kindPing: 2, kindHead: 14, kindManifest: 3}, false},
		{"an index GET not retried", map[string]int{kindPing: 2, kindHead: 13, kindManifest: 2}, false},
		{"a blob GET", map[string]int{kindPing: 2, kindHead: 13, kindManifest: 3, kindBlob: 1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := checkFaults(result{tally: tally{counts: tc.counts, pings: pings, injected: injected}}, 10, 2, hosts)
			if (err == nil) != tc.ok {
				t.Errorf("checkFaults = %v, want ok %t", err, tc.ok)
			}
		})
	}
}

func TestCheckFloor(t *testing.T) {
	t.Parallel()
	hosts := []string{"127.0.0.1:1", "localhost:1"}
	pings := map[string]int{"127.0.0.1:1": 1, "localhost:1": 1}
	for _, tc := range []struct {
		name   string
		counts map[string]int
		pings  map[string]int
		stdout string
		tokens int
		ok     bool
	}{
		{"plain", map[string]int{kindPing: 2, kindHead: 10}, pings, "10\n", 0, true},
		{"tokens", map[string]int{kindPing: 2, kindHead: 10, kindToken: 3}, pings, "10\n", 3, true},
		{"a token too many", map[string]int{kindPing: 2, kindHead: 10, kindToken: 4}, pings, "10\n", 3, false},
		{"no token", map[string]int{kindPing: 2, kindHead: 10}, pings, "10\n", 3, false},
		{"a HEAD asked twice", map[string]int{kindPing: 2, kindHead: 11}, pings, "10\n", 0, false},
		{"a manifest GET", map[string]int{kindPing: 2, kindHead: 10, kindManifest: 1}, pings, "10\n", 0, false},
		{"two pings to one name", map[string]int{kindPing: 2, kindHead: 10}, map[string]int{"127.0.0.1:1": 2}, "10\n", 0, false},
		{"a key not verified", map[string]int{kindPing: 2, kindHead: 10}, pings, "9\n", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := checkFloor(result{stdout: []byte(tc.stdout), tally: tally{counts: tc.counts, pings: tc.pings}}, 10, hosts, tc.tokens)
			if (err == nil) != tc.ok {
				t.Errorf("checkFloor = %v, want ok %t", err, tc.ok)
			}
		})
	}
}

// floorTokens counts token requests per registry name: 60 repositories
// on a name take two requests of up to 32 scopes.
func TestFloorTokens(t *testing.T) {
	t.Parallel()
	imgs := plan(120, []string{"a", "b"})
	if n := floorTokens(worldPlain, imgs); n != 0 {
		t.Errorf("plain world: %d token requests, want 0", n)
	}
	repos := map[string]map[string]bool{}
	for _, m := range imgs {
		if repos[m.host] == nil {
			repos[m.host] = map[string]bool{}
		}
		repos[m.host][m.repo] = true
	}
	if len(repos["a"]) != 60 || len(repos["b"]) != 60 {
		t.Fatalf("plan(120) has %d and %d repositories per name, want 60 each", len(repos["a"]), len(repos["b"]))
	}
	if n := floorTokens(worldToken, imgs); n != 4 {
		t.Errorf("token world: %d token requests for 2 × 60 repositories, want 4", n)
	}
}

func TestCheckWalker(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		stdout string
		ok     bool
	}{{"400\n", true}, {"399\n", false}, {"", false}, {"four hundred", false}} {
		if err := checkWalker(result{stdout: []byte(tc.stdout)}, 400); (err == nil) != tc.ok {
			t.Errorf("checkWalker(%q) = %v, want ok %t", tc.stdout, err, tc.ok)
		}
	}
}

// checkDockerLock reads docker-lock's lock (name, tag and a digest
// without its algorithm, per Dockerfile) and wants every key once.
func TestCheckDockerLock(t *testing.T) {
	t.Parallel()
	imgs := plan(3, []string{"127.0.0.1:1"})
	for i := range imgs {
		imgs[i].digest.Algorithm = "sha256"
		imgs[i].digest.Hex = strings.Repeat(strconv.Itoa(i), 64)
	}
	entry := func(m image, hex string) string {
		return fmt.Sprintf(`{"name": %q, "tag": %q, "digest": %q}`, m.host+"/"+m.repo, m.tag, hex)
	}
	all := fmt.Sprintf(`{"dockerfiles": {"a/Dockerfile": [%s, %s], "b/Dockerfile": [%s, %s]}}`,
		entry(imgs[0], imgs[0].digest.Hex), entry(imgs[1], imgs[1].digest.Hex), entry(imgs[2], imgs[2].digest.Hex), entry(imgs[0], imgs[0].digest.Hex))
	for _, tc := range []struct {
		name, lock string
		ok         bool
	}{
		{"every key", all, true},
		{"a key missing", fmt.Sprintf(`{"dockerfiles": {"a/Dockerfile": [%s, %s]}}`, entry(imgs[0], imgs[0].digest.Hex), entry(imgs[1], imgs[1].digest.Hex)), false},
		{"a wrong digest", fmt.Sprintf(`{"dockerfiles": {"a/Dockerfile": [%s, %s, %s]}}`, entry(imgs[0], imgs[0].digest.Hex), entry(imgs[1], imgs[1].digest.Hex), entry(imgs[2], imgs[0].digest.Hex)), false},
		{"not JSON", "[", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), dockerLockFile)
			if err := os.WriteFile(p, []byte(tc.lock), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := checkDockerLock(p, imgs); (err == nil) != tc.ok {
				t.Errorf("checkDockerLock = %v, want ok %t", err, tc.ok)
			}
		})
	}
}
