package resolve

import (
	"context"
	"net/http"
	"testing"
	"time"
)

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

// answer gives the limiter n answers, each after took with status; each
// frees its slot, and a request waiting takes it if the limit allows, so
// that the registry has as many requests as the limit allows, as in a
// long run.
func answer(t *testing.T, l *limiter, n int, took time.Duration, status int) {
	t.Helper()
	for range n {
		l.observe(took, status)
		l.release()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_ = l.acquire(ctx, nil)
	}
}

func TestLimiter(t *testing.T) {
	t.Parallel()
	const rtt = 50 * time.Millisecond
	slow := 2*rtt + latencySlack + time.Millisecond
	for _, tc := range []struct {
		name string
		max  int
		run  func(t *testing.T, l *limiter)
		want int
	}{
		{"starts at 64", 256, func(*testing.T, *limiter) {}, 64},
		{"starts at the cap when lower", 8, func(*testing.T, *limiter) {}, 8},
		{"doubles per round while latency is flat", 256, func(t *testing.T, l *limiter) {
			answer(t, l, 64, rtt, http.StatusOK)
		}, 128},
		{"stops at the cap", 100, func(t *testing.T, l *limiter) {
			answer(t, l, 64, rtt, http.StatusOK)
			answer(t, l, 100, rtt, http.StatusOK)
		}, 100},
		{"halves once on a round of 429s", 256, func(t *testing.T, l *limiter) {
			answer(t, l, 64, rtt, http.StatusTooManyRequests)
		}, 32},
		{"halves again on the next round of 429s", 256, func(t *testing.T, l *limiter) {
			answer(t, l, 64, rtt, http.StatusTooManyRequests)
			answer(t, l, 32, rtt, http.StatusTooManyRequests)
		}, 16},
		{"halves on a round with a quarter of 503s", 256, func(t *testing.T, l *limiter) {
			answer(t, l, 16, rtt, http.StatusServiceUnavailable)
			answer(t, l, 48, rtt, http.StatusOK)
		}, 56}, // 64 + 48 in slow start, halved
		{"a tenth of 429s cuts nothing", 256, func(t *testing.T, l *limiter) {
			answer(t, l, 6, rtt, http.StatusTooManyRequests)
			answer(t, l, 58, rtt, http.StatusOK)
		}, 122},
		{"500 is no signal", 256, func(t *testing.T, l *limiter) {
			answer(t, l, 64, rtt, http.StatusInternalServerError)
		}, 64},
		{"loses a quarter when half the answers are slow", 256, func(t *testing.T, l *limiter) {
			answer(t, l, 1, rtt, http.StatusOK)
			answer(t, l, 63, slow, http.StatusOK)
		}, 48},
		{"a few slow answers cut nothing", 256, func(t *testing.T, l *limiter) {
			answer(t, l, 1, rtt, http.StatusOK)
			answer(t, l, 20, slow, http.StatusOK)
			answer(t, l, 43, rtt, http.StatusOK)
		}, 108},
		{"latency within twice the fastest plus slack is flat", 256, func(t *testing.T, l *limiter) {
			answer(t, l, 1, rtt, http.StatusOK)
			answer(t, l, 63, 2*rtt+latencySlack, http.StatusOK)
		}, 128},
		{"grows by one per round after a cut", 256, func(t *testing.T, l *limiter) {
			answer(t, l, 64, rtt, http.StatusTooManyRequests)
			answer(t, l, 32, rtt, http.StatusOK)
			answer(t, l, 33, rtt, http.StatusOK)
		}, 33}, // 32 + 32/32 + 33/33, a hair under 34 by the rounding of 1/limit
		{"never below 1", 256, func(t *testing.T, l *limiter) {
			for range 10 {
				answer(t, l, l.cap(), rtt, http.StatusTooManyRequests)
			}
		}, 1},
		{"does not grow while little of it is used", 256, func(t *testing.T, l *limiter) {
			for range 63 { // one request at a time, far below the limit
				l.release()
			}
			answer(t, l, 100, rtt, http.StatusOK)
		}, 64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLimiter(tc.max)
			mustAcquireN(t, l, l.cap())
			tc.run(t, l)
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
	l := newLimiter(2)
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
