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
	case e.Status >= 500 || e.Status == 0 && e.Err != nil && isNetwork(e.Err):
		return ErrUnreachable
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
