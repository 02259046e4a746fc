package trust_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/imagelock/imagelock/internal/testsign"
	"github.com/imagelock/imagelock/resolve"
	"github.com/imagelock/imagelock/trust"
)

const (
	issuer   = "https://token.actions.githubusercontent.com"
	identity = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main"
)

// fixture is an in-process registry with one image pushed, the resolver
// that reads it, and where the image is.
type fixture struct {
	res      *resolve.Registry
	ref      name.Digest
	name     string
	digest   v1.Hash
	manifest []byte
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(host + "/acme/app:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	m, _ := img.RawManifest()
	return &fixture{res: resolve.New(resolve.Options{}), ref: tag.Context().Digest(d.String()), name: tag.Context().Name(), digest: d, manifest: m}
}

func (f *fixture) verify(t *testing.T, r *trust.Rule) (*trust.Accepted, error) {
	t.Helper()
	sigs, err := f.res.Signatures(context.Background(), f.name, f.digest)
	if err != nil {
		t.Fatal(err)
	}
	return r.Verify(f.name, f.digest, sigs)
}

func keyRule(t *testing.T, k *testsign.Key) *trust.Rule {
	t.Helper()
	key, err := trust.ParseKey("cosign.pub", k.PEM)
	if err != nil {
		t.Fatal(err)
	}
	return &trust.Rule{Key: key, Where: ".imagelock.toml:1"}
}

func newKey(t *testing.T) *testsign.Key {
	t.Helper()
	k, err := testsign.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// A keyed cosign signature (tag scheme) is accepted by a rule with its
// key, and the lock learns the key's fingerprint and the signature's
// digest; no time, since nothing vouches for one.
func TestKeyedAccepted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	k := newKey(t)
	if err := testsign.Sign(f.ref, newKey(t)); err != nil { // someone else's first
		t.Fatal(err)
	}
	if err := testsign.Sign(f.ref, k); err != nil {
		t.Fatal(err)
	}
	r := keyRule(t, k)
	a, err := f.verify(t, r)
	if err != nil {
		t.Fatal(err)
	}
	if a.Signer != r.Key.Signer || !strings.HasPrefix(a.Signer, "key:sha256:") {
		t.Errorf("signer %q, want %q", a.Signer, r.Key.Signer)
	}
	if !a.SignedAt.IsZero() {
		t.Errorf("signed at %v, want none", a.SignedAt)
	}
	if a.Where != "tag sha256-"+f.digest.Hex+".sig" {
		t.Errorf("found at %q", a.Where)
	}
	if !r.Accepts(a.Signer) {
		t.Error("the rule does not accept the signer it verified")
	}
}

// Unsigned, signed by another key, or a signature of another digest: each
// refused, saying what was found.
func TestKeyedRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		setup func(f *fixture, k *testsign.Key) error
		found string // "" for unsigned
	}{
		{"unsigned", func(*fixture, *testsign.Key) error { return nil }, ""},
		{"wrong key", func(f *fixture, _ *testsign.Key) error { return testsign.Sign(f.ref, newKey(t)) }, "signed by another key"},
		{"another digest", func(f *fixture, k *testsign.Key) error {
			// A valid signature of another image, copied next to this one.
			other := f.ref.Context().Digest("sha256:" + strings.Repeat("0", 64))
			payload := testsign.Payload(other)
			return testsign.PushSignature(f.ref, payload, []byte("sig"), nil)
		}, "a signature of sha256:0000"},
		{"keyless signature for a key rule", func(f *fixture, _ *testsign.Key) error {
			s, err := testsign.NewSigstore()
			if err != nil {
				return err
			}
			return s.SignKeyless(f.ref, identity, issuer)
		}, "signed with a certificate (keyless), not a key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			k := newKey(t)
			if err := tc.setup(f, k); err != nil {
				t.Fatal(err)
			}
			_, err := f.verify(t, keyRule(t, k))
			var re *trust.RefusedError
			if !errors.As(err, &re) {
				t.Fatalf("error %v, want a *RefusedError", err)
			}
			switch {
			case tc.found == "" && (len(re.Found) != 0 || !strings.Contains(err.Error(), "unsigned")):
				t.Errorf("error %q, want unsigned", err)
			case tc.found != "" && (len(re.Found) != 1 || !strings.Contains(re.Found[0], tc.found)):
				t.Errorf("found %q, want %q", re.Found, tc.found)
			}
			if !strings.Contains(err.Error(), ".imagelock.toml:1") || !strings.Contains(err.Error(), f.name+"@"+f.digest.String()) {
				t.Errorf("error %q names neither the rule nor the image", err)
			}
		})
	}
}

func keylessRule(t *testing.T, s *testsign.Sigstore, subject string) *trust.Rule {
	t.Helper()
	data, err := s.TrustedRoot()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	return &trust.Rule{Issuer: issuer, SubjectRegexp: regexp.MustCompile(subject), Root: tr, Tlog: true, Where: ".imagelock.toml:5"}
}

// Keyless, by cosign's tag scheme (certificate and log entry as
// annotations) and as a Sigstore bundle among the referrers: accepted for
// the rule's identity, with the time the log or the authority vouches
// for; refused for another identity, naming the one found.
func TestKeyless(t *testing.T) {
	t.Parallel()
	s, err := testsign.NewSigstore()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, where string
		tlog        bool
		sign        func(f *fixture) error
	}{
		{"tag scheme", "tag sha256-", true, func(f *fixture) error { return s.SignKeyless(f.ref, identity, issuer) }},
		{"referrer bundle", "referrer sha256:", false, func(f *fixture) error {
			b, err := s.Bundle(f.ref, f.manifest, identity, issuer)
			if err != nil {
				return err
			}
			return testsign.PushBundle(f.ref, b)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			if err := tc.sign(f); err != nil {
				t.Fatal(err)
			}
			r := keylessRule(t, s, "^https://github.com/acme/")
			r.Tlog = tc.tlog
			a, err := f.verify(t, r)
			if err != nil {
				t.Fatal(err)
			}
			if want := "keyless:" + issuer + " " + identity; a.Signer != want {
				t.Errorf("signer %q, want %q", a.Signer, want)
			}
			if !strings.HasPrefix(a.Where, tc.where) {
				t.Errorf("found at %q, want %s...", a.Where, tc.where)
			}
			if time.Since(a.SignedAt) > time.Hour || time.Until(a.SignedAt) > time.Hour {
				t.Errorf("signed at %v, want about now", a.SignedAt)
			}
			if !r.Accepts(a.Signer) {
				t.Error("the rule does not accept the signer it verified")
			}
			other := keylessRule(t, s, "^https://github.com/other/")
			other.Tlog = tc.tlog
			_, err = f.verify(t, other)
			if !refusedOne(err, "signed by keyless:"+issuer+" "+identity) {
				t.Errorf("another identity: error %v, want one found signed by %s", err, identity)
			}
		})
	}
}

// A bundle whose signature does not verify, and one from another
// Sigstore (a root the rule does not trust), are refused.
func TestBundleDoesNotVerify(t *testing.T) {
	t.Parallel()
	s, err := testsign.NewSigstore()
	if err != nil {
		t.Fatal(err)
	}
	other, err := testsign.NewSigstore()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		by   *testsign.Sigstore
		edit func([]byte) []byte
	}{
		{"tampered", s, func(b []byte) []byte {
			// Another signature, base64, of the same length: the
			// certificate and the digest stay, the signature breaks.
			i := strings.Index(string(b), `"signature":"`) + len(`"signature":"`) + 10
			c := append([]byte(nil), b...)
			if c[i] == 'A' {
				c[i] = 'B'
			} else {
				c[i] = 'A'
			}
			return c
		}},
		{"untrusted root", other, func(b []byte) []byte { return b }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			b, err := tc.by.Bundle(f.ref, f.manifest, identity, issuer)
			if err != nil {
				t.Fatal(err)
			}
			if err := testsign.PushBundle(f.ref, tc.edit(b)); err != nil {
				t.Fatal(err)
			}
			_, err = f.verify(t, keylessRule(t, s, "^https://github.com/acme/"))
			if !refusedOne(err, "does not verify") {
				t.Errorf("error %v, want one found that does not verify", err)
			}
		})
	}
}

// A keyed signature among the referrers, in cosign's OCI 1.1 mode and as
// a Sigstore bundle with no log entry: accepted by the rule with the key,
// refused by a rule with another.
func TestKeyedReferrers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		sign func(f *fixture, k *testsign.Key) error
	}{
		{"cosign oci-1-1", func(f *fixture, k *testsign.Key) error { return testsign.SignReferrer(f.ref, k) }},
		{"bundle", func(f *fixture, k *testsign.Key) error {
			b, err := testsign.KeyBundle(f.ref, f.manifest, k)
			if err != nil {
				return err
			}
			return testsign.PushBundle(f.ref, b)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			k := newKey(t)
			if err := tc.sign(f, k); err != nil {
				t.Fatal(err)
			}
			r := keyRule(t, k)
			a, err := f.verify(t, r)
			if err != nil {
				t.Fatal(err)
			}
			if a.Signer != r.Key.Signer || !strings.HasPrefix(a.Where, "referrer sha256:") {
				t.Errorf("accepted %+v, want signed by %s, found among the referrers", a, r.Key.Signer)
			}
			_, err = f.verify(t, keyRule(t, newKey(t)))
			if !refusedOne(err, "signed by another key") {
				t.Errorf("another key: error %v, want one signature refused as signed by another key", err)
			}
		})
	}
}

// A keyed rule with tlog = true: a signature logged in the trusted
// root's transparency log is accepted, with the time the log vouches
// for; one that was not logged is refused.
func TestKeyedLogged(t *testing.T) {
	t.Parallel()
	s, err := testsign.NewSigstore()
	if err != nil {
		t.Fatal(err)
	}
	k := newKey(t)
	rule := func() *trust.Rule {
		r := keyRule(t, k)
		r.Root, r.Tlog = keylessRule(t, s, ".").Root, true
		return r
	}
	f := newFixture(t)
	if err := s.SignKeyLogged(f.ref, k); err != nil {
		t.Fatal(err)
	}
	a, err := f.verify(t, rule())
	if err != nil {
		t.Fatal(err)
	}
	if a.Signer != rule().Key.Signer || time.Since(a.SignedAt) > time.Hour {
		t.Errorf("accepted %+v, want signed by the key about now", a)
	}
	unlogged := newFixture(t)
	if err := testsign.Sign(unlogged.ref, k); err != nil {
		t.Fatal(err)
	}
	_, err = unlogged.verify(t, rule())
	if !refusedOne(err, "no transparency-log entry") {
		t.Errorf("unlogged: error %v, want refused for want of a log entry", err)
	}
}

// A certificate whose identity the lock could not record (a line break
// in the issuer, as a CI log command would want) is refused, whatever
// the rule matches.
func TestKeylessUnrecordable(t *testing.T) {
	t.Parallel()
	s, err := testsign.NewSigstore()
	if err != nil {
		t.Fatal(err)
	}
	const odd = "https://issuer.example\n::error::x"
	f := newFixture(t)
	if err := s.SignKeyless(f.ref, identity, odd); err != nil {
		t.Fatal(err)
	}
	r := keylessRule(t, s, ".")
	r.Issuer = odd
	_, err = f.verify(t, r)
	if !refusedOne(err, "which a lock cannot record") {
		t.Errorf("error %v, want the identity refused", err)
	}
}

// refusedOne reports whether err is a *trust.RefusedError that found one
// signature, refused for why.
func refusedOne(err error, why string) bool {
	var re *trust.RefusedError
	return errors.As(err, &re) && len(re.Found) == 1 && strings.Contains(re.Found[0], why)
}
