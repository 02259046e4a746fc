package resolve

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/imagelock/imagelock/internal/testregistry"
)

// askedKeychain records the registries it was asked about, and hands out
// credentials naming itself.
type askedKeychain struct {
	name  string
	mu    sync.Mutex
	asked []string
}

func (k *askedKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.asked = append(k.asked, r.RegistryStr())
	return &authn.Basic{Username: k.name, Password: "secret"}, nil
}

// Each cloud's keychain is asked for its own hosts only: a look-alike
// host (a suffix, a prefix, ECR Public, MCR) is anonymous, so no cloud's
// credentials leave for a registry the cloud does not run, and no cloud's
// metadata service is asked about another registry.
func TestCloudKeychainRouting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		registry string
		want     string // the cloud asked; "" for none
	}{
		{"123456789012.dkr.ecr.us-east-1.amazonaws.com", "Amazon ECR"},
		{"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "Amazon ECR"},
		{"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "Amazon ECR"},
		{"123456789012.DKR.ECR.eu-west-1.AMAZONAWS.COM:443", "Amazon ECR"},
		{"123456789012.dkr.ecr.us-east-1.amazonaws.com.example.com", ""},
		{"dkr.ecr.us-east-1.amazonaws.com", ""},
		{"public.ecr.aws", ""},
		{"gcr.io", "Google"},
		{"eu.gcr.io", "Google"},
		{"us-docker.pkg.dev", "Google"},
		{"europe-west1-docker.pkg.dev", "Google"},
		{"gcr.io.example.com", ""},
		{"notgcr.io", ""},
		{"us-npm.pkg.dev.example.com", ""},
		{"acme.azurecr.io", "Azure"},
		{"acme.azurecr.cn", "Azure"},
		{"acme.azurecr.us", "Azure"},
		{"azurecr.io", ""},
		{"acme.azurecr.io.example.com", ""},
		{"mcr.microsoft.com", ""},
		{"ghcr.io", "GitHub"},
		{"ghcr.io.example.com", ""},
		{"docker.pkg.github.com", ""},
		{"index.docker.io", ""},
		{"quay.io", ""},
		{"127.0.0.1:5000", ""},
	}
	for _, tt := range tests {
		t.Run(tt.registry, func(t *testing.T) {
			t.Parallel()
			cs := clouds()
			asked := map[string]*askedKeychain{}
			for i := range cs {
				k := &askedKeychain{name: cs[i].name}
				cs[i].keychain, asked[cs[i].name] = k, k
			}
			reg, err := name.NewRegistry(tt.registry)
			if err != nil {
				t.Fatal(err)
			}
			auth, err := cloudKeychain(cs).Resolve(reg.Repo("team", "app"))
			if err != nil {
				t.Fatal(err)
			}
			for n, k := range asked {
				if n != tt.want && len(k.asked) > 0 {
					t.Errorf("%s's keychain was asked about %s", n, tt.registry)
				}
			}
			if tt.want == "" {
				if auth != authn.Anonymous {
					t.Errorf("%s: got %v, want anonymous", tt.registry, auth)
				}
				return
			}
			if len(asked[tt.want].asked) != 1 {
				t.Errorf("%s: %s's keychain asked %v, want once", tt.registry, tt.want, asked[tt.want].asked)
			}
			cfg, err := auth.Authorization()
			if err != nil || cfg.Username != tt.want {
				t.Errorf("%s: got credentials of %q (%v), want %s's", tt.registry, cfg.Username, err, tt.want)
			}
		})
	}
}

// machineCredentials points docker's and podman's config lookups at an
// empty home, with config.json (when not empty) as docker's config, and
// sets GITHUB_TOKEN and GITHUB_ACTOR ("" unsets neither: it is empty).
func machineCredentials(t *testing.T, configJSON, token string) {
	home := t.TempDir()
	for k, v := range map[string]string{
		"HOME": home, "DOCKER_CONFIG": filepath.Join(home, "docker"), "REGISTRY_AUTH_FILE": filepath.Join(home, "none.json"),
		"XDG_RUNTIME_DIR": home, "XDG_CONFIG_HOME": home, "GITHUB_TOKEN": token, "GITHUB_ACTOR": "imagelock",
	} {
		t.Setenv(k, v)
	}
	if configJSON != "" {
		if err := os.MkdirAll(filepath.Join(home, "docker"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(home, "docker", "config.json"), []byte(configJSON), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// ghcrAt is a transport that reaches srv for ghcr.io, and refuses any
// address off this machine: the test asks the local registry, never GitHub.
func ghcrAt(srv *testregistry.Server) http.RoundTripper {
	var d net.Dialer
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr == "ghcr.io:443" {
				addr = srv.Host
			}
			if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" && host != "localhost" {
				return nil, fmt.Errorf("test dialed %s", addr)
			}
			return d.DialContext(ctx, network, addr)
		},
		// The test CA's certificates name localhost, the token server's
		// host, and 127.0.0.1; ghcr.io is the local registry in disguise.
		TLSClientConfig: &tls.Config{RootCAs: srv.CAPool, ServerName: "localhost"},
	}
}

// GITHUB_TOKEN logs in to ghcr.io through its token server when docker's
// config has nothing for it; docker's config wins where it has; and no
// other registry sees the token. Against the real registry behind bearer
// tokens, as GHCR is.
func TestGHCRToken(t *testing.T) {
	srv := testregistry.Start(t, testregistry.TokenAuth())
	want := srv.PushImage(t, "team/app:1")
	ghcr := Key{Name: "ghcr.io/team/app", Tag: "1"}
	local := Key{Name: srv.Host + "/team/app", Tag: "1"}
	login := func(user, pass string) string {
		auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
		return `{"auths":{"ghcr.io":{"auth":"` + auth + `"}}}`
	}

	tests := []struct {
		name       string
		configJSON string
		token      string
		key        Key
		refused    bool
	}{
		{"GITHUB_TOKEN", "", srv.Password, ghcr, false},
		{"no credentials", "", "", ghcr, true},
		{"a wrong GITHUB_TOKEN", "", "wrong", ghcr, true},
		{"docker's config before GITHUB_TOKEN", login(srv.User, srv.Password), "wrong", ghcr, false},
		{"docker's config refused, GITHUB_TOKEN unused", login(srv.User, "wrong"), srv.Password, ghcr, true},
		{"GITHUB_TOKEN only for ghcr.io", "", srv.Password, local, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			machineCredentials(t, tt.configJSON, tt.token)
			r := New(Options{Transport: ghcrAt(srv)})
			d, err := r.Head(ctxFor(t), tt.key)
			if tt.refused {
				var e *Error
				if !errors.As(err, &e) || !errors.Is(err, ErrUnauthorized) {
					t.Fatalf("Head(%s) = %v, %v; want refused credentials", tt.key, d, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Head(%s): %v", tt.key, err)
			}
			if d.Digest != want {
				t.Errorf("Head(%s) = %s, want %s", tt.key, d.Digest, want)
			}
		})
	}
}
