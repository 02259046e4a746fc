package testregistry

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"
)

// Binary is the registry the tests run: the CNCF distribution registry as
// Debian packages it.
const Binary = "/usr/bin/docker-registry"

// startTimeout bounds the wait for the registry to answer its first ping.
const startTimeout = 15 * time.Second

// Server is a running registry. Its fields are what a test hands to the code
// under test: the host to put in image references, the CA to trust, the
// credentials to log in with.
type Server struct {
	Host     string // "127.0.0.1:PORT"
	CAFile   string // PEM of the test CA, for SSL_CERT_FILE; empty with PlainHTTP
	CAPool   *x509.CertPool
	User     string
	Password string
	Dir      string // its temp dir: config, certificates, storage, log

	mode    mode
	logFile string
}

type mode int

const (
	modeBasic mode = iota
	modeToken
	modePlain
)

type options struct {
	mode mode
}

// Option changes how Start configures the registry.
type Option func(*options)

// PlainHTTP serves the registry over plain HTTP with no authentication, for
// tests that care about neither. The last of PlainHTTP and TokenAuth wins.
func PlainHTTP() Option {
	return func(o *options) { o.mode = modePlain }
}

// TokenAuth puts the registry behind bearer tokens, as Docker Hub, GHCR and
// most hosted registries are: /v2/ answers 401 with a Bearer challenge whose
// realm is a token server (run in this process on another loopback port,
// TLS with the same CA) that checks User and Password with basic auth and
// signs a JWT granting the requested scopes. The last of PlainHTTP and
// TokenAuth wins.
func TokenAuth() Option {
	return func(o *options) { o.mode = modeToken }
}

// Start runs Binary on a free loopback port, by default with TLS (a CA and a
// server certificate for 127.0.0.1 and localhost, generated now) and basic
// authentication, storing blobs in a temporary directory. It waits until the
// registry answers /v2/ and stops it when the test ends. A missing Binary
// fails the test with the command that installs it.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if _, err := os.Stat(Binary); err != nil {
		t.Fatalf("testregistry: %s not found: run 'scripts/install-test-deps.sh' as root (it installs the Debian package docker-registry)", Binary)
	}
	s := &Server{
		Dir:      t.TempDir(),
		User:     "imagelock",
		Password: rand.Text(),
		mode:     o.mode,
	}
	s.logFile = filepath.Join(s.Dir, "registry.log")
	cfg, err := s.prepare(t)
	if err != nil {
		t.Fatalf("testregistry: %v", err)
	}
	// Another process can take the free port between our probe and the
	// registry's bind; try a few ports before giving up.
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("testregistry: %v", err)
		}
		s.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		err = s.launch(t, cfg)
		if err == nil {
			return s
		}
		if errors.Is(err, errPortTaken) && attempt < 3 {
			continue
		}
		t.Fatalf("testregistry: starting %s: %v\nlast lines of %s:\n%s", Binary, err, s.logFile, s.logTail())
	}
}

// prepare writes the certificates and the password file and returns the
// registry configuration, without its listen address.
func (s *Server) prepare(t testing.TB) (map[string]any, error) {
	cfg := map[string]any{
		"version": "0.1",
		"log": map[string]any{
			"level":     "info",
			"formatter": "text",
		},
		"storage": map[string]any{
			"filesystem": map[string]any{"rootdirectory": filepath.Join(s.Dir, "storage")},
			"delete":     map[string]any{"enabled": true},
		},
		"http": map[string]any{
			"secret": rand.Text(),
		},
	}
	if s.mode == modePlain {
		return cfg, nil
	}

	ca, err := newAuthority()
	if err != nil {
		return nil, err
	}
	s.CAFile = filepath.Join(s.Dir, "ca.pem")
	if err := os.WriteFile(s.CAFile, ca.pem, 0o644); err != nil {
		return nil, fmt.Errorf("writing CA certificate: %w", err)
	}
	s.CAPool = x509.NewCertPool()
	s.CAPool.AddCert(ca.cert)
	certFile, keyFile := filepath.Join(s.Dir, "server.pem"), filepath.Join(s.Dir, "server-key.pem")
	if err := ca.writeServerCert(certFile, keyFile); err != nil {
		return nil, err
	}
	cfg["http"].(map[string]any)["tls"] = map[string]any{"certificate": certFile, "key": keyFile}

	switch s.mode {
	case modeBasic:
		// The registry checks the bcrypt hash on every request: the
		// minimum cost keeps a test's hundreds of requests fast.
		hash, err := bcrypt.GenerateFromPassword([]byte(s.Password), bcrypt.MinCost)
		if err != nil {
			return nil, fmt.Errorf("hashing password: %w", err)
		}
		htpasswd := filepath.Join(s.Dir, "htpasswd")
		if err := os.WriteFile(htpasswd, fmt.Appendf(nil, "%s:%s\n", s.User, hash), 0o600); err != nil {
			return nil, fmt.Errorf("writing htpasswd: %w", err)
		}
		cfg["auth"] = map[string]any{"htpasswd": map[string]any{"realm": "testregistry", "path": htpasswd}}
	case modeToken:
		ts, err := startTokenServer(t, s, ca)
		if err != nil {
			return nil, err
		}
		cfg["auth"] = map[string]any{"token": map[string]any{
			"realm":          ts.realm,
			"service":        tokenService,
			"issuer":         tokenIssuer,
			"rootcertbundle": s.CAFile,
		}}
	}
	return cfg, nil
}

var errPortTaken = errors.New("port taken")

// launch starts the registry on s.Host and waits until it answers. It stops
// the registry at the end of the test, or at once if it never got ready.
func (s *Server) launch(t testing.TB, cfg map[string]any) error {
	cfg["http"].(map[string]any)["addr"] = s.Host
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("encoding config: %w", err)
	}
	cfgFile := filepath.Join(s.Dir, "config.yml")
	if err := os.WriteFile(cfgFile, data, 0o600); err != nil {
		return fmt.Errorf("writing config: %w", err)
	}
	logf, err := os.Create(s.logFile)
	if err != nil {
		return fmt.Errorf("creating log: %w", err)
	}
	defer logf.Close()

	cmd := exec.Command(Binary, "serve", cfgFile)
	// The registry reads REGISTRY_* variables as configuration overrides:
	// give it none of the test's environment.
	cmd.Env = []string{}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return err
	}
	var waitErr error
	exited := make(chan struct{})
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	stop := func() {
		cmd.Process.Kill()
		<-exited
	}

	if err := s.waitReady(exited, &waitErr); err != nil {
		stop()
		return err
	}
	t.Cleanup(stop)
	return nil
}

// waitReady polls /v2/ until the registry answers as configured: 401 with
// authentication, 200 without.
// waitErr is cmd.Wait's result, to be read once exited is closed.
func (s *Server) waitReady(exited <-chan struct{}, waitErr *error) error {
	want := http.StatusUnauthorized
	if s.mode == modePlain {
		want = http.StatusOK
	}
	client := &http.Client{Transport: s.Transport(), Timeout: time.Second}
	url := s.URL() + "/v2/"
	deadline := time.Now().Add(startTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			if bytes.Contains(s.logTail(), []byte("address already in use")) {
				return errPortTaken
			}
			return fmt.Errorf("registry exited before answering %s: %v", url, *waitErr)
		case <-time.After(20 * time.Millisecond):
		}
		resp, err := client.Get(url)
		if err != nil {
			lastErr = err
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == want {
			return nil
		}
		lastErr = fmt.Errorf("GET %s: status %d, want %d", url, resp.StatusCode, want)
	}
	return fmt.Errorf("registry not ready after %v: %v", startTimeout, lastErr)
}

// logTail returns the last lines of the registry's log.
func (s *Server) logTail() []byte {
	data, err := os.ReadFile(s.logFile)
	if err != nil {
		return []byte(err.Error())
	}
	const keep = 4000
	if len(data) > keep {
		data = data[len(data)-keep:]
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	return data
}

// URL returns the registry's base URL, "https://127.0.0.1:PORT" (or http
// with PlainHTTP).
func (s *Server) URL() string {
	if s.mode == modePlain {
		return "http://" + s.Host
	}
	return "https://" + s.Host
}

// Transport returns an HTTP transport that trusts the test CA.
func (s *Server) Transport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if s.CAPool != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: s.CAPool}
	}
	return tr
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
