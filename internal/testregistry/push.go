package testregistry

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imagelock/imagelock/internal/testimage"
)

// Remote returns the go-containerregistry options that reach the registry:
// its credentials and a transport that trusts the test CA.
func (s *Server) Remote() []remote.Option {
	auth := authn.Anonymous
	if s.mode != modePlain {
		auth = &authn.Basic{Username: s.User, Password: s.Password}
	}
	return []remote.Option{remote.WithAuth(auth), remote.WithTransport(s.Transport())}
}

// Ref parses repoTag ("team/app:1.0", "team/app@sha256:...") as a reference
// on this registry.
func (s *Server) Ref(t testing.TB, repoTag string) name.Reference {
	t.Helper()
	var opts []name.Option
	if s.mode == modePlain {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.ParseReference(s.Host+"/"+repoTag, opts...)
	if err != nil {
		t.Fatalf("testregistry: parsing %q: %v", repoTag, err)
	}
	return ref
}

// PushImage pushes a small random single-platform image as repoTag
// ("team/app:1.0", on this registry) and returns its manifest digest.
func (s *Server) PushImage(t testing.TB, repoTag string) v1.Hash {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatalf("testregistry: making a random image: %v", err)
	}
	ref := s.Ref(t, repoTag)
	if err := remote.Write(ref, img, s.Remote()...); err != nil {
		t.Fatalf("testregistry: pushing %s: %v", ref, err)
	}
	return digest(t, img)
}

// PushIndex pushes a multi-platform image as repoTag: one small random image
// per platform ("linux/amd64", "linux/arm64/v8"), gathered in a Docker
// manifest list. It returns the index digest and each platform's manifest
// digest, keyed by the platform as given.
func (s *Server) PushIndex(t testing.TB, repoTag string, platforms ...string) (v1.Hash, map[string]v1.Hash) {
	t.Helper()
	idx, manifests, err := testimage.Index(types.DockerManifestList, platforms...)
	if err != nil {
		t.Fatalf("testregistry: %v", err)
	}
	ref := s.Ref(t, repoTag)
	if err := remote.WriteIndex(ref, idx, s.Remote()...); err != nil {
		t.Fatalf("testregistry: pushing %s: %v", ref, err)
	}
	return digest(t, idx), manifests
}

// PushDerived pushes as repoTag an index built on the index at base
// (both "team/app:1.0", on this registry): for each of its platforms, the
// base image's layers then one of its own, as FROM and RUN would build
// it. With annotate, each manifest names its base as buildkit does
// (org.opencontainers.image.base.name and base.digest). It returns the
// index digest.
func (s *Server) PushDerived(t testing.TB, repoTag, base string, annotate bool) v1.Hash {
	t.Helper()
	baseRef := s.Ref(t, base)
	idx, err := remote.Index(baseRef, s.Remote()...)
	if err != nil {
		t.Fatalf("testregistry: fetching %s: %v", baseRef, err)
	}
	var annotations map[string]string
	if annotate {
		annotations = map[string]string{testimage.BaseName: baseRef.String(), testimage.BaseDigest: digest(t, idx).String()}
	}
	derived, err := testimage.Derived(idx, 1, annotations)
	if err != nil {
		t.Fatalf("testregistry: %v", err)
	}
	ref := s.Ref(t, repoTag)
	if err := remote.WriteIndex(ref, derived, s.Remote()...); err != nil {
		t.Fatalf("testregistry: pushing %s: %v", ref, err)
	}
	return digest(t, derived)
}

// DockerConfig writes a docker config.json holding the registry's
// credentials into a new directory and returns the directory, for
// DOCKER_CONFIG.
func (s *Server) DockerConfig(t testing.TB) string {
	t.Helper()
	type entry struct {
		Auth string `json:"auth"`
	}
	cfg := struct {
		Auths map[string]entry `json:"auths"`
	}{Auths: map[string]entry{
		s.Host: {Auth: base64.StdEncoding.EncodeToString([]byte(s.User + ":" + s.Password))},
	}}
	data, err := json.MarshalIndent(cfg, "", "\t")
	if err != nil {
		t.Fatalf("testregistry: encoding docker config: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o600); err != nil {
		t.Fatalf("testregistry: writing docker config: %v", err)
	}
	return dir
}

// Env returns the environment a child process (the imagelock binary) needs
// to reach the registry: SSL_CERT_FILE naming the test CA (Go programs on
// Linux then trust it instead of the system roots) and DOCKER_CONFIG naming
// a fresh DockerConfig directory.
func (s *Server) Env(t testing.TB) []string {
	t.Helper()
	env := []string{"DOCKER_CONFIG=" + s.DockerConfig(t)}
	if s.CAFile != "" {
		env = append(env, "SSL_CERT_FILE="+s.CAFile)
	}
	return env
}

func digest(t testing.TB, d interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatalf("testregistry: computing digest: %v", err)
	}
	return h
}
