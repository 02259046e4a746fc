package resolve

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RateLimit is what a registry said of its pull limit in the
// ratelimit-limit and ratelimit-remaining headers of an answer, as Docker
// Hub sends them on every manifest request ("100;w=21600"). A HEAD does
// not count against Docker Hub's limit, so the figures are those of pulls
// elsewhere from the same account or address.
type RateLimit struct {
	Host      string        // the registry, as the image key names it (or its mirror)
	Limit     int           // requests allowed per Window
	Remaining int           // requests left in the current Window
	Window    time.Duration // 0 when the registry did not say
}

// Low reports whether fewer than a tenth of the requests are left.
func (l RateLimit) Low() bool {
	return l.Remaining*10 < l.Limit
}

// String is "76 of 100 requests left per 6h".
func (l RateLimit) String() string {
	s := fmt.Sprintf("%d of %d requests left", l.Remaining, l.Limit)
	if l.Window > 0 {
		s += " per " + window(l.Window)
	}
	return s
}

// window writes a rate-limit window in its largest whole unit: "6h", "90m".
func window(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// parseRateLimit reads the ratelimit-limit and ratelimit-remaining headers
// ("100;w=21600"); ok is false when either is missing or malformed.
func parseRateLimit(h http.Header) (l RateLimit, ok bool) {
	limit, w1, ok1 := rateField(h.Get("Ratelimit-Limit"))
	left, w2, ok2 := rateField(h.Get("Ratelimit-Remaining"))
	if !ok1 || !ok2 || limit <= 0 {
		return RateLimit{}, false
	}
	return RateLimit{Limit: limit, Remaining: min(left, limit), Window: max(w1, w2)}, true
}

// rateField reads "N" or "N;w=SECONDS".
func rateField(v string) (n int, w time.Duration, ok bool) {
	num, params, _ := strings.Cut(v, ";")
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n < 0 {
		return 0, 0, false
	}
	for p := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if secs, err := strconv.Atoi(v); k == "w" && err == nil && secs > 0 {
			w = time.Duration(secs) * time.Second
		}
	}
	return n, w, true
}

// rateRecord is the last RateLimit a host reported, and whether it has
// refused a request with a 429 that named no time to come back.
type rateRecord struct {
	mu    sync.Mutex
	last  *RateLimit
	spent bool
}

// note records l and reports whether it differs from the last one.
func (r *rateRecord) note(l RateLimit) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last != nil && *r.last == l {
		return false
	}
	r.last = &l
	return true
}

func (r *rateRecord) refuse() {
	r.mu.Lock()
	r.spent = true
	r.mu.Unlock()
}

// refused returns whether the host refused a request with a 429 and no
// Retry-After, and the last RateLimit it reported (nil if none).
func (r *rateRecord) refused() (bool, *RateLimit) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.spent, r.last
}

type hostKey struct{}

// observer tells each answer to the host whose lookup sent it (its
// hostState is in the request's context): the rate-limit headers, and a
// 429 with no Retry-After, to the host's rateRecord, and to report when
// they change, one call at a time, whatever the request (a tag list, a
// signature, a blob); and for a manifest request, the latency and status
// to the host's limiter, whose cuts it logs.
type observer struct {
	inner  http.RoundTripper
	now    func() time.Time
	logf   func(format string, args ...any)
	report func(RateLimit)

	mu sync.Mutex // serializes noting and reporting rate limits
}

func (o *observer) RoundTrip(req *http.Request) (*http.Response, error) {
	h, _ := req.Context().Value(hostKey{}).(*hostState)
	if h == nil {
		return o.inner.RoundTrip(req)
	}
	start := o.now()
	resp, err := o.inner.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if isManifest(req) {
		before, after := h.limit.observe(o.now().Sub(start), resp.StatusCode)
		if after < before && o.logf != nil {
			o.logf("%s: %d requests at once, down from %d (%s)", h.name, after, before, resp.Status)
		}
	}
	if l, ok := parseRateLimit(resp.Header); ok {
		l.Host = h.name
		// One lock around noting and reporting: reports come in the
		// order the changes were noted.
		o.mu.Lock()
		if h.rate.note(l) && o.report != nil {
			o.report(l)
		}
		o.mu.Unlock()
	}
	if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
		h.rate.refuse()
	}
	return resp, nil
}

// rateLimitError is a registry that refused a request with a 429 and no
// Retry-After: its limit is spent, and asking again soon is no use.
type rateLimitError struct {
	last *RateLimit // the last the registry reported, nil if it did not
}

func (e *rateLimitError) Error() string {
	s := "429 Too Many Requests, no Retry-After"
	if e.last != nil {
		s += "; " + e.last.String()
	}
	return s
}

// next is when to try again: within the window, when the registry named one.
func (e *rateLimitError) next() string {
	if e.last != nil && e.last.Window > 0 {
		return "try again within " + window(e.last.Window)
	}
	return "try again later"
}
