package resolve

import (
	"fmt"
	"io"
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
// real one. go-containerregistry pings once per repository (each Puller
// fetcher runs its own auth handshake); the challenge is the registry's,
// so one ping per host is enough.
type pingCache struct {
	inner http.RoundTripper

	mu      sync.Mutex
	entries map[string]*pingEntry // by scheme://host
}

type pingEntry struct {
	sem    chan struct{} // held while the first ping runs
	done   atomic.Bool   // read by entry without sem; set after status and header
	status int
	header http.Header
}

func (c *pingCache) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || req.URL.Path != "/v2/" {
		return c.inner.RoundTrip(req)
	}
	host := strings.ToLower(req.URL.Host)
	e, other := c.entry(req.URL.Scheme, host)
	if e == nil {
		return nil, fmt.Errorf("%s already answered over %s", host, other)
	}
	select {
	case e.sem <- struct{}{}:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	defer func() { <-e.sem }()
	if !e.done.Load() {
		resp, err := c.inner.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusUnauthorized {
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		e.status, e.header = resp.StatusCode, resp.Header.Clone()
		e.done.Store(true)
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

// entry returns the entry for scheme://host, or nil and the other scheme
// when the host already answered a ping over that one: this one need not be
// tried.
func (c *pingCache) entry(scheme, host string) (*pingEntry, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]*pingEntry{}
	}
	otherScheme := "http"
	if scheme == "http" {
		otherScheme = "https"
	}
	if o := c.entries[otherScheme+"://"+host]; o != nil && o.done.Load() {
		return nil, otherScheme
	}
	e := c.entries[scheme+"://"+host]
	if e == nil {
		e = &pingEntry{sem: make(chan struct{}, 1)}
		c.entries[scheme+"://"+host] = e
	}
	return e, ""
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
