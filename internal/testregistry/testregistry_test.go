package testregistry_test

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/imagelock/imagelock/internal/testregistry"
)

// childRefEnv, when set, makes the test binary a client process instead:
// it HEADs the reference with nothing but the default keychain and the
// default TLS roots, as the imagelock binary does, prints the digest and exits.
const childRefEnv = "TESTREGISTRY_CHILD_HEAD"

func TestMain(m *testing.M) {
	if ref := os.Getenv(childRefEnv); ref != "" {
		os.Exit(childHead(ref))
	}
	os.Exit(m.Run())
}

func childHead(s string) int {
	ref, err := name.ParseReference(s)
	if err == nil {
		var desc *v1.Descriptor
		desc, err = remote.Head(ref, remote.WithAuthFromKeychain(authn.DefaultKeychain))
		if err == nil {
			fmt.Println(desc.Digest)
			return 0
		}
	}
	fmt.Fprintln(os.Stderr, err)
	return 1
}

func TestPushAndHead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []testregistry.Option
	}{
		{name: "tls and basic auth"},
		{name: "tls and token auth", opts: []testregistry.Option{testregistry.TokenAuth()}},
		{name: "plain http", opts: []testregistry.Option{testregistry.PlainHTTP()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := testregistry.Start(t, tt.opts...)
			want := s.PushImage(t, "team/app:1.0")
			desc, err := remote.Head(s.Ref(t, "team/app:1.0"), s.Remote()...)
			if err != nil {
				t.Fatalf("HEAD team/app:1.0: %v", err)
			}
			if desc.Digest != want {
				t.Errorf("HEAD team/app:1.0 = %s, pushed %s", desc.Digest, want)
			}
		})
	}
}

func TestPushIndex(t *testing.T) {
	t.Parallel()
	s := testregistry.Start(t)
	platforms := []string{"linux/amd64", "linux/arm64/v8"}
	want, manifests := s.PushIndex(t, "team/multi:2", platforms...)

	desc, err := remote.Head(s.Ref(t, "team/multi:2"), s.Remote()...)
	if err != nil {
		t.Fatalf("HEAD team/multi:2: %v", err)
	}
	if desc.Digest != want || !desc.MediaType.IsIndex() {
		t.Errorf("HEAD team/multi:2 = %s (%s), want index %s", desc.Digest, desc.MediaType, want)
	}
	idx, err := remote.Index(s.Ref(t, "team/multi:2"), s.Remote()...)
	if err != nil {
		t.Fatalf("fetching index: %v", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatalf("reading index manifest: %v", err)
	}
	got := map[string]v1.Hash{}
	for _, m := range im.Manifests {
		got[m.Platform.String()] = m.Digest
	}
	if diff := cmp.Diff(manifests, got); diff != "" {
		t.Errorf("index platforms (-want +got):\n%s", diff)
	}
	if len(manifests) != len(platforms) {
		t.Errorf("PushIndex returned %d platform digests, want %d", len(manifests), len(platforms))
	}
	for p, h := range manifests {
		img, err := remote.Image(s.Ref(t, "team/multi@"+h.String()), s.Remote()...)
		if err != nil {
			t.Fatalf("fetching %s image: %v", p, err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatalf("reading %s config: %v", p, err)
		}
		if got := cf.Platform().String(); got != p {
			t.Errorf("image %s has config platform %s, want %s", h, got, p)
		}
	}
}

func TestWrongPasswordRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []testregistry.Option
	}{
		{name: "basic auth"},
		{name: "token auth", opts: []testregistry.Option{testregistry.TokenAuth()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := testregistry.Start(t, tt.opts...)
			s.PushImage(t, "team/app:1.0")
			_, err := remote.Head(s.Ref(t, "team/app:1.0"),
				remote.WithAuth(&authn.Basic{Username: s.User, Password: s.Password + "x"}),
				remote.WithTransport(s.Transport()))
			var terr *transport.Error
			if !errors.As(err, &terr) || terr.StatusCode != http.StatusUnauthorized {
				t.Fatalf("HEAD with a wrong password: got %v, want status 401", err)
			}
		})
	}
}

func TestUntrustedCARefused(t *testing.T) {
	t.Parallel()
	s := testregistry.Start(t)
	s.PushImage(t, "team/app:1.0")

	_, err := http.Get(s.URL() + "/v2/")
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("GET /v2/ with the system roots: got %v, want an unknown authority error", err)
	}
	// go-containerregistry falls back to plain HTTP for 127.0.0.1: the
	// fallback must fail too, not reach the registry some other way.
	_, err = remote.Head(s.Ref(t, "team/app:1.0"),
		remote.WithAuth(&authn.Basic{Username: s.User, Password: s.Password}))
	if !errors.As(err, &unknown) {
		t.Errorf("HEAD with the system roots: got %v, want an unknown authority error", err)
	}
}

// TestEnvReachesRegistry runs a separate process, as integration tests run
// the imagelock binary: Env alone must get it through TLS and auth.
func TestEnvReachesRegistry(t *testing.T) {
	t.Parallel()
	s := testregistry.Start(t)
	want := s.PushImage(t, "team/app:1.0")
	ref := s.Host + "/team/app:1.0"

	tests := []struct {
		name    string
		env     []string
		wantErr string
	}{
		{name: "with Env", env: s.Env(t)},
		{name: "without credentials", env: []string{"DOCKER_CONFIG=" + t.TempDir(), "SSL_CERT_FILE=" + s.CAFile}, wantErr: "401 Unauthorized"},
		{name: "without the CA", env: []string{"DOCKER_CONFIG=" + s.DockerConfig(t)}, wantErr: "certificate signed by unknown authority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(cleanEnv(t.TempDir()), tt.env...)
			cmd.Env = append(cmd.Env, childRefEnv+"="+ref)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(stderr.String(), tt.wantErr) {
					t.Fatalf("child HEAD %s: err %v, stderr %q; want failure containing %q", ref, err, stderr.String(), tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("child HEAD %s: %v\n%s", ref, err, stderr.String())
			}
			if got := strings.TrimSpace(string(out)); got != want.String() {
				t.Errorf("child HEAD %s = %s, pushed %s", ref, got, want)
			}
		})
	}
}

// cleanEnv is the test's environment without the variables a child's
// registry access depends on, so the host's own settings cannot help it,
// and with home as HOME.
func cleanEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "DOCKER_CONFIG", "SSL_CERT_FILE", "SSL_CERT_DIR", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "HOME":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home)
}
