package workflow

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/pelletier/go-toml/v2/unstable"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/imagelock/imagelock/internal/bounded"
	"github.com/imagelock/imagelock/lock"
	"github.com/imagelock/imagelock/resolve"
	"github.com/imagelock/imagelock/trust"
)

// TrustRule is one [[trust]] table of the config: the images it covers
// and whom it trusts to sign them.
type TrustRule struct {
	// Images are globs over normalized names ("ghcr.io/acme/*"); a name
	// with no glob may be written short ("acme/base").
	Images []string `toml:"images"`
	// Key is a PEM public key file, relative to the config file.
	Key string `toml:"key"`
	// Issuer and Subject or SubjectRegexp are a keyless identity, checked
	// against TrustedRoot (a Sigstore trusted_root.json file).
	Issuer        string `toml:"issuer"`
	Subject       string `toml:"subject"`
	SubjectRegexp string `toml:"subject-regexp"`
	TrustedRoot   string `toml:"trusted-root"`
	// Tlog requires a transparency-log entry.
	Tlog bool `toml:"tlog"`
	// MinAge overrides the config's min-age for these images.
	MinAge string `toml:"min-age"`
}

// loadTrust checks the [[trust]] rules and min-age, and reads the keys
// they name (relative to dir); an error names the config's line.
func (c *Config) loadTrust(dir string, data []byte) error {
	lines := tableLines(data, "trust")
	var err error
	if c.minAge, err = parseAge(c.MinAge); err != nil {
		return fmt.Errorf("%s:%d: min-age: %v", ConfigFile, keyLine(data, "min-age"), err)
	}
	for i, t := range c.Trust {
		at := func(key string) string {
			if i < len(lines) {
				if l, ok := lines[i][key]; ok {
					return fmt.Sprintf("%s:%d", ConfigFile, l)
				}
				return fmt.Sprintf("%s:%d", ConfigFile, lines[i][""])
			}
			return ConfigFile
		}
		r, err := t.rule(dir, at)
		if err != nil {
			return err
		}
		if r.MinAge == 0 {
			r.MinAge = c.minAge
		}
		c.rules = append(c.rules, r)
	}
	return nil
}

// rule checks one [[trust]] table and reads its key; at gives the
// position of a key of the table.
func (t TrustRule) rule(dir string, at func(key string) string) (*trust.Rule, error) {
	r := &trust.Rule{Issuer: t.Issuer, Subject: t.Subject, Tlog: t.Tlog, Where: at("")}
	if len(t.Images) == 0 {
		return nil, fmt.Errorf("%s: trust: a rule needs images = [...], the image names it covers", at(""))
	}
	for _, g := range t.Images {
		if !strings.ContainsAny(g, "*?[{") {
			p, err := resolve.Parse(g)
			if err != nil {
				return nil, fmt.Errorf("%s: trust: images: %v", at("images"), err)
			}
			g = p.Key.Name
		} else if !doublestar.ValidatePattern(g) {
			return nil, fmt.Errorf("%s: trust: images: invalid glob %q", at("images"), g)
		}
		r.Images = append(r.Images, g)
	}
	keyless := t.Issuer != "" || t.Subject != "" || t.SubjectRegexp != ""
	switch {
	case t.Key != "" && keyless:
		return nil, fmt.Errorf("%s: trust: a rule names a key or a keyless identity (issuer, subject), not both", at(""))
	case t.Key == "" && !keyless:
		return nil, fmt.Errorf("%s: trust: a rule needs key = \"FILE\", or issuer with subject or subject-regexp", at(""))
	case keyless && t.Issuer == "":
		return nil, fmt.Errorf("%s: trust: a keyless rule needs issuer, the OIDC issuer of its identity", at(""))
	case keyless && (t.Subject == "") == (t.SubjectRegexp == ""):
		return nil, fmt.Errorf("%s: trust: a keyless rule needs one of subject and subject-regexp", at(""))
	case keyless && t.TrustedRoot == "":
		return nil, fmt.Errorf("%s: trust: a keyless rule needs trusted-root = \"FILE\", a Sigstore trusted_root.json", at(""))
	case t.Tlog && t.TrustedRoot == "":
		return nil, fmt.Errorf("%s: trust: tlog = true needs trusted-root = \"FILE\", which holds the log's key", at("tlog"))
	}
	if t.SubjectRegexp != "" {
		re, err := regexp.Compile(t.SubjectRegexp)
		if err != nil {
			return nil, fmt.Errorf("%s: trust: subject-regexp: %v", at("subject-regexp"), err)
		}
		r.SubjectRegexp = re
	}
	if t.Key != "" {
		data, err := readPolicyFile(dir, t.Key)
		if err != nil {
			return nil, fmt.Errorf("%s: trust: key: %v", at("key"), err)
		}
		if r.Key, err = trust.ParseKey(t.Key, data); err != nil {
			return nil, fmt.Errorf("%s: trust: key: %v", at("key"), err)
		}
	}
	if t.TrustedRoot != "" {
		data, err := readPolicyFile(dir, t.TrustedRoot)
		if err != nil {
			return nil, fmt.Errorf("%s: trust: trusted-root: %v", at("trusted-root"), err)
		}
		if r.Root, err = root.NewTrustedRootFromJSON(data); err != nil {
			return nil, fmt.Errorf("%s: trust: trusted-root: %s: not a Sigstore trusted root: %v", at("trusted-root"), t.TrustedRoot, err)
		}
	}
	age, err := parseAge(t.MinAge)
	if err != nil {
		return nil, fmt.Errorf("%s: trust: min-age: %v", at("min-age"), err)
	}
	r.MinAge = age
	return r, nil
}

// readPolicyFile reads a key or root the config names, relative to dir.
func readPolicyFile(dir, name string) ([]byte, error) {
	p := name
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, filepath.FromSlash(name))
	}
	data, err := bounded.Read(p, bounded.Small)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no such file (paths are relative to %s)", name, ConfigFile)
	}
	return data, err
}

// parseAge reads a duration such as "3d", "12h" or "1d12h"; "" is 0.
func parseAge(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	var days time.Duration
	rest := s
	if i := strings.Index(rest, "d"); i >= 0 {
		n, err := strconv.Atoi(rest[:i])
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q: want a duration such as \"3d\", \"36h\" or \"1d12h\"", s)
		}
		days, rest = time.Duration(n)*24*time.Hour, rest[i+1:]
	}
	var d time.Duration
	if rest != "" {
		var err error
		if d, err = time.ParseDuration(rest); err != nil || d < 0 {
			return 0, fmt.Errorf("%q: want a duration such as \"3d\", \"36h\" or \"1d12h\"", s)
		}
	}
	return days + d, nil
}

// tableLines maps, for each [[name]] table of a TOML document in order,
// its keys to their lines; "" maps to the line of the table's header.
func tableLines(data []byte, name string) []map[string]int {
	var out []map[string]int
	in := false
	p := unstable.Parser{}
	p.Reset(data)
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.ArrayTable, unstable.Table:
			k := e.Key()
			in = e.Kind == unstable.ArrayTable && k.Next() && string(k.Node().Data) == name && !k.Next()
			if in {
				out = append(out, map[string]int{"": lineOf(data, &p, e)})
			}
		case unstable.KeyValue:
			if k := e.Key(); in && k.Next() {
				out[len(out)-1][string(k.Node().Data)] = lineOf(data, &p, e)
			}
		}
	}
	return out
}

// keyLine is the line of a top-level key, or 1.
func keyLine(data []byte, key string) int {
	p := unstable.Parser{}
	p.Reset(data)
	for p.NextExpression() {
		e := p.Expression()
		if e.Kind == unstable.ArrayTable || e.Kind == unstable.Table {
			break
		}
		if k := e.Key(); e.Kind == unstable.KeyValue && k.Next() && string(k.Node().Data) == key {
			return lineOf(data, &p, e)
		}
	}
	return 1
}

// lineOf is the line of an expression's first key.
func lineOf(data []byte, p *unstable.Parser, e *unstable.Node) int {
	k := e.Key()
	if !k.Next() {
		return 0
	}
	return 1 + bytes.Count(data[:p.Range(k.Node().Data).Offset], []byte("\n"))
}

// ruleFor returns the first [[trust]] rule that covers the image named
// name, or nil.
func (c *Config) ruleFor(name string) *trust.Rule {
	for _, r := range c.rules {
		if r.Covers(name) {
			return r
		}
	}
	return nil
}

// Codes of the findings of the trust policy.
const (
	// CodeUnsigned is a lock entry a [[trust]] rule covers that records
	// no signer.
	CodeUnsigned = "unsigned"
	// CodeSigner is a lock entry whose recorded signer the rule that
	// covers it does not accept.
	CodeSigner = "signer-mismatch"
)

// trustFindings checks, offline, that each entry in use that a rule
// covers records a signer the rule accepts.
func (e *env) trustFindings(entries map[string]*lock.Image) []Finding {
	var out []Finding
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		im := entries[k]
		r := e.cfg.ruleFor(im.Name)
		if r == nil || r.Accepts(im.Signer) {
			continue
		}
		f := Finding{Severity: Failure, Code: CodeSigner, File: e.lockName, Line: im.Line, Image: im.Key(),
			Msg: fmt.Sprintf("records signer %s, which the [[trust]] rule at %s does not accept (it wants %s)", im.Signer, r.Where, r.Want()),
			Fix: "run 'imagelock lock' to verify and record the signature the rule wants"}
		if im.Signer == "" {
			f.Code = CodeUnsigned
			f.Msg = fmt.Sprintf("the [[trust]] rule at %s covers it, but %s records no signer", r.Where, e.lockName)
		}
		out = append(out, f)
	}
	return out
}
