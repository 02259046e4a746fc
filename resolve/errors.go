package resolve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Sentinels for errors.Is: what went wrong, whatever the registry.
var (
	// ErrNotFound: the tag, digest or repository does not exist (any more).
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized: the registry refused the credentials, or asked for some.
	ErrUnauthorized = errors.New("authentication refused")
	// ErrUnreachable: the registry could not be reached, timed out, failed
	// with a server error, or presented a certificate that is not trusted.
	ErrUnreachable = errors.New("registry unreachable")
	// ErrHostDown: the registry host proved dead (no answer in time,
	// connection refused after retries, no such host), so every lookup on
	// it failed at once with one shared *HostError. Such errors are also
	// ErrUnreachable.
	ErrHostDown = errors.New("registry host down")
	// ErrRateLimited: the registry answered 429 Too Many Requests. After
	// one with no Retry-After, every lookup on that host fails at once
	// with one shared *HostError.
	ErrRateLimited = errors.New("rate limited")
)

// Error is a failed registry request for one image. Code and Message are
// the registry's own, from the JSON body of its answer when it sent one.
type Error struct {
	Image   string // the canonical image key or name@digest
	Op      string // "resolving" or "listing platforms"
	Status  int    // HTTP status; 0 when no answer came
	Code    string // e.g. "MANIFEST_UNKNOWN"
	Message string // the registry's message for Code
	Err     error  // the underlying error

	host    string        // the host contacted, when it differs from Image's
	timeout time.Duration // the time budget that ran out, if one did
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether the error is of the kind a sentinel names.
func (e *Error) Is(target error) bool {
	k := e.kind()
	return k != nil && k == target
}

func (e *Error) kind() error {
	if errors.Is(e.Err, context.Canceled) {
		return nil
	}
	switch {
	case e.Status == http.StatusNotFound || notFoundCode(e.Code):
		return ErrNotFound
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden ||
		e.Code == string(transport.UnauthorizedErrorCode) || e.Code == string(transport.DeniedErrorCode):
		return ErrUnauthorized
	case e.Status >= 500 || e.Status == 0 && e.Err != nil && (isNetwork(e.Err) || errors.Is(e.Err, ErrHostDown)):
		return ErrUnreachable
	case e.Status == http.StatusTooManyRequests:
		return ErrRateLimited
	}
	return nil
}

func notFoundCode(c string) bool {
	switch transport.ErrorCode(c) {
	case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode:
		return true
	}
	return false
}

// Error is one line: the image, what happened, and what to do about it.
func (e *Error) Error() string {
	return e.Image + ": " + e.describe()
}

func (e *Error) describe() string {
	host := e.registryHost()
	switch e.kind() {
	case ErrNotFound:
		what := "tag"
		switch {
		case e.Code == string(transport.NameUnknownErrorCode):
			what = "repository"
		case strings.Contains(e.Image, "@"):
			what = "manifest"
		}
		code := e.Code
		if code == "" {
			code = strconv.Itoa(e.Status)
		}
		return fmt.Sprintf("%s not found (%s)", what, code)
	case ErrUnauthorized:
		return fmt.Sprintf("authentication refused (%s): run 'docker login %s'", e.statusText(), host)
	}
	if e.Status == http.StatusTooManyRequests {
		return fmt.Sprintf("rate limited by %s (%s): wait and try again, or run 'docker login %s' for a higher limit", host, e.statusText(), host)
	}
	if e.Status >= 500 {
		return fmt.Sprintf("registry %s failed (%s%s): try again later", host, e.statusText(), e.message())
	}
	if e.Status != 0 {
		return fmt.Sprintf("%s: registry %s answered %s%s", e.Op, host, e.statusText(), e.message())
	}
	if e.Err == nil {
		return e.Op + ": unknown error"
	}
	var he *HostError
	if errors.As(e.Err, &he) {
		return he.describe()
	}
	var big *bodyTooLargeError
	if errors.As(e.Err, &big) {
		what := "manifest"
		if e.Op == "listing platforms" {
			what = "index"
		}
		return big.describe(what)
	}
	var loop *redirectLoopError
	if errors.As(e.Err, &loop) {
		return loop.Error() + ": check the registry name and mirror, or report it to the registry's operators"
	}
	if errors.Is(e.Err, context.Canceled) {
		return e.Op + ": canceled"
	}
	if errors.Is(e.Err, context.DeadlineExceeded) {
		if e.timeout > 0 {
			return fmt.Sprintf("no answer from %s within %s: check the network and try again", host, e.timeout)
		}
		return fmt.Sprintf("no answer from %s in time: check the network and try again", host)
	}
	if c := tlsCause(e.Err); c != nil {
		return fmt.Sprintf("TLS certificate of %s is not trusted (%s): add its CA to SSL_CERT_FILE or SSL_CERT_DIR", host, firstLine(c.Error()))
	}
	var ph *plainHTTPError
	if errors.As(e.Err, &ph) {
		return fmt.Sprintf("%s: pass --insecure-registry %s if it really serves plain HTTP", ph, ph.host)
	}
	cause := firstLine(causeText(e.Err))
	if strings.Contains(cause, "server gave HTTP response to HTTPS client") {
		return fmt.Sprintf("%s serves plain HTTP: pass --insecure-registry %s to allow it", host, host)
	}
	if isNetwork(e.Err) {
		return fmt.Sprintf("cannot reach %s (%s): check the network and the registry name", host, cause)
	}
	return e.Op + ": " + cause
}

// statusText is "401 UNAUTHORIZED", or "404" when the body had no code.
func (e *Error) statusText() string {
	switch {
	case e.Status != 0 && e.Code != "":
		return fmt.Sprintf("%d %s", e.Status, e.Code)
	case e.Code != "":
		return e.Code
	}
	return fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status))
}

func (e *Error) message() string {
	if e.Message == "" {
		return ""
	}
	return ": " + firstLine(e.Message)
}

func (e *Error) registryHost() string {
	if e.host != "" {
		return e.host
	}
	h, _, _ := strings.Cut(e.Image, "/")
	return h
}

// newError classifies err from an operation on image against host. ctx is
// the caller's context: when it is done, the error is the caller's, not a
// time budget running out.
func newError(ctx context.Context, image, host, op string, timeout time.Duration, err error) *Error {
	e := &Error{Image: image, Op: op, Err: err, host: host}
	if ctx.Err() != nil {
		e.Err = ctx.Err()
		return e
	}
	if errors.Is(err, context.DeadlineExceeded) {
		e.timeout = timeout
		return e
	}
	var te *transport.Error
	if tlsCause(err) == nil && errors.As(err, &te) {
		e.Status = te.StatusCode
		if len(te.Errors) > 0 {
			e.Code = string(te.Errors[0].Code)
			e.Message = te.Errors[0].Message
		}
	}
	return e
}

// plainHTTPError refuses a plain-HTTP request to a host not allowed one.
type plainHTTPError struct{ host string }

func (e *plainHTTPError) Error() string {
	return fmt.Sprintf("refusing plain HTTP to %s", e.host)
}

// HostError is the failure of a registry host that proved dead, or that
// refused more requests (a 429 with no Retry-After: Err is then
// ErrRateLimited). Every lookup on the host, pending or later, fails with
// an *Error wrapping the same *HostError, without another request; Join
// folds them into one.
type HostError struct {
	Host   string   // the host contacted, host[:port]
	Images []string // the images it failed, as Join counts them; nil on each lookup's own error
	Err    error    // what proved the host dead, or the refusal
}

// Unwrap returns what proved the host dead.
func (e *HostError) Unwrap() error { return e.Err }

// Is reports whether target is ErrRateLimited for a host that refused more
// requests, else whether it is ErrHostDown or ErrUnreachable.
func (e *HostError) Is(target error) bool {
	var rl *rateLimitError
	if errors.As(e.Err, &rl) {
		return target == ErrRateLimited
	}
	return target == ErrHostDown || target == ErrUnreachable
}

// Error names the host, why it is taken for dead or stopped, the images it
// failed when Join has counted them, and what to do next.
func (e *HostError) Error() string {
	return e.describe()
}

func (e *HostError) describe() string {
	why := firstLine(causeText(e.Err))
	var (
		na *noAnswerError
		op *net.OpError
	)
	switch {
	case errors.As(e.Err, &na):
		why = na.Error()
	case errors.As(e.Err, &op):
		why = op.Error() // the dial, not the URL, of one of the images
	}
	var rl *rateLimitError
	if errors.As(e.Err, &rl) {
		return fmt.Sprintf("registry %s refused more requests (%s)%s: %s, or run 'docker login %s' for a higher limit", e.Host, rl, e.images(), rl.next(), e.Host)
	}
	return fmt.Sprintf("registry %s is down (%s)%s: check the network and the registry name, then try again", e.Host, why, e.images())
}

// images names the images the host failed, when Join has counted them.
func (e *HostError) images() string {
	images := ""
	switch n := len(e.Images); {
	case n == 1:
		images = "; 1 image not resolved: " + e.Images[0]
	case n > 1 && n <= 3:
		images = fmt.Sprintf("; %d images not resolved: %s", n, strings.Join(e.Images, ", "))
	case n > 3:
		images = fmt.Sprintf("; %d images not resolved: %s and %d more", n, strings.Join(e.Images[:2], ", "), n-2)
	}
	return images
}

// Join is errors.Join for lookup errors, but the errors of every lookup on
// a host that proved dead become one *HostError that names how many images
// it failed, in the place of the first: one line per dead host, not one
// per image.
func Join(errs ...error) error {
	var out []error
	hosts := map[string]*HostError{}
	for _, err := range errs {
		var he *HostError
		if err == nil || !errors.As(err, &he) {
			out = append(out, err)
			continue
		}
		j := hosts[he.Host]
		if j == nil {
			j = &HostError{Host: he.Host, Err: he.Err}
			hosts[he.Host] = j
			out = append(out, j)
		}
		var e *Error
		if errors.As(err, &e) {
			j.Images = append(j.Images, e.Image)
		} else {
			j.Images = append(j.Images, he.Images...)
		}
	}
	return errors.Join(out...)
}

// hostDown reports whether err, after retries, shows the host dead rather
// than one request unlucky: no answer in time (dial and TLS handshake
// timeouts included), a refused or unroutable connection, or a name that
// does not resolve.
func hostDown(err error) bool {
	var (
		na  *noAnswerError
		dns *net.DNSError
	)
	return errors.As(err, &na) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) ||
		errors.As(err, &dns) && dns.IsNotFound
}

// noAnswerError is a request whose response headers did not come in time:
// RequestTimeout ran out, or one of the base transport's own timeouts.
type noAnswerError struct {
	host  string
	after time.Duration
	cause error // the base transport's timeout, e.g. "net/http: TLS handshake timeout"; nil for RequestTimeout
}

func (e *noAnswerError) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("no answer from %s within %s: %s", e.host, e.after, firstLine(causeText(e.cause)))
	}
	return fmt.Sprintf("no answer from %s within %s", e.host, e.after)
}

// Unwrap returns the base transport's timeout, if one ran out.
func (e *noAnswerError) Unwrap() error { return e.cause }

// Timeout reports true: noAnswerError is a net.Error that timed out.
func (e *noAnswerError) Timeout() bool { return true }

// Temporary reports false; it is part of net.Error.
func (e *noAnswerError) Temporary() bool { return false }

// bodyTooLargeError is a response body longer than imagelock reads.
type bodyTooLargeError struct {
	host   string
	limit  int64
	status int
}

func (e *bodyTooLargeError) Error() string {
	return fmt.Sprintf("%s sent a body over %s", e.host, byteSize(e.limit))
}

// describe names what was too large: the manifest or index asked for, or
// the body of an error answer.
func (e *bodyTooLargeError) describe(what string) string {
	if e.status < 200 || e.status > 299 {
		what = fmt.Sprintf("error body (%d %s)", e.status, http.StatusText(e.status))
	} else {
		what += " body"
	}
	return fmt.Sprintf("%s over %s from %s: the registry sent too much; report it to the registry's operators", what, byteSize(e.limit), e.host)
}

func byteSize(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

// redirectLoopError is a registry that redirects more times than any
// client follows, the last time from last (no credentials, no query).
type redirectLoopError struct {
	host string
	n    int
	last string
}

func (e *redirectLoopError) Error() string {
	return fmt.Sprintf("registry %s redirects in a loop (%d redirects, the last from %s)", e.host, e.n, e.last)
}

// isNetwork reports whether err means the registry did not answer.
func isNetwork(err error) bool {
	var (
		op  *net.OpError
		dns *net.DNSError
		ph  *plainHTTPError
		ne  net.Error
	)
	return errors.As(err, &op) || errors.As(err, &dns) || errors.As(err, &ph) ||
		errors.As(err, &ne) && ne.Timeout() ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		tlsCause(err) != nil ||
		strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}

// tlsCause returns the certificate error inside err, if there is one.
func tlsCause(err error) error {
	var (
		cv  *tls.CertificateVerificationError
		ua  x509.UnknownAuthorityError
		he  x509.HostnameError
		inv x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &cv):
		return cv.Err
	case errors.As(err, &ua):
		return ua
	case errors.As(err, &he):
		return he
	case errors.As(err, &inv):
		return inv
	}
	return nil
}

// causeText drops the "Head \"https://...\": " prefix of a *url.Error:
// the image already says what was asked.
func causeText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(line)
}
