package resolve

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Concurrency of the requests to one registry: where it starts, how much
// slower than the fastest answer seen an answer may be before it counts
// as slow, and what share of a round's answers must be throttled (429,
// 503) or slow for the limit to come down.
const (
	initialLimit   = 64
	latencyFactor  = 2
	latencySlack   = 10 * time.Millisecond
	throttledShare = 4 // a quarter
	slowShare      = 2 // a half
)

// limiter bounds the requests at once to one registry, adaptively. The
// limit starts at initialLimit (or the hard cap, if lower) and grows
// while it is in use: by one per answer that is not slow (within
// latencyFactor times the fastest seen, plus latencySlack), which doubles
// it each round, until the first cut, then by one per round.
// Answers are judged by rounds, a round being as many answers as the
// limit: the limit halves after a round in which a quarter of the
// answers were 429 or 503, and loses a quarter after one in which half
// were more than latencyFactor times slower (plus latencySlack) than the
// fastest. A few throttled answers among many (one request unlucky, the
// registry's Retry-After honoured by the retries) cut nothing; an overload
// costs one cut per round, not one per request in flight. The limit never
// goes above max (Options.Jobs) or below 1.
type limiter struct {
	max int

	mu        sync.Mutex
	limit     float64
	growing   bool          // slow start: +1 per answer until the first cut
	inFlight  int           // requests holding a slot
	fastest   time.Duration // lowest latency of an answer; 0 before one
	round     int           // answers the current round takes
	answers   int           // answers in the current round
	throttled int           // of which 429 or 503
	slow      int           // of which slow
	waiters   []chan struct{}
}

func newLimiter(max int) *limiter {
	l := &limiter{max: max, limit: float64(min(max, initialLimit)), growing: true}
	l.round = l.cap()
	return l
}

// acquire waits for a slot, until ctx or dead is done. release gives it back.
func (l *limiter) acquire(ctx context.Context, dead <-chan struct{}) error {
	l.mu.Lock()
	if len(l.waiters) == 0 && l.inFlight < l.cap() {
		l.inFlight++
		l.mu.Unlock()
		return nil
	}
	ready := make(chan struct{})
	l.waiters = append(l.waiters, ready)
	l.mu.Unlock()
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
	case <-dead:
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-ready: // granted meanwhile: give it back
		l.inFlight--
		l.wake()
	default:
		for i, w := range l.waiters {
			if w == ready {
				l.waiters = append(l.waiters[:i:i], l.waiters[i+1:]...)
				break
			}
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return context.Canceled
}

func (l *limiter) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight--
	l.wake()
}

// cap is the whole number of requests the limit allows at once.
func (l *limiter) cap() int {
	return max(1, int(l.limit))
}

// wake hands free slots to the longest waiting.
func (l *limiter) wake() {
	for len(l.waiters) > 0 && l.inFlight < l.cap() {
		close(l.waiters[0])
		l.waiters = l.waiters[1:]
		l.inFlight++
	}
}

// observe takes in an answer whose headers came took after its request
// with status, and returns the limit before and after.
func (l *limiter) observe(took time.Duration, status int) (before, after int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	before = l.cap()
	switch {
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		l.throttled++
	case status >= 500:
	case l.fastest == 0 || took < l.fastest:
		l.fastest = took
		l.grow()
	case took > latencyFactor*l.fastest+latencySlack:
		l.slow++
	default:
		l.grow()
	}
	if l.answers++; l.answers >= l.round {
		switch {
		case l.throttled*throttledShare >= l.answers:
			l.lower(0.5)
		case l.slow*slowShare >= l.answers:
			l.lower(0.75)
		}
		l.round, l.answers, l.throttled, l.slow = l.cap(), 0, 0, 0
	}
	l.wake()
	return before, l.cap()
}

func (l *limiter) lower(factor float64) {
	l.limit = max(1, l.limit*factor)
	l.growing = false
}

// grow raises the limit when it is in use: by one per answer in slow
// start (which doubles it each round), else by one per round.
func (l *limiter) grow() {
	if float64(l.inFlight) < l.limit/2 {
		return
	}
	if l.growing {
		l.limit++
	} else {
		l.limit += 1 / l.limit
	}
	l.limit = min(l.limit, float64(l.max))
}

// isManifest reports whether req asks for a manifest: the requests the
// limiter judges. Tag lists, referrers and blobs hold a slot too, but
// their time says nothing of the registry's load (a page of tags is
// slower than a HEAD); tokens and pings hold none.
func isManifest(req *http.Request) bool {
	return strings.Contains(req.URL.Path, "/manifests/")
}
