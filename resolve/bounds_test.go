package resolve

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// endless writes chunks of b until the client goes away, then reports
// how many bytes it wrote on sent.
func endless(status int, mediaType types.MediaType, b byte, sent chan<- int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", string(mediaType))
		w.WriteHeader(status)
		chunk := bytes.Repeat([]byte{b}, 32<<10)
		var n int64
		for r.Context().Err() == nil {
			m, err := w.Write(chunk)
			n += int64(m)
			if err != nil {
				break
			}
		}
		sent <- n
	}
}

func isGet(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/")
}

// TestBodyCap checks that an endless manifest, index or error body is cut
// at the cap with an error naming the image, and that the client stops
// reading: the registry gets to write little more than the cap.
func TestBodyCap(t *testing.T) {
	t.Parallel()
	digest := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("a", 64)}
	for _, tc := range []struct {
		name    string
		fault   func(sent chan<- int64) func(http.Handler) http.Handler
		call    func(*Registry, *testRegistry) error
		image   func(*testRegistry) string
		wantMsg func(*testRegistry) string
	}{
		{
			name: "endless index",
			fault: func(sent chan<- int64) func(http.Handler) http.Handler {
				return faulty(-1, isGet, endless(http.StatusOK, types.OCIImageIndex, ' ', sent))
			},
			call: func(r *Registry, reg *testRegistry) error {
				_, err := r.Platforms(t.Context(), reg.host+"/multi", digest)
				return err
			},
			image: func(reg *testRegistry) string { return reg.host + "/multi@" + digest.String() },
			wantMsg: func(reg *testRegistry) string {
				return fmt.Sprintf("%s/multi@%s: index body over 4 MiB from %s: the registry sent too much; report it to the registry's operators", reg.host, digest, reg.host)
			},
		},
		{
			name: "endless manifest after a HEAD without a digest",
			fault: func(sent chan<- int64) func(http.Handler) http.Handler {
				get := faulty(-1, isGet, endless(http.StatusOK, types.OCIManifestSchema1, ' ', sent))
				head := faulty(-1, isHead, func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", string(types.OCIManifestSchema1))
				})
				return func(next http.Handler) http.Handler { return head(get(next)) }
			},
			call: func(r *Registry, reg *testRegistry) error {
				_, err := r.Head(t.Context(), reg.key("app", "1"))
				return err
			},
			image: func(reg *testRegistry) string { return reg.key("app", "1").String() },
			wantMsg: func(reg *testRegistry) string {
				return fmt.Sprintf("%s/app:1: manifest body over 4 MiB from %s: the registry sent too much; report it to the registry's operators", reg.host, reg.host)
			},
		},
		{
			name: "endless error body",
			fault: func(sent chan<- int64) func(http.Handler) http.Handler {
				return faulty(-1, isGet, endless(http.StatusBadRequest, "application/json", ' ', sent))
			},
			call: func(r *Registry, reg *testRegistry) error {
				_, err := r.Platforms(t.Context(), reg.host+"/multi", digest)
				return err
			},
			image: func(reg *testRegistry) string { return reg.host + "/multi@" + digest.String() },
			wantMsg: func(reg *testRegistry) string {
				return fmt.Sprintf("%s/multi@%s: error body (400 Bad Request) over 64 KiB from %s: the registry sent too much; report it to the registry's operators", reg.host, digest, reg.host)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sent := make(chan int64, 1)
			reg := newTestRegistry(t, tc.fault(sent))
			r := newRegistry(testOptions(), fastRetry)

			err := tc.call(r, reg)
			if err == nil {
				t.Fatal("succeeded on an endless body, want an error")
			}
			if got, want := err.Error(), tc.wantMsg(reg); got != want {
				t.Errorf("error:\n got %s\nwant %s", got, want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Image != tc.image(reg) {
				t.Errorf("error %#v is not an *Error naming %s", err, tc.image(reg))
			}
			select {
			case n := <-sent:
				if n > 16<<20 {
					t.Errorf("the registry wrote %d MiB before the client stopped reading, want at most 16 (4 read, the rest socket buffers)", n>>20)
				}
			case <-time.After(10 * time.Second):
				t.Error("the registry still writes 10s after the error: the client did not hang up")
			}
		})
	}
}

// TestBodyCapExact checks that an index of exactly 4 MiB is read whole.
func TestBodyCapExact(t *testing.T) {
	t.Parallel()
	body := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`)
	body = append(body, bytes.Repeat([]byte{' '}, maxManifestBody-len(body))...)
	sum := sha256.Sum256(body)
	digest := v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
	reg := newTestRegistry(t, faulty(-1, isGet, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", string(types.OCIImageIndex))
		w.Write(body)
	}))
	r := newRegistry(testOptions(), fastRetry)
	got, err := r.Platforms(ctxFor(t), reg.host+"/multi", digest)
	if err != nil || len(got) != 0 {
		t.Errorf("Platforms of a 4 MiB index = %v, %v; want no platforms, no error", got, err)
	}
}

// silentHost accepts connections and never answers. It returns its
// host:port and how many connections it accepted so far.
func silentHost(t *testing.T) (string, func() int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		accepted atomic.Int64
		mu       sync.Mutex
		conns    []net.Conn
	)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String(), accepted.Load
}

// TestSilentHost checks that a host that accepts connections and never
// answers fails every lookup on it with one shared *HostError, once one
// request waited RequestTimeout, and that Join prints it once.
func TestSilentHost(t *testing.T) {
	t.Parallel()
	host, accepted := silentHost(t)
	o := testOptions()
	o.Jobs = 2
	o.RequestTimeout = 200 * time.Millisecond
	r := newRegistry(o, fastRetry)

	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = r.Head(ctxFor(t), Key{Name: fmt.Sprintf("%s/app%02d", host, i), Tag: "1"})
		})
	}
	wg.Wait()

	var first *HostError
	for i, err := range errs {
		var he *HostError
		if !errors.As(err, &he) || !errors.Is(err, ErrHostDown) || !errors.Is(err, ErrUnreachable) {
			t.Fatalf("lookup %d: error %v is not an ErrUnreachable *HostError", i, err)
		}
		if first == nil {
			first = he
		}
		if he != first {
			t.Errorf("lookup %d: its *HostError is not the one the others share", i)
		}
	}
	want := fmt.Sprintf("%s/app00:1: registry %s is down (no answer from %s within 200ms): check the network and the registry name, then try again", host, host, host)
	if got := errs[0].Error(); got != want {
		t.Errorf("one lookup's error:\n got %s\nwant %s", got, want)
	}
	want = fmt.Sprintf("registry %s is down (no answer from %s within 200ms); %d images not resolved: %s/app00:1, %s/app01:1 and %d more: check the network and the registry name, then try again", host, host, n, host, host, n-2)
	if got := Join(errs...).Error(); got != want {
		t.Errorf("Join(errors):\n got %s\nwant %s", got, want)
	}

	before := accepted()
	if _, err := r.Head(ctxFor(t), Key{Name: host + "/later", Tag: "1"}); !errors.Is(err, ErrHostDown) {
		t.Errorf("a later lookup: %v, want ErrHostDown", err)
	}
	if after := accepted(); after != before {
		t.Errorf("a later lookup opened %d connections to the dead host, want none", after-before)
	}
}

// countingTransport counts round trips that reach the network.
type countingTransport struct {
	inner http.RoundTripper
	n     atomic.Int64
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.inner.RoundTrip(req)
}

// TestRefusedHost checks that a host that refuses connections, once the
// retries ran out, fails the lookups after it without a request.
func TestRefusedHost(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := ln.Addr().String()
	ln.Close()
	ct := &countingTransport{inner: defaultTransport(1)}
	o := testOptions()
	o.Transport = ct
	r := newRegistry(o, fastRetry)

	_, err = r.Head(ctxFor(t), Key{Name: host + "/first", Tag: "1"})
	if !errors.Is(err, ErrHostDown) {
		t.Fatalf("first lookup: %v, want ErrHostDown", err)
	}
	want := fmt.Sprintf("registry %s is down (dial tcp %s: connect: connection refused)", host, host)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	tried := ct.n.Load()
	for i := range 5 {
		if _, err := r.Head(ctxFor(t), Key{Name: fmt.Sprintf("%s/next%d", host, i), Tag: "1"}); !errors.Is(err, ErrHostDown) {
			t.Errorf("lookup %d after the host proved dead: %v, want ErrHostDown", i, err)
		}
	}
	if n := ct.n.Load() - tried; n != 0 {
		t.Errorf("lookups after the host proved dead made %d requests, want none", n)
	}
}

// TestRedirectLoop checks that a registry redirecting in a loop is named
// as such, whether the loop is on the ping or on the manifest, and that
// the query of the redirects, where tokens travel, is not shown.
func TestRedirectLoop(t *testing.T) {
	t.Parallel()
	loop := func(match func(*http.Request) bool) func(http.Handler) http.Handler {
		return faulty(-1, match, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, r.URL.Path+"?token=s3cret", http.StatusFound)
		})
	}
	for _, tc := range []struct {
		name  string
		match func(*http.Request) bool
		path  string
	}{
		{"manifest", isHead, "/v2/app/manifests/1"},
		{"ping", func(r *http.Request) bool { return r.URL.Path == "/v2/" }, "/v2/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newTestRegistry(t, loop(tc.match))
			r := newRegistry(testOptions(), fastRetry)
			_, err := r.Head(ctxFor(t), reg.key("app", "1"))
			if err == nil {
				t.Fatal("Head succeeded through a redirect loop")
			}
			want := fmt.Sprintf("%s/app:1: registry %s redirects in a loop (10 redirects, the last from http://%s%s): check the registry name and mirror, or report it to the registry's operators", reg.host, reg.host, reg.host, tc.path)
			if got := err.Error(); got != want {
				t.Errorf("error:\n got %s\nwant %s", got, want)
			}
		})
	}
}

// TestSilentTLSHost checks that the base transport's own timeout (here the
// TLS handshake's) counts as no answer: not retried, and the host dead.
func TestSilentTLSHost(t *testing.T) {
	t.Parallel()
	host, _ := silentHost(t)
	base := defaultTransport(1)
	base.TLSHandshakeTimeout = 50 * time.Millisecond
	l := &logs{}
	o := testOptions()
	o.Transport = base
	o.RequestTimeout = 500 * time.Millisecond
	o.Logf = l.logf
	r := newRegistry(o, fastRetry)

	_, err := r.Head(ctxFor(t), Key{Name: host + "/app", Tag: "1"})
	if !errors.Is(err, ErrHostDown) {
		t.Fatalf("Head: %v, want ErrHostDown", err)
	}
	want := fmt.Sprintf("no answer from %s within 50ms: net/http: TLS handshake timeout", host)
	if !strings.Contains(err.Error(), "TLS handshake timeout") {
		t.Errorf("error %q does not say %q", err, want)
	}
	if strings.Contains(l.String(), "retrying") {
		t.Errorf("a request that got no answer was retried:\n%s", l)
	}
}
