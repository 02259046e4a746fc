package resolve

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// maxScopes is how many repositories one token request asks for. The
// token server answers with one token for all of them, and every request
// to those repositories carries it, so a token of hundreds of scopes
// would make headers larger than some registries accept.
const maxScopes = 32

// hostAuth is the auth handshake of one host's repositories: the /v2/
// challenge, asked once, and the transports that carry each repository's
// credentials. Handshakes run outside the host's request slots: a token
// request does not load the registry. The first one on a host goes alone;
// the repositories that ask meanwhile wait, and a bearer token server is
// then asked for up to maxScopes of them in one request, unless it refused
// that once.
type hostAuth struct {
	mu        sync.Mutex
	challenge *transport.Challenge
	shared    http.RoundTripper // every repository's transport, for a host with no bearer challenge
	repos     map[string]*repoAuth
	pending   []*repoAuth   // not yet in a token request, in the order they came
	inFlight  int           // handshakes running
	exchanged bool          // a handshake has finished: the first one goes alone
	single    bool          // the token server refused several scopes in one request
	changed   chan struct{} // closed and replaced when a handshake ends
}

// repoAuth is the handshake of one repository.
type repoAuth struct {
	repo  name.Repository
	ready chan struct{} // closed once rt or err is set
	// batch, while a handshake has the repository in its batch, is
	// closed when that handshake ends: its waiters need no other
	// wake-up (thousands of them, woken at every handshake's end, cost
	// more than the handshakes).
	batch chan struct{}
	rt    http.RoundTripper
	err   error
}

// pull runs f in one of host's request slots, retried as do retries,
// with a Puller that carries the credentials of ref's repository, from a
// handshake made outside the slots.
func (r *Registry) pull(ctx context.Context, ref name.Reference, host string, f func(context.Context, *remote.Puller) error) error {
	rt, err := r.transportFor(ctx, ref.Context(), host)
	if err != nil {
		return err
	}
	// Our transport retries: with a transport.Wrapper, go-containerregistry
	// adds no retries of its own.
	p, err := remote.NewPuller(remote.WithTransport(rt), remote.WithPageSize(tagPageSize))
	if err != nil {
		return err
	}
	return r.do(ctx, host, func(ctx context.Context) error { return f(ctx, p) })
}

// Authorize makes the handshake of repository nm (Authorizer).
func (r *Registry) Authorize(ctx context.Context, nm string) {
	if !strings.Contains(nm, "/") {
		return
	}
	_, host := r.mirrored(Key{Name: nm})
	a := &r.host(host).auth
	a.mu.Lock()
	shared := a.shared != nil
	a.mu.Unlock()
	if shared {
		// No handshake per repository on this host (no bearer
		// challenge): nothing to make ahead.
		return
	}
	ref, host, err := r.target(Key{Name: nm, Tag: "latest"}, nil)
	if err != nil {
		return
	}
	// The handshake's outcome is kept for the repository's requests,
	// which report it.
	_, _ = r.transportFor(ctx, ref.Context(), host)
}

// transportFor returns the transport that carries repo's credentials, from
// a handshake made once per repository, outside host's request slots.
func (r *Registry) transportFor(ctx context.Context, repo name.Repository, host string) (http.RoundTripper, error) {
	h := r.host(host)
	a := &h.auth
	a.mu.Lock()
	if a.shared != nil {
		a.mu.Unlock()
		return a.shared, nil
	}
	ra := a.repos[repo.String()]
	if ra == nil {
		ra = &repoAuth{repo: repo, ready: make(chan struct{})}
		a.repos[repo.String()] = ra
		a.pending = append(a.pending, ra)
	}
	a.mu.Unlock()
	for {
		if err := h.down(); err != nil {
			return nil, err
		}
		a.mu.Lock()
		select {
		case <-ra.ready:
			a.mu.Unlock()
			return ra.rt, ra.err
		default:
		}
		batch := a.take(ra)
		wake := a.changed
		if ra.batch != nil {
			wake = ra.batch
		}
		a.mu.Unlock()
		if batch != nil {
			if err := r.handshake(ctx, h, host, batch); err != nil {
				return nil, err
			}
			continue
		}
		select {
		case <-ra.ready:
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-h.dead.Done():
		}
	}
}

// take returns the repositories the caller is to handshake for now, or nil
// when it is to wait: ra alone once the token server refused batches;
// otherwise the first maxScopes waiting, when no handshake is running or
// (after the first) when as many wait as one token request asks for.
func (a *hostAuth) take(ra *repoAuth) []*repoAuth {
	if a.shared != nil {
		// A repository in a handshake's batch is the handshake's to
		// finish: closing ready here too would close it twice.
		if a.drop(ra) {
			ra.rt = a.shared
			close(ra.ready)
		}
		return nil
	}
	if a.single {
		if !a.drop(ra) {
			return nil
		}
		a.inFlight++
		return enlist([]*repoAuth{ra}, make(chan struct{}))
	}
	if len(a.pending) == 0 || a.inFlight > 0 && (!a.exchanged || len(a.pending) < maxScopes) {
		return nil
	}
	n := min(len(a.pending), maxScopes)
	batch := a.pending[:n:n]
	a.pending = a.pending[n:]
	a.inFlight++
	return enlist(batch, make(chan struct{}))
}

// enlist puts the repositories of a handshake's batch under its done
// channel.
func enlist(batch []*repoAuth, done chan struct{}) []*repoAuth {
	for _, ra := range batch {
		ra.batch = done
	}
	return batch
}

// drop takes ra out of the waiting list and reports whether it was there.
func (a *hostAuth) drop(ra *repoAuth) bool {
	for i, p := range a.pending {
		if p == ra {
			a.pending = append(a.pending[:i:i], a.pending[i+1:]...)
			return true
		}
	}
	return false
}

// handshake pings host (once) and gets the credentials of batch's
// repositories, within the time budget; once the ping has answered, the
// batch takes in whoever came to wait meanwhile. A batch the token server
// refused goes back to wait, each repository to ask alone. When ctx ends
// first, the batch goes back to wait for another caller, and handshake
// returns ctx's error.
func (r *Registry) handshake(ctx context.Context, h *hostState, host string, batch []*repoAuth) error {
	a := &h.auth
	tctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	stop := context.AfterFunc(h.dead, cancel)
	defer stop()

	var (
		rts     []http.RoundTripper
		refused bool
	)
	ch, err := r.challenge(tctx, a, batch[0].repo.Registry)
	if err == nil {
		a.mu.Lock()
		if !a.single {
			n := min(len(a.pending), maxScopes-len(batch))
			batch = append(batch, enlist(a.pending[:n], batch[0].batch)...)
			a.pending = a.pending[n:]
		}
		a.mu.Unlock()
		rts, refused, err = r.credentials(tctx, a, ch, batch)
	}
	if err != nil && ctx.Err() == nil {
		err = r.settle(h, host, err)
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	a.inFlight--
	a.exchanged = true
	close(a.changed)
	a.changed = make(chan struct{})
	close(batch[0].batch)
	for _, ra := range batch {
		ra.batch = nil
	}
	switch {
	case ctx.Err() != nil || refused:
		a.single = a.single || refused
		a.pending = append(batch, a.pending...)
		return ctx.Err()
	case err != nil:
		for _, ra := range batch {
			ra.err = err
			close(ra.ready)
			if errors.Is(err, context.DeadlineExceeded) || h.down() != nil {
				// Not the repository's fault: the next lookup asks again.
				delete(a.repos, ra.repo.String())
			}
		}
	default:
		for i, ra := range batch {
			ra.rt = rts[i]
			close(ra.ready)
		}
	}
	return nil
}

// challenge returns the host's answer to the /v2/ ping, asked once.
func (r *Registry) challenge(ctx context.Context, a *hostAuth, reg name.Registry) (*transport.Challenge, error) {
	a.mu.Lock()
	ch := a.challenge
	a.mu.Unlock()
	if ch != nil {
		return ch, nil
	}
	ch, err := transport.Ping(ctx, reg, r.rt)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.challenge = ch
	a.mu.Unlock()
	return ch, nil
}

// credentials returns a transport per repository of batch, from one token
// request for a bearer challenge. refused is set when the token server
// refused a request of several scopes.
func (r *Registry) credentials(ctx context.Context, a *hostAuth, ch *transport.Challenge, batch []*repoAuth) (rts []http.RoundTripper, refused bool, err error) {
	reg := batch[0].repo.Registry
	auth, err := authn.Resolve(ctx, r.o.Keychain, batch[0].repo)
	if err != nil {
		return nil, false, err
	}
	if !strings.EqualFold(ch.Scheme, "bearer") {
		rt, err := transport.FromToken(reg, auth, r.rt, ch, nil)
		if err != nil {
			return nil, false, err
		}
		a.mu.Lock()
		a.shared = rt
		a.mu.Unlock()
		return repeat(rt, len(batch)), false, nil
	}
	cfg, err := authn.Authorization(ctx, auth)
	if err != nil {
		return nil, false, err
	}
	tok := &transport.Token{Token: cfg.RegistryToken}
	if tok.Token == "" {
		scopes := make([]string, len(batch))
		for i, ra := range batch {
			scopes[i] = ra.repo.Scope(transport.PullScope)
		}
		if tok, err = transport.Exchange(ctx, reg, auth, r.rt, scopes, ch); err != nil {
			return nil, len(batch) > 1 && ctx.Err() == nil && refusedScopes(err), err
		}
		if tok.Token == "" {
			tok.Token = tok.AccessToken
		}
	}
	rts = make([]http.RoundTripper, len(batch))
	for i := range batch {
		if rts[i], err = transport.FromToken(reg, auth, r.rt, ch, tok); err != nil {
			return nil, false, err
		}
	}
	return rts, false, nil
}

// refusedScopes reports whether err is a token server's refusal of a
// request of several scopes (400 Bad Request), and not wrong credentials
// (401, 403), a limit (429) or an outage: asking once per repository
// would only repeat those, as many times as there are repositories.
func refusedScopes(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && te.StatusCode == http.StatusBadRequest
}

func repeat(rt http.RoundTripper, n int) []http.RoundTripper {
	out := make([]http.RoundTripper, n)
	for i := range out {
		out[i] = rt
	}
	return out
}
