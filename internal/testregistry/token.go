package testregistry

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

const (
	tokenService = "testregistry"
	tokenIssuer  = "imagelock-testregistry-auth"
	tokenTTL     = 5 * time.Minute
)

// tokenServer issues the JWTs the registry accepts, in the protocol of
// distribution's docs/spec/auth/token.md: GET realm?service=...&scope=...
// with basic auth, answered with {"token": "..."}.
type tokenServer struct {
	realm string
	user  string
	pass  string
	key   *ecdsa.PrivateKey
	chain []string // base64 DER, for the JWT's x5c header
}

// startTokenServer serves tokens over TLS on a loopback port until the test
// ends. The registry trusts tokens signed by a certificate that chains to
// the test CA (its rootcertbundle).
func startTokenServer(t testing.TB, s *Server, ca *authority) (*tokenServer, error) {
	signDER, signKey, err := ca.issue(&x509.Certificate{
		Subject:  pkix.Name{CommonName: tokenIssuer},
		KeyUsage: x509.KeyUsageDigitalSignature,
	})
	if err != nil {
		return nil, err
	}
	serverDER, serverKey, err := ca.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:    []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening for the token server: %w", err)
	}
	ts := &tokenServer{
		// go-containerregistry refuses a realm on a loopback IP literal
		// other than the registry's own host:port (SSRF protection), so
		// name the token server by its host name, as auth.docker.io is.
		realm: fmt.Sprintf("https://localhost:%d/token", l.Addr().(*net.TCPAddr).Port),
		user:  s.User,
		pass:  s.Password,
		key:   signKey,
		chain: []string{base64.StdEncoding.EncodeToString(signDER)},
	}
	srv := &http.Server{
		Handler: ts,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{{
			Certificate: [][]byte{serverDER},
			PrivateKey:  serverKey,
		}}},
		ReadHeaderTimeout: 10 * time.Second,
	}
	go srv.ServeTLS(l, "", "")
	t.Cleanup(func() { srv.Close() })
	return ts, nil
}

type access struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

func (ts *tokenServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/token" || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user != ts.user || pass != ts.pass {
		w.Header().Set("WWW-Authenticate", `Basic realm="testregistry-token"`)
		http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"wrong user name or password"}]}`, http.StatusUnauthorized)
		return
	}
	q := r.URL.Query()
	if svc := q.Get("service"); svc != tokenService {
		http.Error(w, fmt.Sprintf("unknown service %q", svc), http.StatusBadRequest)
		return
	}
	grants := []access{}
	for _, scope := range q["scope"] {
		for sc := range strings.FieldsSeq(scope) {
			a, err := parseScope(sc)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			grants = append(grants, a)
		}
	}
	now := time.Now()
	token, err := ts.sign(user, grants, now)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"token":        token,
		"access_token": token,
		"expires_in":   int(tokenTTL.Seconds()),
		"issued_at":    now.UTC().Format(time.RFC3339),
	})
}

// parseScope reads "repository:team/app:pull,push". Every user is granted
// every action asked for: the test registry checks who, not what.
func parseScope(s string) (access, error) {
	typ, rest, ok := strings.Cut(s, ":")
	i := strings.LastIndexByte(rest, ':')
	if !ok || i < 0 {
		return access{}, fmt.Errorf("malformed scope %q", s)
	}
	return access{Type: typ, Name: rest[:i], Actions: strings.Split(rest[i+1:], ",")}, nil
}

// sign makes an ES256 JWT carrying the certificate chain in its x5c header,
// which the registry verifies against its rootcertbundle.
func (ts *tokenServer) sign(subject string, grants []access, now time.Time) (string, error) {
	header, err := json.Marshal(map[string]any{"typ": "JWT", "alg": "ES256", "x5c": ts.chain})
	if err != nil {
		return "", err
	}
	claims, err := json.Marshal(map[string]any{
		"iss":    tokenIssuer,
		"sub":    subject,
		"aud":    tokenService,
		"exp":    now.Add(tokenTTL).Unix(),
		"nbf":    now.Add(-time.Minute).Unix(),
		"iat":    now.Unix(),
		"jti":    rand.Text(),
		"access": grants,
	})
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, ts.key, sum[:])
	if err != nil {
		return "", fmt.Errorf("signing token: %w", err)
	}
	// JWS wants the raw r||s, each padded to the curve size, not ASN.1.
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + enc.EncodeToString(sig), nil
}
