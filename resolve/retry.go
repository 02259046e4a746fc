package resolve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// retryPolicy says how often and how long to retry one request.
type retryPolicy struct {
	attempts int           // tries of one request, the first included
	base     time.Duration // first backoff; it doubles on each retry
	max      time.Duration // longest backoff; Retry-After may ask for more
}

var defaultRetry = retryPolicy{attempts: 5, base: 250 * time.Millisecond, max: 8 * time.Second}

// backoff is the wait before try number attempt+1: exponential, with jitter
// so that many clients throttled together do not come back together.
func (p retryPolicy) backoff(attempt int) time.Duration {
	d := p.base << (attempt - 1)
	if d > p.max || d <= 0 {
		d = p.max
	}
	half := d / 2
	return half + rand.N(half+1)
}

// retryTransport retries a request on 429 with a Retry-After, 5xx and
// dropped connections, honouring Retry-After, and never sleeps past the
// request's deadline.
type retryTransport struct {
	inner  http.RoundTripper
	policy retryPolicy
	logf   func(format string, args ...any)
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 && hasBody(req) {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r = req.Clone(ctx)
			r.Body = body
		}
		resp, err := t.inner.RoundTrip(r)
		wait, why, retry := t.retryable(ctx, resp, err, attempt)
		if !retry || attempt >= t.policy.attempts || hasBody(req) && req.GetBody == nil {
			return resp, err
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if t.logf != nil {
			t.logf("retrying %s %s in %s: %s", req.Method, redactURL(req), wait.Round(time.Millisecond), why)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		case <-timer.C:
		}
	}
}

func hasBody(req *http.Request) bool {
	return req.Body != nil && req.Body != http.NoBody
}

// retryable says whether an answer is worth another try, after how long,
// and why, for the log.
func (t *retryTransport) retryable(ctx context.Context, resp *http.Response, err error, attempt int) (time.Duration, string, bool) {
	if err != nil {
		if ctx.Err() != nil || !transient(err) {
			return 0, "", false
		}
		return t.policy.backoff(attempt), firstLine(err.Error()), true
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusRequestTimeout,
		http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
	default:
		return 0, "", false
	}
	wait := t.policy.backoff(attempt)
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		wait = d
	} else if resp.StatusCode == http.StatusTooManyRequests {
		// A limit spent, with no word of when it comes back: retries
		// within seconds would only be refused too.
		return 0, "", false
	}
	return wait, resp.Status, true
}

// transient reports whether a failed round trip may work when tried again:
// a dropped or refused connection or a network timeout, not a certificate
// error, a protocol mismatch, or a registry that sent no answer within the
// request timeout (asking again would cost that much again).
func transient(err error) bool {
	var na *noAnswerError
	if tlsCause(err) != nil || errors.As(err, &na) {
		return false
	}
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) ||
		errors.As(err, &ne) && ne.Timeout()
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(at.Sub(now), 0), true
}

// redactURL is the URL without user info or query: enough for a log line,
// never a credential or token.
func redactURL(req *http.Request) string {
	return fmt.Sprintf("%s://%s%s", req.URL.Scheme, req.URL.Host, req.URL.Path)
}
