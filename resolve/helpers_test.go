package resolve

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// fastRetry keeps the tests' backoffs tiny.
var fastRetry = retryPolicy{attempts: 4, base: time.Millisecond, max: 10 * time.Millisecond}

// testRegistry is one in-memory registry served twice: raw, for pushing,
// and behind the test's handlers, for resolving.
type testRegistry struct {
	raw   string // host:port of the bare registry
	host  string // host:port of the registry behind the test's handlers
	count *counter
}

// newTestRegistry serves a fresh registry; wrap puts handlers in front of
// it (nil for none). Every request to the front is counted.
func newTestRegistry(t testing.TB, wrap func(http.Handler) http.Handler) *testRegistry {
	t.Helper()
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	raw := httptest.NewServer(reg)
	t.Cleanup(raw.Close)
	var front http.Handler = reg
	if wrap != nil {
		front = wrap(reg)
	}
	c := &counter{}
	srv := httptest.NewServer(c.wrap(front))
	t.Cleanup(srv.Close)
	return &testRegistry{
		raw:   strings.TrimPrefix(raw.URL, "http://"),
		host:  strings.TrimPrefix(srv.URL, "http://"),
		count: c,
	}
}

// pushImage pushes a random image as repo:tag and returns its digest.
func (r *testRegistry) pushImage(t *testing.T, repo, tag string) v1.Hash {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewTag(r.raw + "/" + repo + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// pushIndex pushes an index of one random image per platform, plus a
// BuildKit-style attestation manifest, as repo:tag. It returns the index
// digest and the platform map Platforms should report.
func (r *testRegistry) pushIndex(t *testing.T, repo, tag string, plats ...v1.Platform) (v1.Hash, map[string]v1.Hash) {
	t.Helper()
	var idx v1.ImageIndex = empty.Index
	idx = mutate.IndexMediaType(idx, types.OCIImageIndex)
	want := map[string]v1.Hash{}
	for _, p := range plats {
		img, err := random.Image(64, 1)
		if err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		want[p.String()] = d
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
		att, err := random.Image(32, 1)
		if err != nil {
			t.Fatal(err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{
			Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{
				"vnd.docker.reference.type":   "attestation-manifest",
				"vnd.docker.reference.digest": d.String(),
			},
		}})
	}
	ref, err := name.NewTag(r.raw + "/" + repo + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d, want
}

// key is the key of repo:tag on the front of the registry.
func (r *testRegistry) key(repo, tag string) Key {
	return Key{Name: r.host + "/" + repo, Tag: tag}
}

// counter counts requests by kind: "ping", "token", "HEAD manifest",
// "GET manifest", and anything else by method and path; and the scopes
// token requests ask for, as "scope repository:app:pull".
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		if c.n == nil {
			c.n = map[string]int{}
		}
		c.n[kindOf(r)]++
		if r.URL.Path == "/token" {
			for _, sc := range r.URL.Query()["scope"] {
				c.n["scope "+sc]++
			}
		}
		c.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (c *counter) get(kind string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[kind]
}

func kindOf(r *http.Request) string {
	switch {
	case r.URL.Path == "/v2/":
		return "ping"
	case r.URL.Path == "/token":
		return "token"
	case strings.Contains(r.URL.Path, "/manifests/"):
		return r.Method + " manifest"
	}
	return r.Method + " " + r.URL.Path
}

// faulty answers the first n requests that match with fault, and passes
// the others on.
func faulty(n int, match func(*http.Request) bool, fault http.HandlerFunc) func(http.Handler) http.Handler {
	var mu sync.Mutex
	left := n
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			hit := match(r) && left != 0
			if hit && left > 0 {
				left--
			}
			mu.Unlock()
			if hit {
				fault(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func isHead(r *http.Request) bool {
	return r.Method == http.MethodHead && strings.Contains(r.URL.Path, "/manifests/")
}

// basicAuth lets through only requests with user:pass, as a registry behind
// htpasswd does.
func basicAuth(user, pass string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// tokenAuth speaks the Docker token protocol: /token hands out a token for
// every scope asked (distribution's token server does), and
// /v2/<repo>/... wants a token that names that repository's scope.
func tokenAuth(next http.Handler) http.Handler {
	return tokenServer(func(scopes []string) (string, int) { return strings.Join(scopes, " "), http.StatusOK })(next)
}

// tokenServer is tokenAuth with grant deciding what a token request gets:
// the scopes its token names, or a status other than 200 to refuse it.
func tokenServer(grant func(scopes []string) (string, int)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/token" {
				granted, status := grant(r.URL.Query()["scope"])
				if status != http.StatusOK {
					w.WriteHeader(status)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(map[string]string{"token": "t:" + granted})
				return
			}
			challenge := fmt.Sprintf(`Bearer realm="http://%s/token",service="test"`, r.Host)
			ok := strings.HasPrefix(r.Header.Get("Authorization"), "Bearer t:")
			if repo, _, isRepo := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v2/"), "/manifests/"); isRepo {
				scope := "repository:" + repo + ":pull"
				challenge += fmt.Sprintf(`,scope=%q`, scope)
				ok = ok && slices.Contains(strings.Fields(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer t:")), scope)
			}
			if !ok {
				w.Header().Set("WWW-Authenticate", challenge)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// keychain hands out credentials by registry host.
type keychain map[string]authn.AuthConfig

func (k keychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if c, ok := k[r.RegistryStr()]; ok {
		return authn.FromConfig(c), nil
	}
	return authn.Anonymous, nil
}

// logs collects Logf lines.
type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// testOptions are Options for a test: no credentials from the machine.
func testOptions() Options {
	return Options{Keychain: keychain{}}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
