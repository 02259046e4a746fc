package resolve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"
)

var (
	amd64 = v1.Platform{OS: "linux", Architecture: "amd64"}
	arm64 = v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
)

func TestHead(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry(t, nil)
	imgDigest := reg.pushImage(t, "app", "1.0")
	idxDigest, _ := reg.pushIndex(t, "multi", "2.0", amd64, arm64)
	r := newRegistry(testOptions(), fastRetry)

	for _, tc := range []struct {
		name string
		key  Key
		want Descriptor
	}{
		{"image", reg.key("app", "1.0"), Descriptor{Digest: imgDigest}},
		{"index", reg.key("multi", "2.0"), Descriptor{Digest: idxDigest, Index: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Head(ctxFor(t), tc.key)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Head(%s) (-want +got):\n%s", tc.key, diff)
			}
		})
	}
}

func TestPlatforms(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry(t, nil)
	d, want := reg.pushIndex(t, "multi", "1", amd64, arm64)
	r := newRegistry(testOptions(), fastRetry)

	got, err := r.Platforms(ctxFor(t), reg.host+"/multi", d)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Platforms (-want +got):\n%s", diff)
	}
	if n := reg.count.get("GET manifest"); n != 1 {
		t.Errorf("GET manifest requests = %d, want 1", n)
	}
}

func TestPlatformsOfImage(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry(t, nil)
	d := reg.pushImage(t, "app", "1")
	r := newRegistry(testOptions(), fastRetry)

	got, err := r.Platforms(ctxFor(t), reg.host+"/app", d)
	if err != nil || got != nil {
		t.Errorf("Platforms of a single-platform image = %v, %v; want nil, nil", got, err)
	}
}

func TestPlatformsFilter(t *testing.T) {
	t.Parallel()
	h := func(s string) v1.Hash {
		return v1.Hash{Algorithm: "sha256", Hex: strings.Repeat(s, 64)}
	}
	im := &v1.IndexManifest{Manifests: []v1.Descriptor{
		{Digest: h("1"), Platform: &amd64},
		{Digest: h("2"), Platform: &arm64},
		{Digest: h("3"), Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"}},
		{Digest: h("4"), Platform: &amd64, Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest"}},
		{Digest: h("5")},
		{Digest: h("6"), Platform: &v1.Platform{Architecture: "amd64"}},
		{Digest: h("7"), Platform: &v1.Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763.1"}},
	}}
	want := map[string]v1.Hash{
		"linux/amd64":                h("1"),
		"linux/arm64/v8":             h("2"),
		"windows/amd64:10.0.17763.1": h("7"),
	}
	if diff := cmp.Diff(want, platforms(im)); diff != "" {
		t.Errorf("platforms (-want +got):\n%s", diff)
	}
}

func TestExists(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry(t, nil)
	d := reg.pushImage(t, "app", "1")
	gone := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0", 64)}
	r := newRegistry(testOptions(), fastRetry)
	ctx := ctxFor(t)

	if err := r.Exists(ctx, reg.host+"/app", d); err != nil {
		t.Errorf("Exists(pushed digest) = %v, want nil", err)
	}
	err := r.Exists(ctx, reg.host+"/app", gone)
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("Exists(unknown digest) = %v, want ErrNotFound", err)
	}
	if want := reg.host + "/app@" + gone.String() + ": manifest not found (MANIFEST_UNKNOWN)"; err == nil || err.Error() != want {
		t.Errorf("Exists(unknown digest) error:\n got %v\nwant %s", err, want)
	}
}

// TestOnePingPerRegistry resolves every key twice, concurrently, and
// counts what reached the registry: one ping in all, one HEAD per call, one
// token per repository, and no GET.
func TestOnePingPerRegistry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		wrap   func(http.Handler) http.Handler
		tokens bool
	}{
		{"anonymous", nil, false},
		{"bearer token", tokenAuth, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newTestRegistry(t, tc.wrap)
			repos := []string{"a", "b", "c"}
			var keys []Key
			want := map[Key]v1.Hash{}
			for _, repo := range repos {
				for _, tag := range []string{"1", "2"} {
					k := reg.key(repo, tag)
					keys = append(keys, k)
					want[k] = reg.pushImage(t, repo, tag)
				}
			}
			r := newRegistry(Options{Keychain: keychain{}, Jobs: 3}, fastRetry)
			ctx := ctxFor(t)

			var mu sync.Mutex
			got := map[Key]v1.Hash{}
			for range 2 {
				var g errgroup.Group
				for _, k := range keys {
					g.Go(func() error {
						d, err := r.Head(ctx, k)
						mu.Lock()
						got[k] = d.Digest
						mu.Unlock()
						return err
					})
				}
				if err := g.Wait(); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("digests (-want +got):\n%s", diff)
			}
			wantCounts := map[string]int{"ping": 1, "HEAD manifest": 2 * len(keys), "GET manifest": 0}
			if tc.tokens {
				for _, repo := range repos {
					wantCounts["token repository:"+repo+":pull"] = 1
				}
			}
			gotCounts := map[string]int{}
			for k := range wantCounts {
				gotCounts[k] = reg.count.get(k)
			}
			if diff := cmp.Diff(wantCounts, gotCounts); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

// TestJobsBound checks that no more than Jobs requests reach a registry at
// once.
func TestJobsBound(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	inFlight, peak := 0, 0
	slow := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isHead(r) {
				mu.Lock()
				inFlight++
				peak = max(peak, inFlight)
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
				mu.Lock()
				inFlight--
				mu.Unlock()
			}
			next.ServeHTTP(w, r)
		})
	}
	reg := newTestRegistry(t, slow)
	reg.pushImage(t, "app", "1")
	r := newRegistry(Options{Keychain: keychain{}, Jobs: 2}, fastRetry)
	ctx := ctxFor(t)
	var g errgroup.Group
	for range 8 {
		g.Go(func() error {
			_, err := r.Head(ctx, reg.key("app", "1"))
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if peak > 2 || peak == 0 {
		t.Errorf("peak concurrent HEADs = %d, want 1 or 2 (Jobs: 2)", peak)
	}
}

func hijackClose(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	conn.Close()
}

// TestRetries puts faults in front of the registry and checks that Head
// gets through them to the right digest.
func TestRetries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		wrap      func(http.Handler) http.Handler
		heads     int           // HEAD requests the registry should see
		gets      int           // manifest GETs
		minWait   time.Duration // the least time the retries should take
		logSubstr string
	}{
		{
			name: "429 with Retry-After",
			wrap: faulty(1, isHead, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
			}),
			heads: 2, minWait: 900 * time.Millisecond, logSubstr: "retrying HEAD",
		},
		{
			name: "503 twice",
			wrap: faulty(2, isHead, func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusServiceUnavailable)
			}),
			heads: 3, logSubstr: "503 Service Unavailable",
		},
		{
			name:  "dropped connections",
			wrap:  faulty(2, isHead, hijackClose),
			heads: 3, logSubstr: "retrying HEAD",
		},
		{
			name: "ping 502",
			wrap: faulty(1, func(r *http.Request) bool { return r.URL.Path == "/v2/" }, func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusBadGateway)
			}),
			heads: 1, logSubstr: "retrying GET",
		},
		{
			name: "HEAD without Docker-Content-Digest",
			wrap: faulty(-1, isHead, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
				w.Header().Set("Content-Length", "100")
				w.WriteHeader(http.StatusOK)
			}),
			heads: 1, gets: 1, logSubstr: "falling back to GET",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newTestRegistry(t, tc.wrap)
			want := reg.pushImage(t, "app", "1")
			var l logs
			o := testOptions()
			o.Logf = l.logf
			r := newRegistry(o, fastRetry)

			start := time.Now()
			got, err := r.Head(ctxFor(t), reg.key("app", "1"))
			took := time.Since(start)
			if err != nil {
				t.Fatalf("Head: %v\nlog:\n%s", err, &l)
			}
			if got.Digest != want {
				t.Errorf("Head digest = %s, want %s", got.Digest, want)
			}
			if took < tc.minWait {
				t.Errorf("Head took %s, want at least %s", took, tc.minWait)
			}
			if n := reg.count.get("HEAD manifest"); n != tc.heads {
				t.Errorf("HEAD requests = %d, want %d", n, tc.heads)
			}
			if n := reg.count.get("GET manifest"); n != tc.gets {
				t.Errorf("manifest GET requests = %d, want %d", n, tc.gets)
			}
			if !strings.Contains(l.String(), tc.logSubstr) {
				t.Errorf("log does not mention %q:\n%s", tc.logSubstr, &l)
			}
		})
	}
}

// TestFailures checks the error of each way a registry can say no: its
// sentinel, its one-line message, and that it came in bounded time.
func TestFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		wrap    func(http.Handler) http.Handler
		key     func(*testRegistry) Key
		timeout time.Duration
		is      error
		want    func(*testRegistry) string // the whole message
		heads   int                        // HEADs the registry should see; 0 to skip
	}{
		{
			name: "tag not found",
			key:  func(r *testRegistry) Key { return r.key("app", "nope") },
			is:   ErrNotFound,
			want: func(r *testRegistry) string { return r.host + "/app:nope: tag not found (MANIFEST_UNKNOWN)" },
		},
		{
			name: "repository not found",
			key:  func(r *testRegistry) Key { return r.key("nothing", "1") },
			is:   ErrNotFound,
			want: func(r *testRegistry) string { return r.host + "/nothing:1: repository not found (NAME_UNKNOWN)" },
		},
		{
			name: "anonymous to a registry that wants a login",
			wrap: basicAuth("alice", "s3cret"),
			key:  func(r *testRegistry) Key { return r.key("app", "1") },
			is:   ErrUnauthorized,
			want: func(r *testRegistry) string {
				return fmt.Sprintf("%s/app:1: authentication refused (401 UNAUTHORIZED): run 'docker login %s'", r.host, r.host)
			},
		},
		{
			name: "503 until the retries run out",
			wrap: faulty(-1, isHead, func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusServiceUnavailable)
			}),
			key:   func(r *testRegistry) Key { return r.key("app", "1") },
			is:    ErrUnreachable,
			heads: fastRetry.attempts,
			want: func(r *testRegistry) string {
				return fmt.Sprintf("%s/app:1: registry %s failed (503 Service Unavailable): try again later", r.host, r.host)
			},
		},
		{
			name: "slow past the timeout",
			wrap: faulty(-1, isHead, func(_ http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(10 * time.Second):
				}
			}),
			key:     func(r *testRegistry) Key { return r.key("app", "1") },
			timeout: 300 * time.Millisecond,
			is:      ErrUnreachable,
			want: func(r *testRegistry) string {
				return fmt.Sprintf("%s/app:1: no answer from %s within 300ms: check the network and try again", r.host, r.host)
			},
		},
		{
			name: "Retry-After beyond the timeout",
			wrap: faulty(-1, isHead, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "30")
				w.WriteHeader(http.StatusTooManyRequests)
			}),
			key:     func(r *testRegistry) Key { return r.key("app", "1") },
			timeout: 2 * time.Second,
			heads:   1,
			want: func(r *testRegistry) string {
				return fmt.Sprintf("%s/app:1: rate limited by %s (429 Too Many Requests): wait and try again, or run 'docker login %s' for a higher limit", r.host, r.host, r.host)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newTestRegistry(t, tc.wrap)
			reg.pushImage(t, "app", "1")
			o := testOptions()
			o.Timeout = tc.timeout
			r := newRegistry(o, fastRetry)

			start := time.Now()
			_, err := r.Head(ctxFor(t), tc.key(reg))
			took := time.Since(start)
			if err == nil {
				t.Fatal("Head succeeded, want an error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.is)
			}
			if got, want := err.Error(), tc.want(reg); got != want {
				t.Errorf("error:\n got %s\nwant %s", got, want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Image != tc.key(reg).String() {
				t.Errorf("error %#v is not an *Error naming %s", err, tc.key(reg))
			}
			if took > 2*time.Second {
				t.Errorf("Head took %s to fail, want under 2s", took)
			}
			if n := reg.count.get("HEAD manifest"); tc.heads != 0 && n != tc.heads {
				t.Errorf("HEAD requests = %d, want %d", n, tc.heads)
			}
		})
	}
}

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	const user, pass = "alice", "s3cret-passw0rd"
	reg := newTestRegistry(t, basicAuth(user, pass))
	want := reg.pushImage(t, "app", "1")

	for _, tc := range []struct {
		name string
		pass string
		is   error
	}{
		{"right password", pass, nil},
		{"wrong password", "wr0ng-passw0rd", ErrUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var l logs
			r := newRegistry(Options{
				Keychain: keychain{reg.host: {Username: user, Password: tc.pass}},
				Logf:     l.logf,
			}, fastRetry)
			got, err := r.Head(ctxFor(t), reg.key("app", "1"))
			if !errors.Is(err, tc.is) {
				t.Fatalf("Head error = %v, want %v", err, tc.is)
			}
			if err == nil && got.Digest != want {
				t.Errorf("Head digest = %s, want %s", got.Digest, want)
			}
			if err != nil && !strings.Contains(err.Error(), "docker login "+reg.host) {
				t.Errorf("error %q does not say to run docker login", err)
			}
			secrets := []string{tc.pass, base64.StdEncoding.EncodeToString([]byte(user + ":" + tc.pass)), "Authorization"}
			for _, s := range secrets {
				if err != nil && strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains %q", err, s)
				}
				if strings.Contains(l.String(), s) {
					t.Errorf("log contains %q:\n%s", s, &l)
				}
			}
			if l.String() == "" {
				t.Error("Logf was never called")
			}
		})
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry(t, faulty(-1, isHead, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	r := newRegistry(Options{Keychain: keychain{}, Timeout: time.Minute}, fastRetry)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)

	start := time.Now()
	_, err := r.Head(ctx, reg.key("app", "1"))
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Head took %s after cancel, want it to stop at once", took)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Head error = %v, want context.Canceled", err)
	}
	if errors.Is(err, ErrUnreachable) {
		t.Errorf("a canceled Head is ErrUnreachable: %v", err)
	}
}

func TestMirror(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry(t, nil)
	want := reg.pushImage(t, "library/alpine", "3.20")
	r := newRegistry(Options{Keychain: keychain{}, Mirrors: map[string]string{"index.docker.io": reg.host}}, fastRetry)
	ctx := ctxFor(t)

	got, err := r.Head(ctx, Key{Name: "docker.io/library/alpine", Tag: "3.20"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != want {
		t.Errorf("Head through mirror = %s, want %s", got.Digest, want)
	}
	_, err = r.Head(ctx, Key{Name: "docker.io/library/alpine", Tag: "nope"})
	if want := "docker.io/library/alpine:nope: tag not found (MANIFEST_UNKNOWN)"; err == nil || err.Error() != want {
		t.Errorf("Head of a missing tag through mirror: error\n got %v\nwant %s", err, want)
	}
}

// dialTo is a transport that connects every request to addr, whatever the
// host in the URL, so that tests can use names that are not localhost.
func dialTo(addr string, roots *x509.CertPool) *http.Transport {
	t := defaultTransport(8)
	t.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	if roots != nil {
		t.TLSClientConfig = &tls.Config{RootCAs: roots}
	}
	return t
}

func TestTLSAndPlainHTTP(t *testing.T) {
	t.Parallel()
	// The httptest certificate is for example.com.
	newServer := func(t *testing.T, tlsOn bool) (*httptest.Server, *counter, v1.Hash) {
		h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
		raw := httptest.NewServer(h)
		t.Cleanup(raw.Close)
		want := (&testRegistry{raw: strings.TrimPrefix(raw.URL, "http://")}).pushImage(t, "app", "1")
		c := &counter{}
		srv := httptest.NewUnstartedServer(c.wrap(h))
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
		if tlsOn {
			srv.StartTLS()
		} else {
			srv.Start()
		}
		t.Cleanup(srv.Close)
		return srv, c, want
	}
	for _, tc := range []struct {
		name     string
		host     string // example.com when empty
		tls      bool
		trust    bool
		insecure []string
		want     string // error message; "" for success
	}{
		{name: "trusted certificate", tls: true, trust: true},
		{name: "untrusted certificate", tls: true,
			want: "TLS certificate of example.com is not trusted (x509: certificate signed by unknown authority): add its CA to SSL_CERT_FILE or SSL_CERT_DIR"},
		{name: "untrusted certificate, insecure allowed", tls: true, insecure: []string{"example.com"},
			want: "TLS certificate of example.com is not trusted (x509: certificate signed by unknown authority): add its CA to SSL_CERT_FILE or SSL_CERT_DIR"},
		{name: "plain HTTP refused", want: "example.com serves plain HTTP: pass --insecure-registry example.com to allow it"},
		{name: "plain HTTP allowed", insecure: []string{"example.com"}},
		{name: "plain HTTP to a private address refused", host: "10.1.2.3:5000",
			want: "refusing plain HTTP to 10.1.2.3:5000: pass --insecure-registry 10.1.2.3:5000 if it really serves plain HTTP"},
		{name: "plain HTTP to a private address allowed", host: "10.1.2.3:5000", insecure: []string{"10.1.2.3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, c, digest := newServer(t, tc.tls)
			host := tc.host
			if host == "" {
				host = "example.com"
			}
			key := Key{Name: host + "/app", Tag: "1"}
			var roots *x509.CertPool
			if tc.trust {
				roots = x509.NewCertPool()
				roots.AddCert(srv.Certificate())
			}
			r := newRegistry(Options{
				Keychain:  keychain{},
				Transport: dialTo(srv.Listener.Addr().String(), roots),
				Insecure:  tc.insecure,
			}, fastRetry)
			got, err := r.Head(ctxFor(t), key)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got.Digest != digest {
					t.Errorf("Head = %s, want %s", got.Digest, digest)
				}
				return
			}
			if err == nil || err.Error() != key.String()+": "+tc.want {
				t.Errorf("error:\n got %v\nwant %s: %s", err, key, tc.want)
			}
			if !errors.Is(err, ErrUnreachable) {
				t.Errorf("errors.Is(%v, ErrUnreachable) = false", err)
			}
			if tc.tls && c.get("ping") != 0 {
				t.Errorf("a request got through despite the untrusted certificate")
			}
		})
	}
}

func TestInsecureOnlyWhereAllowed(t *testing.T) {
	t.Parallel()
	g := &schemeGuard{inner: http.DefaultTransport, insecure: map[string]bool{"reg.internal": true, "other:5000": true}}
	for _, tc := range []struct {
		hostport string
		want     bool
	}{
		{"localhost:5000", true},
		{"127.0.0.1:5000", true},
		{"[::1]:5000", true},
		{"reg.internal:5000", true},
		{"other:5000", true},
		{"other:5001", false},
		{"10.0.0.1:5000", false},
		{"registry.local", false},
		{"ghcr.io", false},
	} {
		t.Run(tc.hostport, func(t *testing.T) {
			t.Parallel()
			req := httptestRequest(t, "http://"+tc.hostport+"/v2/")
			if got := g.allowed(req.URL.Host, req.URL.Hostname()); got != tc.want {
				t.Errorf("plain HTTP to %s allowed = %v, want %v", tc.hostport, got, tc.want)
			}
		})
	}
}

func httptestRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"3", 3 * time.Second, true},
		{" 0 ", 0, true},
		{"-1", 0, false},
		{"Mon, 23 Nov 2026 10:00:05 GMT", 5 * time.Second, true},
		{"Mon, 23 Nov 2026 09:59:00 GMT", 0, true},
		{"soon", 0, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, ok := parseRetryAfter(tc.in, now)
			if got != tc.want || ok != tc.ok {
				t.Errorf("parseRetryAfter(%q) = %s, %v; want %s, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	t.Parallel()
	p := retryPolicy{attempts: 10, base: 100 * time.Millisecond, max: time.Second}
	for attempt, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 5: time.Second, 40: time.Second} {
		seen := map[time.Duration]bool{}
		for range 50 {
			d := p.backoff(attempt)
			if d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", attempt, d, want/2, want)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Errorf("backoff(%d) has no jitter: always %v", attempt, seen)
		}
	}
}

// What the default keychain does, docker's config before the clouds', is
// TestGHCRToken's to check.
func TestDefaults(t *testing.T) {
	t.Parallel()
	r := New(Options{})
	if r.o.Keychain == nil || r.o.Jobs != 8 || r.o.Timeout != 2*time.Minute {
		t.Errorf("New(Options{}) defaults: keychain %T, jobs %d, timeout %s", r.o.Keychain, r.o.Jobs, r.o.Timeout)
	}
}

func TestUserAgent(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var agents []string
	reg := newTestRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			agents = append(agents, r.Method+" "+r.UserAgent())
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	})
	reg.pushImage(t, "app", "1")
	o := testOptions()
	o.UserAgent = "imagelock/1.0"
	if _, err := newRegistry(o, fastRetry).Head(ctxFor(t), reg.key("app", "1")); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, a := range agents {
		if !strings.Contains(a, "imagelock/1.0") {
			t.Errorf("request %q does not carry the user agent", a)
		}
	}
	if len(agents) != 2 {
		t.Errorf("requests = %q, want a ping and a HEAD", agents)
	}
}
