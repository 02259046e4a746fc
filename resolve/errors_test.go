package resolve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"
)

func TestErrorMessages(t *testing.T) {
	t.Parallel()
	refused := &url.Error{Op: "Head", URL: "https://ghcr.io/v2/o/app/manifests/1", Err: &net.OpError{
		Op: "dial", Net: "tcp", Err: fmt.Errorf("connect: connection refused"),
	}}
	for _, tc := range []struct {
		name string
		err  *Error
		want string
		is   error
	}{
		{
			name: "tag not found",
			err:  &Error{Image: "docker.io/library/alpine:3.20", Status: 404, Code: "MANIFEST_UNKNOWN"},
			want: "docker.io/library/alpine:3.20: tag not found (MANIFEST_UNKNOWN)",
			is:   ErrNotFound,
		},
		{
			name: "digest not found, HEAD only",
			err:  &Error{Image: "docker.io/library/alpine@sha256:" + hash("1").Hex, Status: 404},
			want: "docker.io/library/alpine@sha256:" + hash("1").Hex + ": manifest not found (404)",
			is:   ErrNotFound,
		},
		{
			name: "refused credentials",
			err:  &Error{Image: "registry.example.com/team/app:1", Status: 401, Code: "UNAUTHORIZED", Message: "authentication required"},
			want: "registry.example.com/team/app:1: authentication refused (401 UNAUTHORIZED): run 'docker login registry.example.com'",
			is:   ErrUnauthorized,
		},
		{
			name: "denied through a mirror",
			err:  &Error{Image: "docker.io/library/alpine:3.20", Status: 403, host: "mirror.local:5000"},
			want: "docker.io/library/alpine:3.20: authentication refused (403 Forbidden): run 'docker login mirror.local:5000'",
			is:   ErrUnauthorized,
		},
		{
			name: "server error",
			err:  &Error{Image: "ghcr.io/o/app:1", Status: 502, Code: "UNAVAILABLE", Message: "upstream down\nsecond line"},
			want: "ghcr.io/o/app:1: registry ghcr.io failed (502 UNAVAILABLE: upstream down): try again later",
			is:   ErrUnreachable,
		},
		{
			name: "other status",
			err:  &Error{Image: "ghcr.io/o/app:1", Op: "resolving", Status: 400, Code: "NAME_INVALID", Message: "invalid repository name"},
			want: "ghcr.io/o/app:1: resolving: registry ghcr.io answered 400 NAME_INVALID: invalid repository name",
		},
		{
			name: "connection refused",
			err:  &Error{Image: "ghcr.io/o/app:1", Op: "resolving", Err: refused},
			want: "ghcr.io/o/app:1: cannot reach ghcr.io (dial tcp: connect: connection refused): check the network and the registry name",
			is:   ErrUnreachable,
		},
		{
			name: "time budget spent",
			err:  &Error{Image: "ghcr.io/o/app:1", Op: "resolving", Err: context.DeadlineExceeded, timeout: 2 * time.Minute},
			want: "ghcr.io/o/app:1: no answer from ghcr.io within 2m0s: check the network and try again",
			is:   ErrUnreachable,
		},
		{
			name: "canceled",
			err:  &Error{Image: "ghcr.io/o/app:1", Op: "resolving", Status: 0, Err: context.Canceled},
			want: "ghcr.io/o/app:1: resolving: canceled",
			is:   context.Canceled,
		},
		{
			name: "anything else",
			err:  &Error{Image: "ghcr.io/o/app:1", Op: "resolving", Err: errors.New("malformed www-authenticate\nrest")},
			want: "ghcr.io/o/app:1: resolving: malformed www-authenticate",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error():\n got %s\nwant %s", got, tc.want)
			}
			var wrapped error = fmt.Errorf("locking: %w", tc.err)
			for _, s := range []error{ErrNotFound, ErrUnauthorized, ErrUnreachable} {
				if got, want := errors.Is(wrapped, s), s == tc.is; got != want {
					t.Errorf("errors.Is(err, %v) = %v, want %v", s, got, want)
				}
			}
			if tc.is != nil && !errors.Is(wrapped, tc.is) {
				t.Errorf("errors.Is(err, %v) = false", tc.is)
			}
		})
	}
}

func TestJoin(t *testing.T) {
	t.Parallel()
	a := &HostError{Host: "a.example", Err: &noAnswerError{host: "a.example", after: 30 * time.Second}}
	b := &HostError{Host: "b.example", Err: errors.New("dial tcp: lookup b.example: no such host")}
	other := &Error{Image: "c.example/app:1", Status: 404, Code: "MANIFEST_UNKNOWN"}
	err := Join(
		&Error{Image: "a.example/one:1", Err: a},
		other,
		&Error{Image: "b.example/x:1", Err: b},
		fmt.Errorf("verifying: %w", &Error{Image: "a.example/two:1", Err: a}),
		nil,
	)
	want := "registry a.example is down (no answer from a.example within 30s); 2 images not resolved: a.example/one:1, a.example/two:1: check the network and the registry name, then try again\n" +
		"c.example/app:1: tag not found (MANIFEST_UNKNOWN)\n" +
		"registry b.example is down (dial tcp: lookup b.example: no such host); 1 image not resolved: b.example/x:1: check the network and the registry name, then try again"
	if got := err.Error(); got != want {
		t.Errorf("Join:\n got %s\nwant %s", got, want)
	}
	if !errors.Is(err, ErrHostDown) || !errors.Is(err, ErrUnreachable) || !errors.Is(err, ErrNotFound) {
		t.Errorf("Join lost a sentinel: %v", err)
	}
	if Join() != nil || Join(nil, nil) != nil {
		t.Error("Join of no errors is not nil")
	}
}
