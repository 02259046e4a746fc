package main

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The kinds of request the proxy counts.
const (
	kindPing     = "ping"     // GET /v2/
	kindHead     = "HEAD man" // HEAD /v2/<repo>/manifests/<ref>
	kindManifest = "GET man"  // GET /v2/<repo>/manifests/<ref>
	kindBlob     = "GET blob" // GET /v2/<repo>/blobs/<digest>
	kindToken    = "token"    // a token endpoint
	kindOther    = "other"
)

var kinds = []string{kindPing, kindHead, kindManifest, kindBlob, kindToken, kindOther}

// proxy stands for the internet between imagelock and a registry: every
// request waits latency before it is passed on. It counts requests by
// kind, and pings by the host name the client used, so two names of the
// one server show as two registries.
type proxy struct {
	latency time.Duration
	next    *httputil.ReverseProxy

	mu       sync.Mutex
	counts   map[string]int
	pings    map[string]int
	inflight int
	peak     int // most requests in flight at once
}

func newProxy(target *url.URL, latency time.Duration) *proxy {
	return &proxy{
		latency: latency,
		next:    httputil.NewSingleHostReverseProxy(target),
		counts:  map[string]int{},
		pings:   map[string]int{},
	}
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind := classify(r)
	p.mu.Lock()
	p.counts[kind]++
	if kind == kindPing {
		p.pings[r.Host]++
	}
	p.inflight++
	p.peak = max(p.peak, p.inflight)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.inflight--
		p.mu.Unlock()
	}()

	t := time.NewTimer(p.latency)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		return
	}
	p.next.ServeHTTP(w, r)
}

// reset zeroes the counters and returns what they held.
func (p *proxy) reset() (counts, pings map[string]int, peak int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	counts, pings, peak = p.counts, p.pings, p.peak
	p.counts, p.pings, p.peak = map[string]int{}, map[string]int{}, 0
	return counts, pings, peak
}

func classify(r *http.Request) string {
	path := r.URL.Path
	switch {
	case path == "/v2/" || path == "/v2":
		if r.Method == http.MethodGet {
			return kindPing
		}
	case strings.HasPrefix(path, "/v2/") && strings.Contains(path, "/manifests/"):
		switch r.Method {
		case http.MethodHead:
			return kindHead
		case http.MethodGet:
			return kindManifest
		}
	case strings.HasPrefix(path, "/v2/") && strings.Contains(path, "/blobs/"):
		if r.Method == http.MethodGet {
			return kindBlob
		}
	case strings.Contains(path, "token"):
		return kindToken
	}
	return kindOther
}
