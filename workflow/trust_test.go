package workflow

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/imagelock/imagelock/internal/testsign"
	"github.com/imagelock/imagelock/trust"
)

// pubPEM returns a fresh ECDSA P-256 public key, as cosign writes it.
func pubPEM(t *testing.T) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// [[trust]] rules: each mistake is an error naming the line of the
// config, a missing key file among them.
func TestConfigTrust(t *testing.T) {
	t.Parallel()
	key := pubPEM(t)
	s, err := testsign.NewSigstore()
	if err != nil {
		t.Fatal(err)
	}
	trustedRoot, err := s.TrustedRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, toml, err string }{
		{"keyed", "[[trust]]\nimages = [\"ghcr.io/acme/*\", \"acme/base\"]\nkey = \"keys/cosign.pub\"\nmin-age = \"3d\"\n", ""},
		{"keyless", "[[trust]]\nimages = [\"cgr.dev/chainguard/*\"]\nissuer = \"https://token.actions.githubusercontent.com\"\nsubject-regexp = \"^https://github.com/chainguard-images/\"\ntrusted-root = \"keys/trusted_root.json\"\ntlog = true\n", ""},
		{"missing key file", "min-age = \"1d\"\n\n[[trust]]\nimages = [\"ghcr.io/acme/*\"]\nkey = \"keys/other.pub\"\n", ".imagelock.toml:5: trust: key: keys/other.pub: no such file"},
		{"not a key", "[[trust]]\nimages = [\"ghcr.io/acme/*\"]\nkey = \"keys/trusted_root.json\"\n", ".imagelock.toml:3: trust: key: keys/trusted_root.json: no PEM block"},
		{"second rule", "[[trust]]\nimages = [\"a/*\"]\nkey = \"keys/cosign.pub\"\n\n[[trust]]\nimages = [\"b/*\"]\n", ".imagelock.toml:5: trust: a rule needs key"},
		{"both", "[[trust]]\nimages = [\"a/*\"]\nkey = \"keys/cosign.pub\"\nissuer = \"https://x\"\n", ".imagelock.toml:1: trust: a rule names a key or a keyless identity"},
		{"no images", "[[trust]]\nkey = \"keys/cosign.pub\"\n", ".imagelock.toml:1: trust: a rule needs images"},
		{"bad glob", "[[trust]]\nimages = [\"a/[\"]\nkey = \"keys/cosign.pub\"\n", ".imagelock.toml:2: trust: images: invalid glob"},
		{"keyless without a root", "[[trust]]\nimages = [\"a/*\"]\nissuer = \"https://x\"\nsubject = \"me@example.com\"\n", ".imagelock.toml:1: trust: a keyless rule needs trusted-root"},
		{"keyless with both subjects", "[[trust]]\nimages = [\"a/*\"]\nissuer = \"https://x\"\nsubject = \"me\"\nsubject-regexp = \"m\"\ntrusted-root = \"keys/trusted_root.json\"\n", ".imagelock.toml:1: trust: a keyless rule needs one of subject and subject-regexp"},
		{"not a trusted root", "[[trust]]\nimages = [\"a/*\"]\nissuer = \"https://x\"\nsubject = \"me\"\n\ntrusted-root = \"keys/cosign.pub\"\n", ".imagelock.toml:6: trust: trusted-root: keys/cosign.pub: not a Sigstore trusted root"},
		{"bad regexp", "[[trust]]\nimages = [\"a/*\"]\nissuer = \"https://x\"\nsubject-regexp = \"(\"\ntrusted-root = \"keys/trusted_root.json\"\n", ".imagelock.toml:4: trust: subject-regexp"},
		{"bad age", "[[trust]]\nimages = [\"a/*\"]\nkey = \"keys/cosign.pub\"\nmin-age = \"soon\"\n", ".imagelock.toml:4: trust: min-age: \"soon\""},
		{"bad global age", "exclude = []\nmin-age = \"-1d\"\n", ".imagelock.toml:2: min-age"},
		{"unknown key", "[[trust]]\nimages = [\"a/*\"]\nkeys = \"x\"\n", ".imagelock.toml:3:1: unknown key \"keys\" in [[trust]] (known: images, key,"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o755); err != nil {
				t.Fatal(err)
			}
			for name, data := range map[string][]byte{ConfigFile: []byte(tc.toml), "keys/cosign.pub": key, "keys/trusted_root.json": trustedRoot} {
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			c := loadConfig(t, dir, tc.err)
			if c == nil {
				return
			}
			if len(c.rules) != 1 || c.rules[0].Where != ".imagelock.toml:1" {
				t.Fatalf("rules = %+v, want one at line 1", c.rules)
			}
		})
	}
}

// Globs match normalized names; a short name is normalized; the first
// rule that covers an image is its rule; min-age is the rule's, else the
// config's.
func TestRuleFor(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "k.pub"), pubPEM(t), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := "min-age = \"2d\"\n[[trust]]\nimages = [\"ghcr.io/acme/*\", \"acme/base\"]\nkey = \"k.pub\"\nmin-age = \"12h\"\n[[trust]]\nimages = [\"ghcr.io/**\"]\nkey = \"k.pub\"\n"
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"ghcr.io/acme/app":          ".imagelock.toml:2",
		"docker.io/acme/base":       ".imagelock.toml:2",
		"ghcr.io/acme/team/app":     ".imagelock.toml:6",
		"docker.io/library/alpine":  "",
		"docker.io/acme/base-extra": "",
	} {
		r := c.ruleFor(name)
		switch {
		case want == "" && r != nil:
			t.Errorf("%s: covered by the rule at %s, want none", name, r.Where)
		case want != "" && (r == nil || r.Where != want):
			t.Errorf("%s: rule %+v, want the one at %s", name, r, want)
		}
	}
	if got := c.ruleFor("ghcr.io/acme/app").MinAge; got != 12*time.Hour {
		t.Errorf("rule min-age %v, want 12h", got)
	}
	if got := c.ruleFor("ghcr.io/x/y").MinAge; got != 48*time.Hour {
		t.Errorf("min-age by default %v, want the config's 48h", got)
	}
}

func TestParseAge(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"": 0, "3d": 72 * time.Hour, "36h": 36 * time.Hour, "1d12h": 36 * time.Hour, "90m": 90 * time.Minute} {
		if got, err := parseAge(in); err != nil || got != want {
			t.Errorf("parseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"3", "d", "-1d", "1x", "1d-2h"} {
		if _, err := parseAge(in); err == nil {
			t.Errorf("parseAge(%q): no error", in)
		}
	}
}

// Offline, verify fails for each entry in use that a rule covers and
// that records no signer, or one the rule does not accept; entries no
// rule covers need nothing.
func TestVerifyOfflineTrust(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pub := pubPEM(t)
	k, err := trust.ParseKey("k.pub", pub)
	if err != nil {
		t.Fatal(err)
	}
	d := "sha256:" + strings.Repeat("a", 64)
	files := map[string]string{
		"k.pub":      string(pub),
		ConfigFile:   "[[trust]]\nimages = [\"ghcr.io/acme/*\"]\nkey = \"k.pub\"\n",
		"Dockerfile": "FROM ghcr.io/acme/signed:1\nFROM ghcr.io/acme/unsigned:1\nFROM ghcr.io/acme/other:1\nFROM ghcr.io/else/free:1\n",
		"images.lock": "version = 1\n\n" +
			"[[image]]\nname = \"ghcr.io/acme/other\"\ntag = \"1\"\ndigest = \"" + d + "\"\nsources = [\"Dockerfile\"]\nsigner = \"key:sha256:" + strings.Repeat("0", 64) + "\"\nsignature = \"" + d + "\"\n\n" +
			"[[image]]\nname = \"ghcr.io/acme/signed\"\ntag = \"1\"\ndigest = \"" + d + "\"\nsources = [\"Dockerfile\"]\nsigner = \"" + k.Signer + "\"\nsignature = \"" + d + "\"\n\n" +
			"[[image]]\nname = \"ghcr.io/acme/unsigned\"\ntag = \"1\"\ndigest = \"" + d + "\"\nsources = [\"Dockerfile\"]\n\n" +
			"[[image]]\nname = \"ghcr.io/else/free\"\ntag = \"1\"\ndigest = \"" + d + "\"\nsources = [\"Dockerfile\"]\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Verify(context.Background(), Options{Dir: dir}, VerifyOptions{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, fmt.Sprintf("%s:%d %s %s", f.File, f.Line, f.Code, f.Image))
	}
	want := []string{
		"images.lock:3 signer-mismatch ghcr.io/acme/other:1",
		"images.lock:19 unsigned ghcr.io/acme/unsigned:1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if !res.Failed(false) {
		t.Error("verify passed")
	}
	if m := res.Findings[0].Msg; !strings.Contains(m, "rule at .imagelock.toml:1") || !strings.Contains(m, k.Signer) {
		t.Errorf("message %q names neither the rule nor the key it wants", m)
	}
}
