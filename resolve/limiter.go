package resolve

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Concurrency of the requests to one registry: where it starts, and how
// much slower than the fastest answer seen an answer may be before the
// registry counts as loaded.
const (
	initialLimit  = 64
	latencyFactor = 2
	latencySlack  = 10 * time.Millisecond
)

// limiter bounds the requests at once to one registry, adaptively: the
// limit starts at initialLimit (or the hard cap, if lower), doubles with
// each round of answers while they come as fast as the fastest seen, then
// grows by one per round; it halves on a 429 or 503 and loses a quarter on
// an answer more than latencyFactor times slower (plus latencySlack) than
// the fastest. Only answers to requests sent after the last cut can cut it
// again: one overload is one cut, not one per request in flight. It never
// goes above max (Options.Jobs) or below 1.
type limiter struct {
	now func() time.Time
	max int

	mu       sync.Mutex
	limit    float64
	growing  bool          // slow start: +1 per answer until the first cut
	inFlight int           // requests holding a slot
	fastest  time.Duration // lowest latency of an answer; 0 before one
	cut      time.Time     // when the limit was last lowered
	waiters  []chan struct{}
}

func newLimiter(max int, now func() time.Time) *limiter {
	return &limiter{now: now, max: max, limit: float64(min(max, initialLimit)), growing: true}
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

// observe takes in the answer to a request sent at start, whose headers
// came took later with status, and returns the limit before and after.
func (l *limiter) observe(start time.Time, took time.Duration, status int) (before, after int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	before = l.cap()
	fresh := !start.Before(l.cut)
	switch {
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		if fresh {
			l.lower(0.5)
		}
	case status >= 500:
	case l.fastest == 0 || took < l.fastest:
		l.fastest = took
		l.grow()
	case took > latencyFactor*l.fastest+latencySlack:
		if fresh {
			l.lower(0.75)
		}
	default:
		l.grow()
	}
	l.wake()
	return before, l.cap()
}

func (l *limiter) lower(factor float64) {
	l.limit = max(1, l.limit*factor)
	l.growing = false
	l.cut = l.now()
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

// isManifest reports whether req asks for a manifest: the requests that
// hold a slot, as tokens and pings do not.
func isManifest(req *http.Request) bool {
	return strings.Contains(req.URL.Path, "/manifests/")
}
