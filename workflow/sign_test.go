package workflow_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imagelock/imagelock/internal/testsign"
	"github.com/imagelock/imagelock/lock"
	"github.com/imagelock/imagelock/resolve"
	"github.com/imagelock/imagelock/trust"
	"github.com/imagelock/imagelock/workflow"
)

// signed is a tree whose Dockerfile uses $REG/team/app:1, with a
// [[trust]] rule for $REG/team/* and the key it names, against an
// in-process registry.
type signed struct {
	dir, host string
	o         workflow.Options
}

func newSigned(t *testing.T, keyPEM []byte, extra string) *signed {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	dir := tree(t, map[string]string{
		"Dockerfile":        "FROM " + host + "/team/app:1\nFROM " + host + "/other/free:1\n",
		"keys/cosign.pub":   string(keyPEM),
		workflow.ConfigFile: extra + "\n[[trust]]\nimages = [\"" + host + "/team/*\"]\nkey = \"keys/cosign.pub\"\n",
	})
	r := resolve.New(resolve.Options{})
	s := &signed{dir: dir, host: host, o: workflow.Options{Dir: dir, Resolver: r, Signatures: r}}
	s.push(t, "other/free:1", time.Now())
	return s
}

// push pushes a new image as repoTag, built at created, and returns
// where it is.
func (s *signed) push(t *testing.T, repoTag string, created time.Time) name.Digest {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	if img, err = mutate.CreatedAt(img, v1.Time{Time: created}); err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(s.host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	return tag.Context().Digest(d.String())
}

// pushSigned pushes a new image as repoTag, built at created, signs it
// with k, and returns where it is.
func (s *signed) pushSigned(t *testing.T, repoTag string, created time.Time, k *testsign.Key) name.Digest {
	t.Helper()
	ref := s.push(t, repoTag, created)
	if err := testsign.Sign(ref, k); err != nil {
		t.Fatal(err)
	}
	return ref
}

func (s *signed) lockEntry(t *testing.T) lock.Image {
	t.Helper()
	f, _, err := lock.Read(filepath.Join(s.dir, "images.lock"), "images.lock")
	if err != nil {
		t.Fatal(err)
	}
	im := f.Find(s.host+"/team/app", "1")
	if im == nil {
		t.Fatal("no lock entry for team/app:1")
	}
	return *im
}

func newTestKey(t *testing.T) (*testsign.Key, string) {
	t.Helper()
	k, err := testsign.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	p, err := trust.ParseKey("cosign.pub", k.PEM)
	if err != nil {
		t.Fatal(err)
	}
	return k, p.Signer
}

// lock records the signer of a signed image a rule covers, and nothing
// for one no rule covers; verify --offline and --signatures pass.
func TestLockSigned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k, signer := newTestKey(t)
	s := newSigned(t, k.PEM, "")
	ref := s.pushSigned(t, "team/app:1", time.Now(), k)
	if _, err := workflow.Lock(ctx, s.o, false); err != nil {
		t.Fatal(err)
	}
	im := s.lockEntry(t)
	if im.Digest.String() != ref.DigestStr() || im.Signer != signer || im.Signature.Hex == "" || !im.SignedAt.IsZero() {
		t.Errorf("entry %+v, want %s signed by %s, with no time", im, ref.DigestStr(), signer)
	}
	lk := read(t, filepath.Join(s.dir, "images.lock"))
	if strings.Count(lk, "signer = ") != 1 {
		t.Errorf("lock records %d signers, want 1:\n%s", strings.Count(lk, "signer = "), lk)
	}
	// Nothing new: a re-lock asks nothing, signatures included.
	c := &counting{Resolver: s.o.Resolver}
	again := s.o
	again.Resolver, again.Signatures = c, noSignatures{t}
	if _, err := workflow.Lock(ctx, again, false); err != nil || c.n.Load() != 0 {
		t.Errorf("re-lock: %d requests, %v; want none", c.n.Load(), err)
	}
	for _, vo := range []workflow.VerifyOptions{{Offline: true}, {Signatures: true}} {
		res, err := workflow.Verify(ctx, s.o, vo)
		if err != nil || res.Failed(true) {
			t.Errorf("verify %+v: %+v, %v", vo, res, err)
		}
	}
}

// lock refuses an image the rule covers when it is unsigned or signed
// with another key: exit 1's error, naming image and rule, and no lock.
func TestLockRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, want string
		sign       func(ref name.Digest) error
	}{
		{"unsigned", "unsigned; the [[trust]] rule at .imagelock.toml:2 wants a signature by key:sha256:", func(name.Digest) error { return nil }},
		{"wrong key", "signed by another key", func(ref name.Digest) error {
			other, _ := newTestKey(t)
			return testsign.Sign(ref, other)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, _ := newTestKey(t)
			s := newSigned(t, k.PEM, "")
			ref := s.push(t, "team/app:1", time.Now())
			if err := tc.sign(ref); err != nil {
				t.Fatal(err)
			}
			_, err := workflow.Lock(context.Background(), s.o, false)
			var te *workflow.TrustError
			if !errors.As(err, &te) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), s.host+"/team/app@"+ref.DigestStr()) {
				t.Errorf("error %v, want a *TrustError saying %q", err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(s.dir, "images.lock")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a lock was written: %v", err)
			}
		})
	}
}

// update refuses a moved tag whose new digest is signed by someone the
// rule does not trust; after the rule changes key, it refuses the new
// signer unless accepted, and then says who signed before and now.
func TestUpdateSigner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, signerA := newTestKey(t)
	b, signerB := newTestKey(t)
	s := newSigned(t, a.PEM, "")
	s.pushSigned(t, "team/app:1", time.Now(), a)
	if _, err := workflow.Lock(ctx, s.o, false); err != nil {
		t.Fatal(err)
	}
	lockPath := filepath.Join(s.dir, "images.lock")
	before := read(t, lockPath)

	// Re-signed upstream with another key, and the tag moved.
	moved := s.pushSigned(t, "team/app:1", time.Now(), b)
	_, err := workflow.Update(ctx, s.o, workflow.UpdateOptions{})
	var te *workflow.TrustError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "no signature by "+signerA) || !strings.Contains(err.Error(), "signed by another key") {
		t.Errorf("update: %v, want refused: no signature by %s", err, signerA)
	}
	if read(t, lockPath) != before {
		t.Error("the lock changed")
	}

	// The team rotates to key B: the rule trusts B now, the lock says A.
	if err := os.WriteFile(filepath.Join(s.dir, "keys/cosign.pub"), b.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = workflow.Update(ctx, s.o, workflow.UpdateOptions{})
	var sc *workflow.SignerChangedError
	if !errors.As(err, &sc) || sc.Locked != signerA || sc.Signer != signerB || !strings.Contains(err.Error(), "--accept-signer") {
		t.Fatalf("update: %v, want the signer changed from %s to %s", err, signerA, signerB)
	}
	res, err := workflow.Update(ctx, s.o, workflow.UpdateOptions{AcceptSigner: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) != 1 || res.Changes[0].Signer != signerB || res.Changes[0].OldSigner != signerA || res.Changes[0].New != moved.DigestStr() {
		t.Errorf("changes %+v, want team/app:1 now signed by B, before by A", res.Changes)
	}
	if md := workflow.Summary(res); !strings.Contains(md, signerB) || !strings.Contains(md, signerA) {
		t.Errorf("summary names not both signers:\n%s", md)
	}
	if im := s.lockEntry(t); im.Signer != signerB {
		t.Errorf("locked signer %s, want %s", im.Signer, signerB)
	}
}

// verify --offline fails when the policy covers an entry the lock
// records no signer for; verify --signatures fails once the recorded
// signature is deleted from the registry.
func TestVerifySignatures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k, _ := newTestKey(t)
	s := newSigned(t, k.PEM, "")
	ref := s.pushSigned(t, "team/app:1", time.Now(), k)
	if _, err := workflow.Lock(ctx, s.o, false); err != nil {
		t.Fatal(err)
	}
	sig, err := name.NewTag(s.host + "/team/app:sha256-" + ref.DigestStr()[len("sha256:"):] + ".sig")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Delete(sig); err != nil {
		t.Fatal(err)
	}
	res, err := workflow.Verify(ctx, s.o, workflow.VerifyOptions{})
	if err != nil || res.Failed(false) {
		t.Errorf("verify without --signatures: %+v, %v; want it to pass", res, err)
	}
	res, err = workflow.Verify(ctx, s.o, workflow.VerifyOptions{Signatures: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || res.Findings[0].Code != workflow.CodeSignatureGone || res.Findings[0].File != "images.lock" {
		t.Errorf("findings %+v, want the signature gone", res.Findings)
	}
	// An update of every image keeps what the lock says of digests that
	// did not move; signed again, update --image records the new
	// signature, and verify --signatures passes.
	was := s.lockEntry(t)
	if _, err := workflow.Update(ctx, s.o, workflow.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := testsign.Sign(ref, k); err != nil {
		t.Fatal(err)
	}
	if _, err := workflow.Update(ctx, s.o, workflow.UpdateOptions{Images: []string{s.host + "/team/app"}}); err != nil {
		t.Fatal(err)
	}
	if now := s.lockEntry(t); now.Signature == was.Signature || now.Signer != was.Signer || now.Digest != was.Digest {
		t.Errorf("entry %+v after re-signing, want a new signature from %+v", now, was)
	}
	if res, err = workflow.Verify(ctx, s.o, workflow.VerifyOptions{Signatures: true}); err != nil || res.Failed(false) {
		t.Errorf("verify --signatures after update: %+v, %v", res, err)
	}

	// A rule added for an image the lock records no signer for.
	cfg := read(t, filepath.Join(s.dir, workflow.ConfigFile)) + "\n[[trust]]\nimages = [\"" + s.host + "/other/*\"]\nkey = \"keys/cosign.pub\"\n"
	if err := os.WriteFile(filepath.Join(s.dir, workflow.ConfigFile), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err = workflow.Verify(ctx, s.o, workflow.VerifyOptions{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || res.Findings[0].Code != workflow.CodeUnsigned || res.Findings[0].Image != s.host+"/other/free:1" {
		t.Errorf("findings %+v, want other/free:1 unsigned", res.Findings)
	}
}

// min-age holds back a moved tag whose new digest is younger, naming the
// day it becomes eligible, and takes one old enough.
func TestMinAge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k, _ := newTestKey(t)
	s := newSigned(t, k.PEM, "min-age = \"3d\"")
	first := s.pushSigned(t, "team/app:1", time.Now().Add(-30*24*time.Hour), k)
	if _, err := workflow.Lock(ctx, s.o, false); err != nil {
		t.Fatal(err)
	}
	lockPath := filepath.Join(s.dir, "images.lock")
	before := read(t, lockPath)

	built := time.Now().Add(-time.Hour).Truncate(time.Second)
	young := s.pushSigned(t, "team/app:1", built, k)
	res, err := workflow.Update(ctx, s.o, workflow.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := built.Add(72 * time.Hour).UTC()
	if len(res.Held) != 1 || res.Held[0].New != young.DigestStr() || res.Held[0].Locked != first.DigestStr() || !res.Held[0].Eligible.Equal(want) || res.Held[0].From != "created" {
		t.Errorf("held %+v, want %s held until %v", res.Held, young.DigestStr(), want)
	}
	if len(res.Changes) != 0 || read(t, lockPath) != before {
		t.Errorf("changes %+v; the lock moved", res.Changes)
	}
	if md := workflow.Summary(res); !strings.Contains(md, "Held back by min-age") || !strings.Contains(md, want.Format("2006-01-02 15:04 UTC")) {
		t.Errorf("the summary does not say what was held until when:\n%s", md)
	}

	// Released: the tag now points at a digest built 4 days ago.
	ripe := s.pushSigned(t, "team/app:1", time.Now().Add(-4*24*time.Hour), k)
	if res, err = workflow.Update(ctx, s.o, workflow.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(res.Held) != 0 || len(res.Changes) != 1 || res.Changes[0].New != ripe.DigestStr() {
		t.Errorf("held %+v, changes %+v; want %s taken", res.Held, res.Changes, ripe.DigestStr())
	}
}

// noSignatures fails the test on any lookup.
type noSignatures struct{ t *testing.T }

func (n noSignatures) Signatures(_ context.Context, name string, d v1.Hash) ([]resolve.Signature, error) {
	n.t.Errorf("looked up the signatures of %s@%s", name, d)
	return nil, nil
}

func (n noSignatures) Created(_ context.Context, name string, d v1.Hash) (time.Time, error) {
	n.t.Errorf("looked up the build time of %s@%s", name, d)
	return time.Time{}, nil
}

// A tag update --bump moves to keeps the signer of the tag it moved from:
// team/app:2 signed by another key is refused as a moved digest would be,
// and taken with --accept-signer.
func TestBumpKeepsTheSigner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, signerA := newTestKey(t)
	b, signerB := newTestKey(t)
	s := newSigned(t, a.PEM, "")
	s.pushSigned(t, "team/app:1", time.Now(), a)
	if _, err := workflow.Lock(ctx, s.o, false); err != nil {
		t.Fatal(err)
	}
	// The team rotates to key B and releases 2: the rule trusts B now.
	s.pushSigned(t, "team/app:2", time.Now(), b)
	if err := os.WriteFile(filepath.Join(s.dir, "keys/cosign.pub"), b.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	before := read(t, filepath.Join(s.dir, "Dockerfile"))
	_, err := workflow.Update(ctx, s.o, workflow.UpdateOptions{Bump: resolve.Major})
	var sc *workflow.SignerChangedError
	if !errors.As(err, &sc) || sc.Locked != signerA || sc.Signer != signerB {
		t.Fatalf("update --bump: %v, want the signer changed from %s to %s", err, signerA, signerB)
	}
	if got := read(t, filepath.Join(s.dir, "Dockerfile")); got != before {
		t.Errorf("the Dockerfile changed:\n%s", got)
	}
	if _, err := workflow.Update(ctx, s.o, workflow.UpdateOptions{Bump: resolve.Major, AcceptSigner: true}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(s.dir, "Dockerfile")); !strings.Contains(got, s.host+"/team/app:2\n") {
		t.Errorf("the Dockerfile was not bumped:\n%s", got)
	}
}
