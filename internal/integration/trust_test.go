package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/imagelock/imagelock/internal/testregistry"
	"github.com/imagelock/imagelock/internal/testsign"
	"github.com/imagelock/imagelock/trust"
)

// Signatures by cosign's tag scheme on a real registry (with TLS, basic
// auth, and no referrers API): a keyed rule and a keyless one with a
// trusted root from a file; lock records both signers, verify
// --signatures re-checks them, and update refuses a moved tag whose new
// digest is unsigned, exiting 1.
func TestSignaturesAgainstRealRegistry(t *testing.T) {
	t.Parallel()
	srv := testregistry.Start(t)
	env := srv.Env(t)
	h := srv.Host
	digest := func(repoTag string, d interface{ String() string }) name.Digest {
		return srv.Ref(t, repoTag).Context().Digest(d.String())
	}

	k, err := testsign.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	app, _ := srv.PushIndex(t, "team/app:1", "linux/amd64", "linux/arm64/v8")
	if err := testsign.Sign(digest("team/app", app), k, srv.Remote()...); err != nil {
		t.Fatal(err)
	}
	s, err := testsign.NewSigstore()
	if err != nil {
		t.Fatal(err)
	}
	const (
		issuer  = "https://token.actions.githubusercontent.com"
		subject = "https://github.com/acme/base/.github/workflows/release.yml@refs/heads/main"
	)
	base := srv.PushImage(t, "acme/base:2")
	if err := s.SignKeyless(digest("acme/base", base), subject, issuer, srv.Remote()...); err != nil {
		t.Fatal(err)
	}
	root, err := s.TrustedRoot()
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	write(t, dir, "Dockerfile", "FROM "+h+"/team/app:1\nFROM "+h+"/acme/base:2\n")
	write(t, dir, "keys/cosign.pub", string(k.PEM))
	write(t, dir, "keys/trusted_root.json", string(root))
	write(t, dir, ".imagelock.toml", "[[trust]]\nimages = [\""+h+"/team/*\"]\nkey = \"keys/cosign.pub\"\n\n"+
		"[[trust]]\nimages = [\""+h+"/acme/*\"]\nissuer = \""+issuer+"\"\nsubject-regexp = \"^https://github.com/acme/\"\ntrusted-root = \"keys/trusted_root.json\"\ntlog = true\n")

	imagelock(t, dir, env, "lock").want(t, 0, "lock")
	key, err := trust.ParseKey("cosign.pub", k.PEM)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, im := range readLock(t, dir).Images {
		got[im.Key()] = im.Signer
		if im.Signer == "keyless:"+issuer+" "+subject && im.SignedAt.IsZero() {
			t.Errorf("%s: no signed_at, though the log vouches for a time", im.Key())
		}
	}
	if got[h+"/team/app:1"] != key.Signer || got[h+"/acme/base:2"] != "keyless:"+issuer+" "+subject {
		t.Errorf("signers %v", got)
	}
	imagelock(t, dir, env, "verify", "--signatures").want(t, 0, "verify --signatures")

	before, _ := os.ReadFile(filepath.Join(dir, "images.lock"))
	moved, _ := srv.PushIndex(t, "team/app:1", "linux/amd64")
	r := imagelock(t, dir, env, "update")
	r.want(t, 1, "update")
	if !strings.Contains(r.stderr, h+"/team/app@"+moved.String()+": unsigned") {
		t.Errorf("update's error does not name the unsigned digest:\n%s", r.stderr)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "images.lock")); string(after) != string(before) {
		t.Error("update changed the lock")
	}
}
