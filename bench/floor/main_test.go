package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// registry is a registry with a token server in front, or none: it
// answers a HEAD with digest "sha256:" + the tag, and counts requests.
type registry struct {
	tokens bool

	mu       sync.Mutex
	requests map[string]int // by method and the path's last element kind
}

func (r *registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	kind := req.Method + " " + req.URL.Path
	if strings.Contains(req.URL.Path, "/manifests/") {
		kind = req.Method + " manifest"
	}
	r.mu.Lock()
	r.requests[kind]++
	r.mu.Unlock()
	if req.URL.Path == "/token" {
		fmt.Fprintf(w, `{"token": %q}`, strings.Join(req.URL.Query()["scope"], " "))
		return
	}
	if r.tokens {
		repo, _, _ := strings.Cut(strings.TrimPrefix(req.URL.Path, "/v2/"), "/manifests/")
		if !slices.Contains(strings.Fields(strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")), "repository:"+repo+":pull") {
			w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+req.Host+`/token",service="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	}
	if tag, ok := strings.CutPrefix(req.URL.Path[strings.LastIndex(req.URL.Path, "/"):], "/"); ok && req.Method == http.MethodHead {
		w.Header().Set("Docker-Content-Digest", "sha256:"+tag)
	}
}

// The floor makes one ping per registry, one token request per batch of
// scopes, and one HEAD per key; it fails on a digest that differs.
func TestVerify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		tokens bool
		digest func(tag string) string
		want   map[string]int
		ok     bool
	}{
		{"plain", false, func(tag string) string { return "sha256:" + tag }, map[string]int{"GET /v2/": 1, "HEAD manifest": 7}, true},
		{"tokens, 5 repositories in batches of 2", true, func(tag string) string { return "sha256:" + tag }, map[string]int{"GET /v2/": 1, "GET /token": 3, "HEAD manifest": 7}, true},
		{"a digest moved", false, func(tag string) string { return "sha256:0" }, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := &registry{tokens: tc.tokens, requests: map[string]int{}}
			srv := httptest.NewServer(reg)
			defer srv.Close()
			host := strings.TrimPrefix(srv.URL, "http://")
			p := plan{scheme: "http", limit: 3, scopes: 2}
			for i := range 7 {
				tag := fmt.Sprintf("%d", i+1)
				p.keys = append(p.keys, key{Host: host, Repo: fmt.Sprintf("team/svc%d", i%5), Tag: tag, Digest: tc.digest(tag)})
			}
			n, err := verify(context.Background(), srv.Client().Transport.(*http.Transport), p)
			if (err == nil) != tc.ok {
				t.Fatalf("verify = %d, %v, want ok %t", n, err, tc.ok)
			}
			if !tc.ok {
				return
			}
			if n != 7 {
				t.Errorf("verified %d keys, want 7", n)
			}
			if fmt.Sprint(reg.requests) != fmt.Sprint(tc.want) {
				t.Errorf("requests %v, want %v", reg.requests, tc.want)
			}
		})
	}
}
