package resolve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Options configure a Registry. The zero value asks registries over HTTPS
// with the credentials docker and podman use.
type Options struct {
	Keychain  authn.Keychain                   // default Keychain(): docker's and podman's config, then the clouds'
	Insecure  []string                         // hosts allowed plain HTTP, besides localhost, 127.0.0.1 and [::1]
	Jobs      int                              // most concurrent requests per registry (default 8); fewer while it answers slowly or with 429/503
	Transport http.RoundTripper                // base transport; default a tuned clone of http.DefaultTransport
	Logf      func(format string, args ...any) // one line per request, from many goroutines; nil is silent
	Timeout   time.Duration                    // total time per image, retries included (default 2m)
	// RequestTimeout bounds the wait for one response's headers (default
	// 30s). A host that leaves a request unanswered that long is taken for
	// dead: every lookup on it then fails at once with one *HostError.
	RequestTimeout time.Duration
	Mirrors        map[string]string // registry -> mirror host, e.g. "docker.io" -> "mirror.local:5000"
	UserAgent      string
	// RateLimit, when set, is told each registry's rate limit (Docker
	// Hub's ratelimit-* headers) whenever an answer reports other figures
	// than the host's last; one call at a time. A 429 with no Retry-After
	// is not retried: every lookup on that host then fails at once.
	RateLimit func(RateLimit)
}

// Registry is the Resolver that asks real registries. It keeps one
// authenticated transport per repository and one /v2/ ping per host for its
// lifetime, so keep one Registry for a whole run. A host that proves dead
// stays dead for that lifetime: every lookup on it fails at once with one
// *HostError. It is safe for concurrent use.
type Registry struct {
	o        Options
	rt       http.RoundTripper // every request's transport, below the credentials
	insecure map[string]bool
	mirrors  map[string]string

	mu    sync.Mutex
	hosts map[string]*hostState
}

// hostState is what a Registry keeps of one host: its request slots, the
// auth handshake of its repositories, its rate limit, and once the host
// has proved dead or refused more requests, the *HostError every lookup
// on it gets.
type hostState struct {
	name  string // as Key.Registry or the mirror names it
	limit *limiter
	rate  rateRecord
	auth  hostAuth
	dead  context.Context         // done once the host proved dead; its cause is the *HostError
	kill  context.CancelCauseFunc // marks the host dead
}

// down returns the host's *HostError once it has proved dead, or nil.
func (h *hostState) down() error {
	if h.dead.Err() == nil {
		return nil
	}
	return context.Cause(h.dead)
}

var _ Resolver = (*Registry)(nil)

// New returns a Registry configured by o.
func New(o Options) *Registry {
	return newRegistry(o, defaultRetry)
}

func newRegistry(o Options, retry retryPolicy) *Registry {
	if o.Keychain == nil {
		o.Keychain = Keychain()
	}
	if o.Jobs <= 0 {
		o.Jobs = 8
	}
	if o.Transport == nil {
		o.Transport = defaultTransport(o.Jobs)
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 30 * time.Second
	}
	r := &Registry{
		o:        o,
		insecure: map[string]bool{},
		mirrors:  map[string]string{},
		hosts:    map[string]*hostState{},
	}
	for _, h := range o.Insecure {
		r.insecure[strings.ToLower(h)] = true
	}
	for reg, m := range o.Mirrors {
		if reg == name.DefaultRegistry || reg == "registry-1.docker.io" {
			reg = "docker.io"
		}
		r.mirrors[reg] = m
	}

	// Outermost first: redirect loops named, pings answered from memory,
	// then retries, each attempt's answer told to its registry's limiter
	// and logged, plain HTTP refused where not allowed, bounded in the
	// wait for headers and in the body's size.
	var rt http.RoundTripper = &bodyLimit{inner: o.Transport}
	rt = &headerTimeout{inner: rt, d: o.RequestTimeout}
	guard := &schemeGuard{inner: rt, insecure: r.insecure}
	rt = guard
	if o.Logf != nil {
		rt = &logTransport{inner: rt, logf: o.Logf}
	}
	rt = &observer{inner: rt, now: time.Now, logf: o.Logf, report: o.RateLimit}
	rt = &retryTransport{inner: rt, policy: retry, logf: o.Logf}
	rt = &pingCache{inner: rt, guard: guard}
	rt = &redirectGuard{inner: rt}

	r.rt = transport.NewUserAgent(rt, o.UserAgent)
	return r
}

// Head returns the digest k's tag points at, from one HEAD request. A
// registry that leaves out the Docker-Content-Digest header costs a GET, and
// the digest is then the hash of the manifest it sends.
func (r *Registry) Head(ctx context.Context, k Key) (Descriptor, error) {
	const op = "resolving"
	image := k.String()
	if k.Tag == "" {
		return Descriptor{}, &Error{Image: image, Op: op, Err: errors.New("no tag to resolve: the reference pins a digest")}
	}
	ref, host, err := r.target(k, nil)
	if err != nil {
		return Descriptor{}, &Error{Image: image, Op: op, Err: err}
	}
	desc, err := r.head(ctx, image, ref, host)
	if err != nil {
		return Descriptor{}, newError(ctx, image, host, op, r.o.Timeout, err)
	}
	return Descriptor{Digest: desc.Digest, Index: desc.MediaType.IsIndex()}, nil
}

// Exists checks with one HEAD that the repository nm still has the manifest
// or index at digest; the error is ErrNotFound when it does not.
func (r *Registry) Exists(ctx context.Context, nm string, digest v1.Hash) error {
	const op = "checking"
	image := nm + "@" + digest.String()
	ref, host, err := r.digestTarget(nm, digest)
	if err != nil {
		return &Error{Image: image, Op: op, Err: err}
	}
	if _, err := r.head(ctx, image, ref, host); err != nil {
		return newError(ctx, image, host, op, r.o.Timeout, err)
	}
	return nil
}

// head asks for ref with one HEAD. A GET follows only when the HEAD's
// answer cannot be used, or to learn why it was refused.
func (r *Registry) head(ctx context.Context, image string, ref name.Reference, host string) (v1.Descriptor, error) {
	var desc v1.Descriptor
	err := r.pull(ctx, ref, host, func(ctx context.Context, p *remote.Puller) error {
		d, err := p.Head(ctx, ref)
		if err == nil {
			desc = *d
			return nil
		}
		switch status := bodiless(err); {
		case incompleteHead(err):
			r.logf("%s: unusable HEAD answer (%s); falling back to GET", image, firstLine(err.Error()))
		case status != 0:
			r.logf("%s: HEAD answered %d; asking with GET for the registry's reason", image, status)
		default:
			return err
		}
		rd, err := p.Get(ctx, ref)
		if err != nil {
			return err
		}
		desc = rd.Descriptor
		desc.MediaType = mediaType(rd)
		return nil
	})
	return desc, err
}

// Platforms fetches the index at digest in the repository nm, with one GET,
// and maps each platform to its manifest digest. Attestation manifests
// (platform unknown/unknown) are left out. A single-platform manifest at
// digest gives nil: it has no platforms to list.
func (r *Registry) Platforms(ctx context.Context, nm string, digest v1.Hash) (map[string]v1.Hash, error) {
	const op = "listing platforms"
	image := nm + "@" + digest.String()
	ref, host, err := r.digestTarget(nm, digest)
	if err != nil {
		return nil, &Error{Image: image, Op: op, Err: err}
	}
	var rd *remote.Descriptor
	err = r.pull(ctx, ref, host, func(ctx context.Context, p *remote.Puller) error {
		var err error
		rd, err = p.Get(ctx, ref)
		return err
	})
	if err != nil {
		return nil, newError(ctx, image, host, op, r.o.Timeout, err)
	}
	if !mediaType(rd).IsIndex() {
		return nil, nil
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(rd.Manifest))
	if err != nil {
		return nil, &Error{Image: image, Op: op, Err: fmt.Errorf("parsing index: %w", err), host: host}
	}
	return platforms(im), nil
}

// platforms maps each platform of an index to its manifest, leaving out
// attestations and entries that name no platform.
func platforms(im *v1.IndexManifest) map[string]v1.Hash {
	out := map[string]v1.Hash{}
	for _, m := range im.Manifests {
		if m.Platform == nil || m.Platform.OS == "" || m.Platform.OS == "unknown" && m.Platform.Architecture == "unknown" ||
			m.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
			continue
		}
		p := m.Platform.String()
		if _, dup := out[p]; !dup {
			out[p] = m.Digest
		}
	}
	return out
}

// target returns the reference to ask for k (at digest d when not nil) and
// the host to ask: k's registry, or its mirror when one is set.
func (r *Registry) target(k Key, d *v1.Hash) (name.Reference, string, error) {
	k, host := r.mirrored(k)
	var opts []name.Option
	h := strings.ToLower(host)
	hostname, _, _ := strings.Cut(h, ":")
	if r.insecure[h] || r.insecure[hostname] {
		opts = append(opts, name.Insecure)
	}
	ref, err := k.Reference(d, opts...)
	return ref, host, err
}

// mirrored returns k as it is asked for, from its registry's mirror if
// it has one, and the host asked.
func (r *Registry) mirrored(k Key) (Key, string) {
	host := k.Registry()
	if m, ok := r.mirrors[host]; ok {
		k.Name = m + k.Name[len(host):]
		host = m
	}
	return k, host
}

// digestTarget is target for the manifest at digest in the repository nm.
func (r *Registry) digestTarget(nm string, digest v1.Hash) (name.Reference, string, error) {
	if !strings.Contains(nm, "/") {
		return nil, "", fmt.Errorf("%q is not a normalized image name", nm)
	}
	return r.target(Key{Name: nm}, &digest)
}

// do runs f with one of host's request slots, within the time budget. The
// budget starts once a slot is free: waiting for one is not the registry's
// slowness. Once host has proved dead, do returns its *HostError at once,
// and cancels the requests still running there.
func (r *Registry) do(ctx context.Context, host string, f func(context.Context) error) error {
	h := r.host(host)
	if err := h.down(); err != nil {
		return err
	}
	if err := h.limit.acquire(ctx, h.dead.Done()); err != nil {
		if down := h.down(); down != nil {
			return down
		}
		return err
	}
	defer h.limit.release()
	ctx = context.WithValue(ctx, hostKey{}, h)
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	stop := context.AfterFunc(h.dead, cancel)
	defer stop()
	if err := f(ctx); err != nil {
		return r.settle(h, host, err)
	}
	return nil
}

// settle returns the error of a request to host: host's *HostError once
// it has proved dead or refused more requests, which err may show, or err.
func (r *Registry) settle(h *hostState, host string, err error) error {
	if down := h.down(); down != nil {
		return down
	}
	var te *transport.Error
	if spent, last := h.rate.refused(); spent && errors.As(err, &te) && te.StatusCode == http.StatusTooManyRequests {
		h.kill(&HostError{Host: host, Err: &rateLimitError{last: last}})
		r.logf("%s: 429 with no Retry-After; failing every lookup on it", host)
		return h.down()
	}
	if hostDown(err) {
		h.kill(&HostError{Host: host, Err: err})
		r.logf("%s: taken for dead (%s); failing every lookup on it", host, firstLine(err.Error()))
		return h.down()
	}
	return err
}

// host returns the state kept of host, made on first use.
func (r *Registry) host(host string) *hostState {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.hosts[host]
	if h == nil {
		h = &hostState{name: host, limit: newLimiter(r.o.Jobs)}
		h.auth.repos, h.auth.changed = map[string]*repoAuth{}, make(chan struct{})
		h.dead, h.kill = context.WithCancelCause(context.Background())
		r.hosts[host] = h
	}
	return h
}

func (r *Registry) logf(format string, args ...any) {
	if r.o.Logf != nil {
		r.o.Logf(format, args...)
	}
}

// incompleteHead reports whether a HEAD was answered but cannot be used:
// no digest, type or length header, or HEAD not supported. A GET can do.
func incompleteHead(err error) bool {
	var te *transport.Error
	if errors.As(err, &te) {
		return te.StatusCode == http.StatusMethodNotAllowed
	}
	return strings.Contains(err.Error(), "response did not include")
}

// bodiless returns the status of a refusal whose reason a GET would tell,
// or 0: a HEAD answer has no body to carry the registry's error code, and
// "repository not found" is worth telling apart from "tag not found".
func bodiless(err error) int {
	var te *transport.Error
	if !errors.As(err, &te) || len(te.Errors) > 0 {
		return 0
	}
	switch te.StatusCode {
	case http.StatusNotFound, http.StatusUnauthorized, http.StatusForbidden:
		return te.StatusCode
	}
	return 0
}

// mediaType is the media type of a fetched manifest: the Content-Type the
// registry sent, or the manifest's own mediaType field when it sent none.
func mediaType(rd *remote.Descriptor) types.MediaType {
	if rd.MediaType != "" && rd.MediaType != "application/octet-stream" {
		return rd.MediaType
	}
	var m struct {
		MediaType types.MediaType `json:"mediaType"`
	}
	if json.Unmarshal(rd.Manifest, &m) == nil && m.MediaType != "" {
		return m.MediaType
	}
	return rd.MediaType
}
