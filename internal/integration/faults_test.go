package integration

import (
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imagelock/imagelock/internal/testregistry"
)

// Locking a large repository through a slow, rate-limiting, flaky registry
// succeeds with the same digests as a clean run. The registry has TLS and
// basic auth; imagelock reaches it through a plain-HTTP proxy on
// 127.0.0.1 (allowed without a flag), which answers some manifest
// requests 429 with Retry-After: 1 or 503, or drops their connection.
// Both runs go through the proxy, the clean one with no faults, so both
// locks name the same host:port. The runs share the proxy and its
// counters, so they run one after the other.
func TestLockThroughFaults(t *testing.T) {
	t.Parallel()
	srv := testregistry.Start(t)
	imgs := pushFaultImages(t, srv, 40)
	px, host := newFaultProxy(t, srv, "")
	env := proxyEnv(t, srv, host)

	clean := t.TempDir()
	writeFaultTree(t, clean, host, imgs, 30)
	r := imagelock(t, clean, env, "lock")
	r.want(t, 0, "lock with no faults")
	if r.stderr != "" {
		t.Errorf("lock with no faults wrote to stderr:\n%s", r.stderr)
	}
	if injected, err := px.check(); err != nil || len(injected) > 0 {
		t.Fatalf("the clean run met faults %v, or asked twice: %v", injected, err)
	}
	got := map[string]faultImage{}
	for _, im := range readLock(t, clean).Images {
		got[strings.TrimPrefix(im.Key(), host+"/")] = faultImage{digest: im.Digest, platforms: im.Platforms}
	}
	want := map[string]faultImage{}
	for _, m := range imgs {
		want[m.repoTag] = faultImage{digest: m.digest, platforms: m.platforms}
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(faultImage{})); diff != "" {
		t.Fatalf("clean images.lock (-want +got):\n%s", diff)
	}
	cleanLock, err := os.ReadFile(filepath.Join(clean, "images.lock"))
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		verbose bool
	}{
		{"quiet", false},
		{"verbose", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			px.reset(6, 8, 10)
			dir := t.TempDir()
			writeFaultTree(t, dir, host, imgs, 30)
			args := []string{"lock"}
			if tc.verbose {
				args = append(args, "--verbose")
			}
			r := imagelock(t, dir, env, args...)
			r.want(t, 0, strings.Join(args, " ")+" through faults")
			injected, err := px.check()
			if err != nil {
				t.Errorf("requests through faults:\n%v", err)
			}
			for _, f := range []string{"429", "503", "drop"} {
				if injected[f] == 0 {
					t.Errorf("no %s fault injected (%v): the test no longer exercises it", f, injected)
				}
			}
			got, err := os.ReadFile(filepath.Join(dir, "images.lock"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(cleanLock), string(got)); diff != "" {
				t.Errorf("images.lock through faults (-clean +faults):\n%s", diff)
			}

			if !tc.verbose {
				if r.stderr != "" {
					t.Errorf("without --verbose, stderr should say nothing of retries:\n%s", r.stderr)
				}
				return
			}
			// resolve logs every retry it makes; net/http may resend a
			// request whose keep-alive connection dropped before resolve
			// sees the error, so only 429s and 503s are counted exactly.
			for status, f := range map[string]string{"429 Too Many Requests": "429", "503 Service Unavailable": "503"} {
				n := 0
				for _, line := range strings.Split(r.stderr, "\n") {
					if strings.HasPrefix(line, "retrying ") && strings.HasSuffix(line, ": "+status) {
						n++
					}
				}
				if n != injected[f] {
					t.Errorf("%d retries logged after %s, want one per fault: %d\n%s", n, status, injected[f], r.stderr)
				}
			}
			auth := base64.StdEncoding.EncodeToString([]byte(srv.User + ":" + srv.Password))
			for _, secret := range []string{srv.Password, auth, "Authorization", "Basic "} {
				if strings.Contains(r.stdout+r.stderr, secret) {
					t.Errorf("--verbose output shows %q:\n%s", secret, r.stderr)
				}
			}
		})
	}
}

// An image whose manifest keeps answering 503: resolve's retries run out
// (5 tries, about 4 s of backoff at most), lock exits 2 naming the image
// and the registry's status, and writes no lock.
func TestLockGivesUpOnPersistent503(t *testing.T) {
	t.Parallel()
	srv := testregistry.Start(t)
	srv.PushImage(t, "team/fine:1")
	srv.PushImage(t, "team/broken:1")
	px, host := newFaultProxy(t, srv, "/team/broken/manifests/1")

	dir := t.TempDir()
	write(t, dir, "Dockerfile", "FROM "+host+"/team/fine:1\n")
	write(t, dir, "broken/Dockerfile", "FROM "+host+"/team/broken:1\n")
	r := imagelock(t, dir, proxyEnv(t, srv, host), "lock")
	r.want(t, 2, "lock with an image answering 503")
	var line string
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.Contains(l, host+"/team/broken:1") {
			line = l
		}
	}
	if !strings.Contains(line, "503") {
		t.Errorf("no error line names %s/team/broken:1 and the status 503:\n%s", host, r.stderr)
	}
	if strings.Contains(r.stderr, "team/fine") {
		t.Errorf("the image that resolved is reported too:\n%s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "images.lock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed lock left images.lock behind (%v)", err)
	}
	px.mu.Lock()
	asked := px.seen["HEAD /v2/team/broken/manifests/1"]
	px.mu.Unlock()
	if asked < 2 {
		t.Errorf("the 503 was asked %d times: a 503 is worth retrying", asked)
	}
}

// faultImage is one pushed image and what the lock must record of it.
type faultImage struct {
	repoTag   string
	digest    v1.Hash
	platforms map[string]v1.Hash // for an index
}

// pushFaultImages pushes n images straight to srv, every fourth a
// two-platform index, in parallel subtests of a "push" subtest.
func pushFaultImages(t *testing.T, srv *testregistry.Server, n int) []faultImage {
	t.Helper()
	imgs := make([]faultImage, n)
	t.Run("push", func(t *testing.T) {
		for i := range imgs {
			m := &imgs[i]
			m.repoTag = fmt.Sprintf("team%d/app%02d:1.%d", i%4, i, i%3)
			t.Run(m.repoTag, func(t *testing.T) {
				t.Parallel()
				if i%4 == 3 {
					m.digest, m.platforms = srv.PushIndex(t, m.repoTag, "linux/amd64", "linux/arm64/v8")
				} else {
					m.digest = srv.PushImage(t, m.repoTag)
				}
			})
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	return imgs
}

// writeFaultTree writes a repository referencing every image by tag on
// host: dockerfiles Dockerfiles under services/, each with a build stage,
// a COPY --from and a final stage, and a compose file for the rest, the
// last through a ${VAR:-default}.
func writeFaultTree(t *testing.T, dir, host string, imgs []faultImage, dockerfiles int) {
	t.Helper()
	ref := func(i int) string { return host + "/" + imgs[i%len(imgs)].repoTag }
	for i := range dockerfiles {
		write(t, dir, fmt.Sprintf("services/svc%02d/Dockerfile", i), fmt.Sprintf(
			"FROM %s AS build\nRUN make\n\nFROM %s\nCOPY --from=%s /etc/ssl/certs /etc/ssl/certs\nCOPY --from=build /out /app\n",
			ref(i), ref(i*7+1), ref(i+3)))
	}
	var b strings.Builder
	b.WriteString("services:\n")
	for i := dockerfiles; i < len(imgs); i++ {
		img := ref(i)
		if i == len(imgs)-1 {
			colon := strings.LastIndex(img, ":")
			img = img[:colon] + ":${APP_TAG:-" + img[colon+1:] + "}"
		}
		fmt.Fprintf(&b, "  app%02d:\n    image: %s\n", i, img)
	}
	write(t, dir, "compose.yaml", b.String())
}

// proxyEnv is the environment for imagelock to reach srv through the
// proxy at host: srv's credentials, filed under the proxy's address.
func proxyEnv(t *testing.T, srv *testregistry.Server, host string) []string {
	t.Helper()
	cfg := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(srv.User + ":" + srv.Password))
	write(t, cfg, "config.json", `{"auths":{"`+host+`":{"auth":"`+auth+`"}}}`)
	return []string{"DOCKER_CONFIG=" + cfg}
}

// faultProxy is a rate-limiting, flaky registry: a plain-HTTP reverse
// proxy on 127.0.0.1 in front of a test registry. Counting the manifest
// requests (HEAD and GET) it has not seen before, the n-th is answered
// 429 with Retry-After: 1 when n is 1 modulo every429, else 503 when n is
// 2 modulo every503, else its connection is dropped when n is 3 modulo
// everyDrop (0: never). A request seen before, a retry, passes: every
// fault costs one more request, and no image fails for bad luck. A
// manifest path ending in broken answers 503 every time.
type faultProxy struct {
	next   *httputil.ReverseProxy
	broken string

	mu                            sync.Mutex
	every429, every503, everyDrop int
	seen                          map[string]int    // manifest requests by method and path: times asked
	faulted                       map[string]string // the fault each request met, if one did
	injected                      map[string]int    // by fault: "429", "503", "drop"
}

// newFaultProxy starts a proxy to srv, with no faults yet, and returns it
// and its host:port.
func newFaultProxy(t *testing.T, srv *testregistry.Server, broken string) (*faultProxy, string) {
	t.Helper()
	target, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{
		next: &httputil.ReverseProxy{
			Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(target) },
			Transport: srv.Transport(),
		},
		broken: broken,
	}
	p.reset(0, 0, 0)
	ps := httptest.NewServer(p)
	t.Cleanup(ps.Close)
	return p, strings.TrimPrefix(ps.URL, "http://")
}

// reset forgets every request and sets the faults from now on.
func (p *faultProxy) reset(every429, every503, everyDrop int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.every429, p.every503, p.everyDrop = every429, every503, everyDrop
	p.seen, p.faulted, p.injected = map[string]int{}, map[string]string{}, map[string]int{}
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch p.pick(r) {
	case "429":
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many requests", http.StatusTooManyRequests)
	case "503":
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
	case "drop":
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	default:
		p.next.ServeHTTP(w, r)
	}
}

// pick returns the fault r meets, or "" to pass it on.
func (p *faultProxy) pick(r *http.Request) string {
	if !strings.Contains(r.URL.Path, "/manifests/") {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	id := r.Method + " " + r.URL.Path
	p.seen[id]++
	switch {
	case p.broken != "" && strings.HasSuffix(r.URL.Path, p.broken):
		return "503"
	case p.seen[id] > 1:
		return ""
	}
	n := len(p.seen)
	var fault string
	switch {
	case p.every429 > 0 && n%p.every429 == 1%p.every429:
		fault = "429"
	case p.every503 > 0 && n%p.every503 == 2%p.every503:
		fault = "503"
	case p.everyDrop > 0 && n%p.everyDrop == 3%p.everyDrop:
		fault = "drop"
	default:
		return ""
	}
	p.faulted[id] = fault
	p.injected[fault]++
	return fault
}

// check returns the faults injected since reset, and an error unless
// every faulted request was asked exactly twice (one retry) and every
// other exactly once.
func (p *faultProxy) check() (map[string]int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for id, n := range p.seen {
		want := 1
		if p.faulted[id] != "" {
			want = 2
		}
		if n != want {
			errs = append(errs, fmt.Errorf("%s asked %d times, want %d (fault %q)", id, n, want, p.faulted[id]))
		}
	}
	return maps.Clone(p.injected), errors.Join(errs...)
}

// A registry that refuses connections costs one error line naming the host
// and how many images it failed, not one line per image, and exit 2.
func TestLockOnDeadHostIsOneLine(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := ln.Addr().String()
	ln.Close()

	const n = 30
	dir := t.TempDir()
	for i := range n {
		write(t, dir, fmt.Sprintf("svc%02d/Dockerfile", i), fmt.Sprintf("FROM %s/team/app%02d:1\n", host, i))
	}
	r := imagelock(t, dir, nil, "lock")
	r.want(t, 2, "lock with every image on a refusing host")
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if strings.Contains(l, host) {
			lines = append(lines, l)
		}
	}
	want := fmt.Sprintf("registry %s is down (dial tcp %s: connect: connection refused); %d images not resolved", host, host, n)
	if len(lines) != 1 || !strings.Contains(lines[0], want) {
		t.Errorf("stderr names %s on %d lines, want one saying %q:\n%s", host, len(lines), want, r.stderr)
	}
}
