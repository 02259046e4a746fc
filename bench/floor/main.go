// Command floor is the bench's network floor for verify: a client that
// makes exactly the requests verify needs and nothing else. For each
// registry name it sends one ping; behind a token server, it asks the
// realm the ping names for tokens of up to 32 repository scopes each
// (-scopes), all at once and outside the limit; then one HEAD per key, no
// more than -limit in flight over all registries, each checked against
// the digest the keys file gives. It uses net/http only, one connection
// pool, and prints the number of keys verified.
//
//	floor -keys FILE -scheme http|https -limit N -scopes N
//
// The keys file has a line "host repository tag digest" per key.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// key is one repository:tag on one registry name, and its digest.
type key struct {
	Host, Repo, Tag, Digest string
}

// plan is what to verify, and how.
type plan struct {
	scheme string // http or https
	limit  int    // HEADs in flight at most
	scopes int    // repository scopes per token request
	keys   []key
}

func main() {
	keysFile := flag.String("keys", "", "the `file` of keys, a line \"host repository tag digest\" each")
	var p plan
	flag.StringVar(&p.scheme, "scheme", "http", "the registries' `scheme`: http or https")
	flag.IntVar(&p.limit, "limit", 64, "HEAD requests in flight at most, over all registries")
	flag.IntVar(&p.scopes, "scopes", 32, "repository scopes per token request")
	flag.Parse()
	if *keysFile == "" || p.limit < 1 || p.scopes < 1 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: floor -keys FILE -scheme http|https -limit N -scopes N")
		os.Exit(2)
	}
	keys, err := readKeys(*keysFile)
	if err == nil {
		p.keys = keys
		var n int64
		if n, err = verify(context.Background(), http.DefaultTransport.(*http.Transport).Clone(), p); err == nil {
			fmt.Println(n)
			return
		}
	}
	fmt.Fprintln(os.Stderr, "floor: "+err.Error())
	os.Exit(1)
}

// readKeys reads a keys file.
func readKeys(path string) ([]key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var keys []key
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) != 4 {
			return nil, fmt.Errorf("%s:%d: want host, repository, tag and digest, got %q", path, i+1, line)
		}
		keys = append(keys, key{Host: f[0], Repo: f[1], Tag: f[2], Digest: f[3]})
	}
	return keys, nil
}

// verify checks every key of p, and returns how many it checked.
func verify(ctx context.Context, tr *http.Transport, p plan) (int64, error) {
	// Keep every connection the limit opens: the default transport keeps
	// 100 idle in all, and 2 per host.
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 0, p.limit
	client := &http.Client{Transport: tr}
	byHost := map[string]map[string][]key{} // host, repository, keys
	for _, k := range p.keys {
		if byHost[k.Host] == nil {
			byHost[k.Host] = map[string][]key{}
		}
		byHost[k.Host][k.Repo] = append(byHost[k.Host][k.Repo], k)
	}
	slots := make(chan struct{}, p.limit)
	var n atomic.Int64
	g, ctx := errgroup.WithContext(ctx)
	for host, repos := range byHost {
		g.Go(func() error {
			realm, err := ping(ctx, client, p.scheme, host)
			if err != nil {
				return err
			}
			heads := func(keys []key, token string) {
				for _, k := range keys {
					g.Go(func() error {
						slots <- struct{}{}
						defer func() { <-slots }()
						if err := head(ctx, client, p.scheme, k, token); err != nil {
							return err
						}
						n.Add(1)
						return nil
					})
				}
			}
			if realm == nil {
				for _, keys := range repos {
					heads(keys, "")
				}
				return nil
			}
			var batch []string
			flush := func() {
				scopes := batch
				batch = nil
				g.Go(func() error {
					tok, err := token(ctx, client, realm, scopes)
					if err != nil {
						return err
					}
					for _, s := range scopes {
						heads(repos[s], tok)
					}
					return nil
				})
			}
			for repo := range repos {
				if batch = append(batch, repo); len(batch) == p.scopes {
					flush()
				}
			}
			if len(batch) > 0 {
				flush()
			}
			return nil
		})
	}
	err := g.Wait()
	return n.Load(), err
}

var (
	realmParam   = regexp.MustCompile(`realm="([^"]*)"`)
	serviceParam = regexp.MustCompile(`service="([^"]*)"`)
)

// ping asks host's /v2/ and returns the token realm (with its service)
// that a 401's Bearer challenge names, or nil when the registry needs
// no token.
func ping(ctx context.Context, client *http.Client, scheme, host string) (*url.URL, error) {
	resp, err := do(ctx, client, http.MethodGet, scheme+"://"+host+"/v2/", "")
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return nil, nil
	case http.StatusUnauthorized:
		ch := resp.Header.Get("WWW-Authenticate")
		realm, service := realmParam.FindStringSubmatch(ch), serviceParam.FindStringSubmatch(ch)
		if !strings.HasPrefix(ch, "Bearer ") || realm == nil || service == nil {
			return nil, fmt.Errorf("pinging %s: a challenge without a Bearer realm and service: %q", host, ch)
		}
		u, err := url.Parse(realm[1])
		if err != nil {
			return nil, fmt.Errorf("pinging %s: %w", host, err)
		}
		u.RawQuery = url.Values{"service": {service[1]}}.Encode()
		return u, nil
	}
	return nil, fmt.Errorf("pinging %s: %s", host, resp.Status)
}

// token asks realm for one token of every repository's pull scope.
func token(ctx context.Context, client *http.Client, realm *url.URL, repos []string) (string, error) {
	u := *realm
	q := u.Query()
	for _, r := range repos {
		q.Add("scope", "repository:"+r+":pull")
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct {
		Token string `json:"token"`
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("asking %s for a token: %s", realm.Host, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.Token == "" {
		return "", errors.Join(fmt.Errorf("reading the token from %s", realm.Host), err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return tok.Token, err
}

// head asks for k's manifest digest and checks it.
func head(ctx context.Context, client *http.Client, scheme string, k key, token string) error {
	ref := k.Host + "/" + k.Repo + ":" + k.Tag
	resp, err := do(ctx, client, http.MethodHead, scheme+"://"+k.Host+"/v2/"+k.Repo+"/manifests/"+k.Tag, token)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HEAD %s: %s", ref, resp.Status)
	}
	if got := resp.Header.Get("Docker-Content-Digest"); got != k.Digest {
		return fmt.Errorf("HEAD %s: digest %s, want %s", ref, got, k.Digest)
	}
	return nil
}

// accept is every manifest media type the bench's registry holds.
var accept = strings.Join([]string{
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.oci.image.index.v1+json",
}, ",")

// do sends one request and drains and closes its body, so that the
// connection goes back to the pool.
func do(ctx context.Context, client *http.Client, method, u, token string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, err
}
