package resolve

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/errgroup"
)

// wire counts the requests that reach the network by scheme and kind. An
// https request to a plain-HTTP host costs a connection of its own: the
// TLS handshake fails, and the connection with it.
type wire struct {
	inner http.RoundTripper

	mu   sync.Mutex
	reqs map[string]int // "https ping", "http HEAD manifest", ...
}

func newWire(jobs int) *wire {
	return &wire{inner: defaultTransport(jobs), reqs: map[string]int{}}
}

func (w *wire) RoundTrip(req *http.Request) (*http.Response, error) {
	w.mu.Lock()
	w.reqs[req.URL.Scheme+" "+kindOf(req)]++
	w.mu.Unlock()
	return w.inner.RoundTrip(req)
}

func (w *wire) counts() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]int{}
	for k, v := range w.reqs {
		out[k] = v
	}
	return out
}

// resolveAll looks every key up at once and checks the digests.
func resolveAll(t *testing.T, r *Registry, want map[Key]Descriptor) {
	t.Helper()
	ctx := ctxFor(t)
	var g errgroup.Group
	for k, d := range want {
		g.Go(func() error {
			got, err := r.Head(ctx, k)
			if err != nil {
				return err
			}
			if got != d {
				return fmt.Errorf("%s: got %v, want %v", k, got, d)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestPlainHTTPSchemeOncePerHost resolves keys of many repositories at
// once on a loopback registry that speaks plain HTTP: https is tried once
// for the host, not once per repository, and the host is pinged once.
func TestPlainHTTPSchemeOncePerHost(t *testing.T) {
	t.Parallel()
	const repos, jobs = 24, 4
	reg := newTestRegistry(t, nil)
	want := map[Key]Descriptor{}
	for i := range repos {
		repo := fmt.Sprintf("r%d", i)
		want[reg.key(repo, "1")] = Descriptor{Digest: reg.pushImage(t, repo, "1")}
	}
	w := newWire(jobs)
	o := testOptions()
	o.Jobs, o.Transport = jobs, w
	resolveAll(t, newRegistry(o, fastRetry), want)

	got := w.counts()
	wantReqs := map[string]int{"https ping": 1, "http ping": 1, "http HEAD manifest": repos}
	if diff := cmp.Diff(wantReqs, got); diff != "" {
		t.Errorf("requests on the wire (-want +got):\n%s", diff)
	}
}

// holdPing holds every ping until release is closed.
func holdPing(release <-chan struct{}) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v2/" {
				<-release
			}
			next.ServeHTTP(w, r)
		})
	}
}

// waitPending waits until n repositories of host wait for their handshake
// behind the first one.
func waitPending(t *testing.T, r *Registry, host string, n int) {
	t.Helper()
	ctx := ctxFor(t)
	a := &r.host(host).auth
	for {
		a.mu.Lock()
		p := len(a.pending)
		a.mu.Unlock()
		if p == n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d repositories wait for a token, want %d", p, n)
		case <-time.After(time.Millisecond):
		}
	}
}

// TestTokenBatches resolves the keys of 40 repositories on a registry with
// a token server, with the first ping held until all of them wait: the
// ping goes alone, then one token request asks for 32 scopes, and a
// second one for the other 8. A token server that refuses several scopes
// gets one request per repository after its refusal; one that grants only
// the first scope asked gets one more request per repository it left out,
// from the HEAD it refused.
func TestTokenBatches(t *testing.T) {
	t.Parallel()
	const repos = 40
	for _, tc := range []struct {
		name             string
		grant            func([]string) (string, int)
		tokens, heads    int
		scopesAskedOnce  int // scopes asked exactly once
		scopesAskedTwice int
	}{
		{
			name:            "batches accepted",
			grant:           func(s []string) (string, int) { return strings.Join(s, " "), http.StatusOK },
			tokens:          2,
			heads:           repos,
			scopesAskedOnce: repos,
		},
		{
			name: "batches refused",
			grant: func(s []string) (string, int) {
				if len(s) > 1 {
					return "", http.StatusBadRequest
				}
				return s[0], http.StatusOK
			},
			tokens:           1 + repos,
			heads:            repos,
			scopesAskedOnce:  repos - maxScopes,
			scopesAskedTwice: maxScopes,
		},
		{
			name:             "first scope granted",
			grant:            func(s []string) (string, int) { return s[0], http.StatusOK },
			tokens:           repos,
			heads:            2*repos - 2,
			scopesAskedOnce:  2,
			scopesAskedTwice: repos - 2,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			reg := newTestRegistry(t, func(h http.Handler) http.Handler {
				return holdPing(release)(tokenServer(tc.grant)(h))
			})
			want := map[Key]Descriptor{}
			for i := range repos {
				repo := fmt.Sprintf("r%02d", i)
				want[reg.key(repo, "1")] = Descriptor{Digest: reg.pushImage(t, repo, "1")}
			}
			o := testOptions()
			o.Jobs = 8
			r := newRegistry(o, fastRetry)
			done := make(chan struct{})
			go func() {
				defer close(done)
				resolveAll(t, r, want)
			}()
			waitPending(t, r, reg.host, repos-1)
			close(release)
			<-done

			got := map[string]int{
				"ping":          reg.count.get("ping"),
				"token":         reg.count.get("token"),
				"HEAD manifest": reg.count.get("HEAD manifest"),
			}
			asked := map[int]int{}
			for i := range repos {
				asked[reg.count.get(fmt.Sprintf("scope repository:r%02d:pull", i))]++
			}
			got["scopes asked once"], got["scopes asked twice"] = asked[1], asked[2]
			wantCounts := map[string]int{
				"ping":               1,
				"token":              tc.tokens,
				"HEAD manifest":      tc.heads,
				"scopes asked once":  tc.scopesAskedOnce,
				"scopes asked twice": tc.scopesAskedTwice,
			}
			if diff := cmp.Diff(wantCounts, got); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTokenOutsideSlots holds the HEAD of one repository, with the only
// request slot, until the token of another has been asked for: the token
// request must not wait for a slot.
func TestTokenOutsideSlots(t *testing.T) {
	t.Parallel()
	headA, tokenB := make(chan struct{}), make(chan struct{})
	var once sync.Once
	gate := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Path == "/token" && r.URL.Query().Get("scope") == "repository:b:pull":
				once.Do(func() { close(tokenB) })
			case isHead(r) && strings.Contains(r.URL.Path, "/a/"):
				close(headA)
				select {
				case <-tokenB:
				case <-time.After(10 * time.Second):
					http.Error(w, "no token request for b while a's HEAD held the slot", http.StatusInternalServerError)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
	reg := newTestRegistry(t, func(h http.Handler) http.Handler { return gate(tokenAuth(h)) })
	da, db := reg.pushImage(t, "a", "1"), reg.pushImage(t, "b", "1")
	o := testOptions()
	o.Jobs = 1
	r := newRegistry(o, retryPolicy{attempts: 1})
	ctx := ctxFor(t)
	var g errgroup.Group
	g.Go(func() error {
		d, err := r.Head(ctx, reg.key("a", "1"))
		if err == nil && d.Digest != da {
			err = fmt.Errorf("a:1 = %s, want %s", d.Digest, da)
		}
		return err
	})
	<-headA
	d, err := r.Head(ctx, reg.key("b", "1"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Digest != db {
		t.Errorf("b:1 = %s, want %s", d.Digest, db)
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestTokenRefusedCredentials checks that a token server refusing the
// credentials (401) fails the lookups of a batch with that error, and is
// not asked again once per repository as if it had refused the batch's
// size: with wrong credentials, that is as many failed logins as there
// are repositories, which locks accounts on some registries.
func TestTokenRefusedCredentials(t *testing.T) {
	t.Parallel()
	const repos = 40
	release := make(chan struct{})
	reg := newTestRegistry(t, func(h http.Handler) http.Handler {
		return holdPing(release)(tokenServer(func([]string) (string, int) { return "", http.StatusUnauthorized })(h))
	})
	var keys []Key
	for i := range repos {
		repo := fmt.Sprintf("r%02d", i)
		reg.pushImage(t, repo, "1")
		keys = append(keys, reg.key(repo, "1"))
	}
	o := testOptions()
	o.Jobs = 8
	r := newRegistry(o, fastRetry)
	ctx := ctxFor(t)
	var g errgroup.Group
	for _, k := range keys {
		g.Go(func() error {
			if _, err := r.Head(ctx, k); !errors.Is(err, ErrUnauthorized) {
				return fmt.Errorf("%s: %v, want ErrUnauthorized", k, err)
			}
			return nil
		})
	}
	waitPending(t, r, reg.host, repos-1)
	close(release)
	if err := g.Wait(); err != nil {
		t.Error(err)
	}
	if n := reg.count.get("token"); n > 2 {
		t.Errorf("%d token requests, want at most 2 (one per batch of %d)", n, maxScopes)
	}
}

// Authorize makes a repository's handshake ahead of its requests: the
// token is asked for once, and the HEAD that follows asks for none.
func TestAuthorize(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry(t, tokenAuth)
	d := reg.pushImage(t, "a", "1")
	r := newRegistry(testOptions(), retryPolicy{attempts: 1})
	ctx := ctxFor(t)
	k := reg.key("a", "1")
	r.Authorize(ctx, k.Name)
	if n := reg.count.get("token"); n != 1 {
		t.Errorf("Authorize made %d token requests, want 1", n)
	}
	got, err := r.Head(ctx, k)
	if err != nil || got.Digest != d {
		t.Fatalf("Head = %v, %v; want %s", got, err, d)
	}
	if n, h := reg.count.get("token"), reg.count.get("HEAD manifest"); n != 1 || h != 1 {
		t.Errorf("after the HEAD: %d token requests and %d HEADs, want 1 and 1", n, h)
	}
}
