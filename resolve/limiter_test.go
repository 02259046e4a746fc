package resolve

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// fakeClock is a clock the test moves.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newFakeClock() *fakeClock               { return &fakeClock{t: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)} }
func mustAcquire(t *testing.T, l *limiter)   { t.Helper(); mustAcquireN(t, l, 1) }
func mustAcquireN(t *testing.T, l *limiter, n int) {
	t.Helper()
	for range n {
		ctx, cancel := context.WithCancel(t.Context())
		cancel() // a slot free now is granted; none free fails at once
		if err := l.acquire(ctx, nil); err != nil {
			t.Fatalf("no free slot with %d in flight at limit %d", l.inFlight, l.cap())
		}
	}
}

// round answers n requests sent at start, each after took with status;
// each answer frees its slot, and a request waiting takes it if the limit
// allows, so the registry has as many requests as the limit allows, as in
// a long run.
func round(t *testing.T, l *limiter, c *fakeClock, n int, took time.Duration, status int) {
	t.Helper()
	start := c.now()
	c.advance(took)
	for range n {
		l.observe(start, took, status)
		l.release()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_ = l.acquire(ctx, nil)
	}
}

func TestLimiter(t *testing.T) {
	t.Parallel()
	const rtt = 50 * time.Millisecond
	for _, tc := range []struct {
		name string
		max  int
		run  func(t *testing.T, l *limiter, c *fakeClock)
		want int
	}{
		{"starts at 64", 256, func(*testing.T, *limiter, *fakeClock) {}, 64},
		{"starts at the cap when lower", 8, func(*testing.T, *limiter, *fakeClock) {}, 8},
		{"doubles per round while latency is flat", 256, func(t *testing.T, l *limiter, c *fakeClock) {
			round(t, l, c, 64, rtt, http.StatusOK)
		}, 128},
		{"stops at the cap", 100, func(t *testing.T, l *limiter, c *fakeClock) {
			round(t, l, c, 64, rtt, http.StatusOK)
			round(t, l, c, 100, rtt, http.StatusOK)
		}, 100},
		{"halves once on a wave of 429s", 256, func(t *testing.T, l *limiter, c *fakeClock) {
			round(t, l, c, 64, rtt, http.StatusTooManyRequests)
		}, 32},
		{"halves again on a 429 to a request sent after the cut", 256, func(t *testing.T, l *limiter, c *fakeClock) {
			round(t, l, c, 64, rtt, http.StatusTooManyRequests)
			round(t, l, c, 1, rtt, http.StatusTooManyRequests)
		}, 16},
		{"halves on 503", 256, func(t *testing.T, l *limiter, c *fakeClock) {
			round(t, l, c, 1, rtt, http.StatusServiceUnavailable)
		}, 32},
		{"500 is no signal", 256, func(t *testing.T, l *limiter, c *fakeClock) {
			round(t, l, c, 64, rtt, http.StatusInternalServerError)
		}, 64},
		{"loses a quarter when latency rises", 256, func(t *testing.T, l *limiter, c *fakeClock) {
			round(t, l, c, 1, rtt, http.StatusOK)
			round(t, l, c, 1, 3*rtt, http.StatusOK)
		}, 48},
		{"latency within twice the fastest plus slack is flat", 256, func(t *testing.T, l *limiter, c *fakeClock) {
			round(t, l, c, 1, rtt, http.StatusOK)
			round(t, l, c, 63, 2*rtt+latencySlack, http.StatusOK)
		}, 128},
		{"grows by one per round after a cut", 256, func(t *testing.T, l *limiter, c *fakeClock) {
			round(t, l, c, 1, rtt, http.StatusTooManyRequests)
			round(t, l, c, 32, rtt, http.StatusOK)
		}, 32}, // 32 + about 1, below 33 by the rounding of 1/limit
		{"never below 1", 256, func(t *testing.T, l *limiter, c *fakeClock) {
			for range 10 {
				round(t, l, c, 1, rtt, http.StatusTooManyRequests)
			}
		}, 1},
		{"does not grow while little of it is used", 256, func(t *testing.T, l *limiter, c *fakeClock) {
			for range 63 { // one request at a time, far below the limit
				l.release()
			}
			for range 100 {
				round(t, l, c, 1, rtt, http.StatusOK)
			}
		}, 64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newFakeClock()
			l := newLimiter(tc.max, c.now)
			mustAcquireN(t, l, l.cap())
			tc.run(t, l, c)
			if got := l.cap(); got != tc.want {
				t.Errorf("limit = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestLimiterWaits checks that a request waits for a slot while the limit
// is used up, gets the slot freed, and leaves the queue when its context
// ends.
func TestLimiterWaits(t *testing.T) {
	t.Parallel()
	l := newLimiter(2, newFakeClock().now)
	mustAcquireN(t, l, 2)
	got := make(chan error, 1)
	go func() { got <- l.acquire(t.Context(), nil) }()
	for {
		l.mu.Lock()
		n := len(l.waiters)
		l.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-got:
		t.Fatalf("third request got a slot of two: %v", err)
	default:
	}
	l.release()
	if err := <-got; err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := l.acquire(ctx, nil); err != context.Canceled {
		t.Errorf("acquire with a canceled context and no slot free = %v, want context.Canceled", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.waiters) != 0 || l.inFlight != 2 {
		t.Errorf("after the canceled wait: %d waiting, %d in flight; want 0 and 2", len(l.waiters), l.inFlight)
	}
}
