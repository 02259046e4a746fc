package resolve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// defaultTransport is http.DefaultTransport with enough idle connections
// per host to keep each of jobs concurrent requests on a warm connection.
func defaultTransport(jobs int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ForceAttemptHTTP2 = true
	t.MaxIdleConnsPerHost = max(64, jobs)
	t.MaxIdleConns = 4 * t.MaxIdleConnsPerHost
	return t
}

// pingCache answers the /v2/ ping of a registry from memory after the first
// real one, and decides once per host which scheme it speaks: every later
// request to the host goes over the scheme its ping answered on.
// go-containerregistry pings once per repository (each fetcher runs its own
// auth handshake), and for a host allowed plain HTTP it tries https first,
// then http; the challenge and the scheme are the host's, so one ping per
// host is enough, and an https failure of a host allowed plain HTTP is
// remembered until a ping of the host succeeds, so that the repositories
// that ask at once do not each open a connection to try https again.
type pingCache struct {
	inner http.RoundTripper
	guard *schemeGuard // which hosts may answer over plain HTTP

	mu      sync.Mutex
	entries map[string]*pingEntry // by host
}

type pingEntry struct {
	sem    chan struct{} // held while a real ping runs
	done   atomic.Bool   // read without sem; set after scheme, status and header
	scheme string
	status int
	header http.Header
	failed map[string]error // by scheme, while no ping of the host has succeeded; under sem
}

func (c *pingCache) RoundTrip(req *http.Request) (*http.Response, error) {
	host := strings.ToLower(req.URL.Host)
	if req.Method != http.MethodGet || req.URL.Path != "/v2/" {
		if s := c.scheme(host); s != "" && s != req.URL.Scheme {
			req = req.Clone(req.Context())
			req.URL.Scheme = s
		}
		return c.inner.RoundTrip(req)
	}
	e := c.entry(host)
	if e.done.Load() {
		return e.answer(req)
	}
	select {
	case e.sem <- struct{}{}:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	defer func() { <-e.sem }()
	if e.done.Load() {
		return e.answer(req)
	}
	if err := e.failed[req.URL.Scheme]; err != nil {
		return nil, err
	}
	resp, err := c.inner.RoundTrip(req)
	if err != nil {
		if req.URL.Scheme == "https" && req.Context().Err() == nil && c.guard.allowed(req.URL.Host, req.URL.Hostname()) {
			// go-containerregistry tries https first, and http next only
			// where plain HTTP may be allowed: remember the failure until
			// the http ping has answered.
			e.failed = map[string]error{"https": err}
		} else {
			e.failed = nil
		}
		return nil, err
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusUnauthorized {
		e.failed = nil
		return resp, nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	e.scheme, e.status, e.header, e.failed = req.URL.Scheme, resp.StatusCode, resp.Header.Clone(), nil
	e.done.Store(true)
	return e.answer(req)
}

// answer is the remembered ping, or, when the host answered over the other
// scheme, an error that costs no request.
func (e *pingEntry) answer(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != e.scheme {
		return nil, fmt.Errorf("%s already answered over %s", req.URL.Host, e.scheme)
	}
	return &http.Response{
		Status:     fmt.Sprintf("%d %s", e.status, http.StatusText(e.status)),
		StatusCode: e.status,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     e.header.Clone(),
		Body:       http.NoBody,
		Request:    req,
	}, nil
}

// scheme is the scheme host answered its ping over, or "" before it has.
func (c *pingCache) scheme(host string) string {
	c.mu.Lock()
	e := c.entries[host]
	c.mu.Unlock()
	if e == nil || !e.done.Load() {
		return ""
	}
	return e.scheme
}

// entry returns the entry for host, made on first use.
func (c *pingCache) entry(host string) *pingEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]*pingEntry{}
	}
	e := c.entries[host]
	if e == nil {
		e = &pingEntry{sem: make(chan struct{}, 1)}
		c.entries[host] = e
	}
	return e
}

// schemeGuard refuses plain HTTP except to the hosts allowed it: a TLS
// failure is reported as one, never papered over by a plain-HTTP retry.
type schemeGuard struct {
	inner    http.RoundTripper
	insecure map[string]bool // "host" or "host:port"
}

func (g *schemeGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !g.allowed(req.URL.Host, req.URL.Hostname()) {
		return nil, &plainHTTPError{host: req.URL.Host}
	}
	return g.inner.RoundTrip(req)
}

func (g *schemeGuard) allowed(hostport, hostname string) bool {
	switch strings.ToLower(hostname) {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return g.insecure[strings.ToLower(hostport)] || g.insecure[strings.ToLower(hostname)]
}

// logTransport writes one line per request: method, URL without query,
// status and time. Headers and bodies, where credentials live, never.
type logTransport struct {
	inner http.RoundTripper
	logf  func(format string, args ...any)
}

func (l *logTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := l.inner.RoundTrip(req)
	took := time.Since(start).Round(time.Millisecond)
	if err != nil {
		l.logf("%s %s: %s (%s)", req.Method, redactURL(req), firstLine(err.Error()), took)
		return nil, err
	}
	l.logf("%s %s: %s (%s)", req.Method, redactURL(req), resp.Status, took)
	return resp, nil
}

// Ceilings on what is read of one response body. Registries refuse
// manifests over 4 MiB on push, so nothing larger is a manifest; an error
// body is a few lines of JSON.
const (
	maxManifestBody = 4 << 20
	maxErrorBody    = 64 << 10
)

// bodyLimit caps every response body: a 2xx body at maxManifestBody, any
// other at maxErrorBody. Reading past the cap fails with a *bodyTooLargeError,
// so a registry that sends an endless body costs at most the cap in memory.
// What imagelock fetches is small: manifests and indexes, tag lists,
// referrers, image configs and signatures; never layers.
type bodyLimit struct {
	inner http.RoundTripper
}

func (b *bodyLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := b.inner.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	limit := int64(maxManifestBody)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		limit = maxErrorBody
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: limit, err: &bodyTooLargeError{host: req.URL.Host, limit: limit, status: resp.StatusCode}}
	return resp, nil
}

// limitedBody reads up to left bytes, then fails with err if more come.
type limitedBody struct {
	io.ReadCloser
	left int64
	err  error
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One byte more tells an over-size body from one exactly at the cap.
		var one [1]byte
		n, err := l.ReadCloser.Read(one[:])
		if n > 0 {
			return 0, l.err
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.ReadCloser.Read(p)
	l.left -= int64(n)
	return n, err
}

// headerTimeout fails a request whose response headers do not come within
// d, with a *noAnswerError: a registry that accepts connections and never
// answers costs d, not the whole time budget. Reading the body is bounded by
// the caller's deadline and bodyLimit.
type headerTimeout struct {
	inner http.RoundTripper
	d     time.Duration
}

func (h *headerTimeout) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	ctx, cancel := context.WithCancel(req.Context())
	timer := time.AfterFunc(h.d, cancel)
	resp, err := h.inner.RoundTrip(req.WithContext(ctx))
	if !timer.Stop() && req.Context().Err() == nil {
		if resp != nil {
			resp.Body.Close()
		}
		cancel()
		return nil, &noAnswerError{host: req.URL.Host, after: h.d}
	}
	if err != nil {
		cancel()
		// The base transport's own timeouts (dial, TLS handshake) are the
		// same silence, found sooner.
		var ne net.Error
		if req.Context().Err() == nil && errors.As(err, &ne) && ne.Timeout() {
			return nil, &noAnswerError{host: req.URL.Host, after: roundWait(time.Since(start)), cause: err}
		}
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// roundWait rounds a wait for a message: to the second, or to the
// millisecond below one.
func roundWait(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Second)
}

// cancelOnClose releases a request's context once its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// maxRedirects is how many redirects net/http's client follows.
const maxRedirects = 10

// redirectGuard turns the answer that would be one redirect too many into
// a *redirectLoopError naming the host. Without it, the client's bare
// "stopped after 10 redirects" can hide behind the other scheme's error
// when a ping tried both.
type redirectGuard struct {
	inner http.RoundTripper
}

func (g *redirectGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := g.inner.RoundTrip(req)
	if err != nil || resp.StatusCode < 300 || resp.StatusCode > 399 || resp.Header.Get("Location") == "" {
		return resp, err
	}
	hops, first := 0, req
	for r := req; r.Response != nil && r.Response.Request != nil; r = r.Response.Request {
		hops++
		first = r.Response.Request
	}
	if hops+1 < maxRedirects {
		return resp, nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return nil, &redirectLoopError{host: first.URL.Host, n: hops + 1, last: redactURL(req)}
}
