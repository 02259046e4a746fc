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
)

func TestParseRateLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		limit, remaining string
		want             RateLimit
		ok               bool
	}{
		{"100;w=21600", "76;w=21600", RateLimit{Limit: 100, Remaining: 76, Window: 6 * time.Hour}, true},
		{"200", "3", RateLimit{Limit: 200, Remaining: 3}, true},
		{"100;w=21600", "0", RateLimit{Limit: 100, Window: 6 * time.Hour}, true},
		{"100", "150", RateLimit{Limit: 100, Remaining: 100}, true},
		{"100;w=60;comment", " 7 ;w=60", RateLimit{Limit: 100, Remaining: 7, Window: time.Minute}, true},
		{"", "7", RateLimit{}, false},
		{"100", "", RateLimit{}, false},
		{"many", "7", RateLimit{}, false},
		{"0", "0", RateLimit{}, false},
		{"100", "-1", RateLimit{}, false},
	} {
		h := http.Header{}
		if tc.limit != "" {
			h.Set("RateLimit-Limit", tc.limit)
		}
		if tc.remaining != "" {
			h.Set("RateLimit-Remaining", tc.remaining)
		}
		got, ok := parseRateLimit(h)
		if got != tc.want || ok != tc.ok {
			t.Errorf("limit %q remaining %q: got %+v, %v; want %+v, %v", tc.limit, tc.remaining, got, ok, tc.want, tc.ok)
		}
	}
}

func TestRateLimitString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		l    RateLimit
		want string
		low  bool
	}{
		{RateLimit{Limit: 100, Remaining: 76, Window: 6 * time.Hour}, "76 of 100 requests left per 6h", false},
		{RateLimit{Limit: 100, Remaining: 10, Window: 90 * time.Minute}, "10 of 100 requests left per 90m", false},
		{RateLimit{Limit: 100, Remaining: 9, Window: 61 * time.Second}, "9 of 100 requests left per 1m1s", true},
		{RateLimit{Limit: 5, Remaining: 0}, "0 of 5 requests left", true},
	} {
		if got := tc.l.String(); got != tc.want {
			t.Errorf("%+v: String() = %q, want %q", tc.l, got, tc.want)
		}
		if got := tc.l.Low(); got != tc.low {
			t.Errorf("%+v: Low() = %v, want %v", tc.l, got, tc.low)
		}
	}
}

// hubLimits answers like Docker Hub: every manifest answer carries the
// limit and what is left of it, counted down by left; once nothing is
// left, a manifest request gets 429 with no Retry-After.
func hubLimits(left func() int) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.Contains(r.URL.Path, "/manifests/") {
				next.ServeHTTP(w, r)
				return
			}
			n := left()
			w.Header().Set("RateLimit-Limit", "100;w=21600")
			w.Header().Set("RateLimit-Remaining", fmt.Sprintf("%d;w=21600", max(n, 0)))
			if n < 0 {
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// TestRateLimitReported resolves keys one after the other while the
// registry's figures fall: each change is reported once, with the host.
func TestRateLimitReported(t *testing.T) {
	t.Parallel()
	figures := []int{50, 50, 9, 9}
	var mu sync.Mutex
	i := 0
	reg := newTestRegistry(t, hubLimits(func() int {
		mu.Lock()
		defer mu.Unlock()
		n := figures[min(i, len(figures)-1)]
		i++
		return n
	}))
	o := testOptions()
	var got []RateLimit
	o.RateLimit = func(l RateLimit) { got = append(got, l) }
	r := newRegistry(o, fastRetry)
	for n := range figures {
		repo := fmt.Sprintf("app%d", n)
		reg.pushImage(t, repo, "1")
		if _, err := r.Head(ctxFor(t), reg.key(repo, "1")); err != nil {
			t.Fatal(err)
		}
	}
	want := []RateLimit{
		{Host: reg.host, Limit: 100, Remaining: 50, Window: 6 * time.Hour},
		{Host: reg.host, Limit: 100, Remaining: 9, Window: 6 * time.Hour},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reported (-want +got):\n%s", diff)
	}
}

// TestRateLimitSpent lets one HEAD through with 1 request left, then
// answers 429 with no Retry-After: the lookup that meets it fails without
// a retry, saying what was left and when to come back, and the lookups
// after it fail without a request; Join makes them one line.
func TestRateLimitSpent(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	left := 1
	reg := newTestRegistry(t, hubLimits(func() int {
		mu.Lock()
		defer mu.Unlock()
		left--
		return left
	}))
	for i := range 5 {
		reg.pushImage(t, fmt.Sprintf("app%d", i), "1")
	}
	r := newRegistry(testOptions(), fastRetry)
	if _, err := r.Head(ctxFor(t), reg.key("app0", "1")); err != nil {
		t.Fatal(err)
	}
	var errs []error
	for i := 1; i < 5; i++ {
		_, err := r.Head(ctxFor(t), reg.key(fmt.Sprintf("app%d", i), "1"))
		if !errors.Is(err, ErrRateLimited) {
			t.Errorf("app%d: %v, want ErrRateLimited", i, err)
		}
		if errors.Is(err, ErrUnreachable) {
			t.Errorf("app%d: %v is ErrUnreachable; the registry answered", i, err)
		}
		errs = append(errs, err)
	}
	if n := reg.count.get("HEAD manifest"); n != 2 {
		t.Errorf("HEAD requests = %d, want 2: one answered, one refused, no retry and nothing after", n)
	}
	want := fmt.Sprintf("registry %s refused more requests (429 Too Many Requests, no Retry-After; 0 of 100 requests left per 6h): try again within 6h, or run 'docker login %s' for a higher limit", reg.host, reg.host)
	if got := errs[0].Error(); got != reg.key("app1", "1").String()+": "+want {
		t.Errorf("first error:\n got %s\nwant %s: %s", got, reg.key("app1", "1"), want)
	}
	wantJoined := fmt.Sprintf("registry %s refused more requests (429 Too Many Requests, no Retry-After; 0 of 100 requests left per 6h); 4 images not resolved: %s, %s and 2 more: try again within 6h, or run 'docker login %s' for a higher limit",
		reg.host, reg.key("app1", "1"), reg.key("app2", "1"), reg.host)
	if got := Join(errs...).Error(); got != wantJoined {
		t.Errorf("joined:\n got %s\nwant %s", got, wantJoined)
	}
}

// TestRateLimitSpentOnTagList checks that a 429 with no Retry-After on a
// request that is no manifest (a tag list, as update --bump sends) stops
// the host too: the listing fails without a retry, and a lookup after it
// without a request.
func TestRateLimitSpentOnTagList(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/tags/list") {
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	reg.pushImage(t, "app", "1")
	r := newRegistry(testOptions(), fastRetry)
	if _, err := r.Tags(ctxFor(t), reg.key("app", "1").Name); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("Tags: %v, want ErrRateLimited", err)
	}
	if n := reg.count.get("GET /v2/app/tags/list"); n != 1 {
		t.Errorf("tag list requests = %d, want 1: no retry", n)
	}
	if _, err := r.Head(ctxFor(t), reg.key("app", "1")); !errors.Is(err, ErrRateLimited) {
		t.Errorf("Head after the refusal: %v, want ErrRateLimited", err)
	}
	if n := reg.count.get("HEAD manifest"); n != 0 {
		t.Errorf("HEAD requests = %d, want none once the limit is spent", n)
	}
}
