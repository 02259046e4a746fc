package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
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

// The faults the proxy can inject in place of a registry's answer.
const (
	fault429  = "429" // 429 Too Many Requests, Retry-After: 1
	fault503  = "503" // 503 Service Unavailable
	faultDrop = "drop"
)

// faults says how often the proxy fails a manifest request, as "1 in N"
// for each fault; 0 is never.
type faults struct {
	tooMany, unavailable, drop int
}

// injection counts one fault on one kind of request.
type injection struct {
	fault, kind string
}

// proxy stands for the internet between imagelock and a registry: every
// request waits latency before it is passed on. It counts requests by
// kind, and pings by the host name the client used, so two names of the
// one server show as two registries. With faults set, it answers some
// manifest requests with a failure instead (see pickFault).
type proxy struct {
	latency time.Duration
	next    *httputil.ReverseProxy
	tokens  bool // the token world: a bearer token per repository, from /token

	mu       sync.Mutex
	tally    // since the last reset
	inflight int
	faults   faults
	seen     map[string]bool // manifest requests by method, host and path
}

// tally is what the proxy counts of a run.
type tally struct {
	counts   map[string]int // requests by kind
	pings    map[string]int // by registry host
	peak     int            // most requests in flight at once
	injected map[injection]int
	scopes   int // repository scopes the token requests asked for
	conns    int // connections opened, those that never sent a request included
}

func newTally() tally {
	return tally{counts: map[string]int{}, pings: map[string]int{}, injected: map[injection]int{}}
}

func newProxy(target *url.URL, latency time.Duration, tokens bool) *proxy {
	next := httputil.NewSingleHostReverseProxy(target)
	// Keep the connections to the registry: the default transport keeps
	// 2 idle, so hundreds of requests at once opened a connection each
	// (and left as many ports in TIME_WAIT), CPU the proxy took from the
	// client measured.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 0, 1024
	next.Transport = tr
	return &proxy{
		latency: latency,
		tokens:  tokens,
		next:    next,
		tally:   newTally(),
		seen:    map[string]bool{},
	}
}

// connState counts the connections clients open: set it as the server's
// ConnState. It sees those the server refuses before any request (a TLS
// handshake sent to a plain HTTP port), which no count of requests shows.
func (p *proxy) connState(_ net.Conn, s http.ConnState) {
	if s == http.StateNew {
		p.mu.Lock()
		p.conns++
		p.mu.Unlock()
	}
}

// setFaults sets the faults injected from now on.
func (p *proxy) setFaults(f faults) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = f
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind := classify(r)
	p.mu.Lock()
	p.counts[kind]++
	if kind == kindPing {
		p.pings[r.Host]++
	}
	if kind == kindToken {
		p.scopes += len(r.URL.Query()["scope"])
	}
	var fault string
	if kind == kindHead || kind == kindManifest {
		fault = p.pickFault(r.Method + " " + r.Host + r.URL.Path)
		if fault != "" {
			p.injected[injection{fault, kind}]++
		}
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
	if p.tokens && !p.authorized(w, r, kind) {
		return
	}
	switch fault {
	case fault429:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many requests", http.StatusTooManyRequests)
	case fault503:
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
	case faultDrop:
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	default:
		p.next.ServeHTTP(w, r)
	}
}

// authorized plays a registry with a token server, as Docker Hub and
// GHCR are: /token hands out a token naming every repository scope asked
// for (the distribution token spec allows several), and every /v2/
// request wants a token, one that names its repository past the ping.
// It answers what is not authorized itself, and reports whether the
// request may go on.
func (p *proxy) authorized(w http.ResponseWriter, r *http.Request, kind string) bool {
	const prefix = "Bearer bench "
	if kind == kindToken {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"token": "bench " + strings.Join(r.URL.Query()["scope"], " "), "expires_in": 300})
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	challenge := fmt.Sprintf(`Bearer realm="%s://%s/token",service="bench"`, scheme, r.Host)
	auth := r.Header.Get("Authorization")
	ok := strings.HasPrefix(auth, prefix)
	if repo, _, isRepo := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v2/"), "/manifests/"); isRepo {
		scope := "repository:" + repo + ":pull"
		challenge += fmt.Sprintf(`,scope=%q`, scope)
		ok = ok && slices.Contains(strings.Fields(strings.TrimPrefix(auth, prefix)), scope)
	}
	if !ok {
		w.Header().Set("WWW-Authenticate", challenge)
		http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
	}
	return ok
}

// pickFault decides, with p.mu held, whether the manifest request id
// fails. Counting manifest requests not seen before, the n-th fails with
// 429 when n is 1 modulo faults.tooMany, else with 503 when n is 2 modulo
// faults.unavailable, else with a dropped connection when n is 3 modulo
// faults.drop: the offsets keep the defaults (10, 20, 50) from landing on
// the same requests, and make the first three requests fail, so that a
// tiny run meets every fault. A request seen before (a retry) always
// passes: every fault then costs exactly one more request, and the run's
// request counts are exact (see checkFaults).
func (p *proxy) pickFault(id string) string {
	if p.seen[id] {
		return ""
	}
	p.seen[id] = true
	n := len(p.seen)
	switch f := p.faults; {
	case hits(n, f.tooMany, 1):
		return fault429
	case hits(n, f.unavailable, 2):
		return fault503
	case hits(n, f.drop, 3):
		return faultDrop
	}
	return ""
}

// hits reports whether n is offset modulo every (never when every is 0).
func hits(n, every, offset int) bool {
	return every > 0 && n%every == offset%every
}

// reset zeroes the counters, forgets the requests seen, and returns what
// the counters held.
func (p *proxy) reset() tally {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.tally
	p.tally = newTally()
	p.seen = map[string]bool{}
	return t
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
