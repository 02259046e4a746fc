package resolve

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
)

// TestUnknownHost checks that a registry name no resolver knows fails
// its first lookup in one line naming the host and what to check, with no
// retry (DNS will not learn the name in a second), and every later lookup
// on it at once.
func TestUnknownHost(t *testing.T) {
	t.Parallel()
	base := defaultTransport(1)
	base.DialContext = func(_ context.Context, network, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
	}
	ct := &countingTransport{inner: base}
	o := testOptions()
	o.Transport = ct
	r := newRegistry(o, fastRetry)

	_, err := r.Head(ctxFor(t), Key{Name: "registry.invalid/team/app", Tag: "1"})
	if !errors.Is(err, ErrHostDown) {
		t.Fatalf("first lookup: %v, want ErrHostDown", err)
	}
	var he *HostError
	if !errors.As(err, &he) || he.Host != "registry.invalid" {
		t.Errorf("error %v does not name the host registry.invalid", err)
	}
	for _, want := range []string{"registry.invalid", "no such host"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Count(err.Error(), "\n") > 0 {
		t.Errorf("error %q is more than one line", err)
	}
	if n := ct.n.Load(); n != 1 {
		t.Errorf("the first lookup made %d requests, want 1: a name DNS does not know is not retried", n)
	}
	if _, err := r.Head(ctxFor(t), Key{Name: "registry.invalid/team/other", Tag: "1"}); !errors.Is(err, ErrHostDown) {
		t.Errorf("second lookup: %v, want ErrHostDown", err)
	}
	if n := ct.n.Load(); n != 1 {
		t.Errorf("lookups made %d requests in all, want 1", n)
	}
}
