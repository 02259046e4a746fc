package resolve

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/errgroup"
)

// wire counts what reaches the network: requests by scheme and kind, and
// connections dialed.
type wire struct {
	inner *http.Transport

	mu    sync.Mutex
	reqs  map[string]int // "https ping", "http HEAD manifest", ...
	dials int
}

func newWire(jobs int) *wire {
	w := &wire{inner: defaultTransport(jobs), reqs: map[string]int{}}
	dial := w.inner.DialContext
	w.inner.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		w.mu.Lock()
		w.dials++
		w.mu.Unlock()
		return dial(ctx, network, addr)
	}
	return w
}

func (w *wire) RoundTrip(req *http.Request) (*http.Response, error) {
	w.mu.Lock()
	w.reqs[req.URL.Scheme+" "+kindOf(req)]++
	w.mu.Unlock()
	return w.inner.RoundTrip(req)
}

func (w *wire) counts() (map[string]int, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]int{}
	for k, v := range w.reqs {
		out[k] = v
	}
	return out, w.dials
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

	got, dials := w.counts()
	wantReqs := map[string]int{"https ping": 1, "http ping": 1, "http HEAD manifest": repos}
	if diff := cmp.Diff(wantReqs, got); diff != "" {
		t.Errorf("requests on the wire (-want +got):\n%s", diff)
	}
	// One for the https attempt, at most jobs for the requests at once.
	if dials > jobs+1 {
		t.Errorf("%d connections dialed, want at most %d", dials, jobs+1)
	}
}
