package workflow

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/sigstore/sigstore-go/pkg/root"
	"golang.org/x/sync/errgroup"

	"github.com/imagelock/imagelock/internal/bounded"
	"github.com/imagelock/imagelock/internal/fileerr"
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
// and trusted roots they name (relative to dir); an error names the
// config's line.
func (c *Config) loadTrust(dir string, data []byte) error {
	var err error
	if c.minAge, err = parseAge(c.MinAge); err != nil {
		return &fileerr.Error{File: ConfigFile, Line: keyLine(data, "", "min-age"), Err: fmt.Errorf("min-age: %w", err)}
	}
	lines := tableLines(data, "trust")
	for i, t := range c.Trust {
		r, err := t.rule(dir, tableAt(lines, i))
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
func (t TrustRule) rule(dir string, at func(key string) int) (*trust.Rule, error) {
	r := &trust.Rule{Issuer: t.Issuer, Subject: t.Subject, Tlog: t.Tlog, Where: fileerr.At(ConfigFile, at(""), 0)}
	bad := func(key, format string, args ...any) error {
		return &fileerr.Error{File: ConfigFile, Line: at(key), Err: fmt.Errorf("trust: "+format, args...)}
	}
	if len(t.Images) == 0 {
		return nil, bad("", "a rule needs images = [...], the image names it covers")
	}
	for _, g := range t.Images {
		if !strings.ContainsAny(g, "*?[{") {
			p, err := resolve.Parse(g)
			if err != nil {
				return nil, bad("images", "images: %w", err)
			}
			g = p.Key.Name
		} else if !doublestar.ValidatePattern(g) {
			return nil, bad("images", "images: invalid glob %q", g)
		}
		r.Images = append(r.Images, g)
	}
	keyless := t.Issuer != "" || t.Subject != "" || t.SubjectRegexp != ""
	switch {
	case t.Key != "" && keyless:
		return nil, bad("", "a rule names a key or a keyless identity (issuer, subject), not both")
	case t.Key == "" && !keyless:
		return nil, bad("", "a rule needs key = \"FILE\", or issuer with subject or subject-regexp")
	case keyless && t.Issuer == "":
		return nil, bad("", "a keyless rule needs issuer, the OIDC issuer of its identity")
	case keyless && (t.Subject == "") == (t.SubjectRegexp == ""):
		return nil, bad("", "a keyless rule needs one of subject and subject-regexp")
	case keyless && t.TrustedRoot == "":
		return nil, bad("", "a keyless rule needs trusted-root = \"FILE\", a Sigstore trusted_root.json")
	case t.Tlog && t.TrustedRoot == "":
		return nil, bad("tlog", "tlog = true needs trusted-root = \"FILE\", which holds the log's key")
	}
	if t.SubjectRegexp != "" {
		re, err := regexp.Compile(t.SubjectRegexp)
		if err != nil {
			return nil, bad("subject-regexp", "subject-regexp: %w", err)
		}
		r.SubjectRegexp = re
	}
	if t.Key != "" {
		data, err := readPolicyFile(dir, t.Key)
		if err != nil {
			return nil, bad("key", "key: %w", err)
		}
		if r.Key, err = trust.ParseKey(t.Key, data); err != nil {
			return nil, bad("key", "key: %w", err)
		}
	}
	if t.TrustedRoot != "" {
		data, err := readPolicyFile(dir, t.TrustedRoot)
		if err != nil {
			return nil, bad("trusted-root", "trusted-root: %w", err)
		}
		if r.Root, err = root.NewTrustedRootFromJSON(data); err != nil {
			return nil, bad("trusted-root", "trusted-root: %s: not a Sigstore trusted root: %w", t.TrustedRoot, err)
		}
	}
	age, err := parseAge(t.MinAge)
	if err != nil {
		return nil, bad("min-age", "min-age: %w", err)
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

// Held is a moved tag update left out because its new digest is younger
// than the min-age that applies to it.
type Held struct {
	Image string `json:"image"`
	// Locked is the digest kept; New the one held back.
	Locked string `json:"locked_digest"`
	New    string `json:"new_digest"`
	// Since is when the new digest was signed, or else built; Eligible
	// when update will take it.
	Since    time.Time `json:"since"`
	Eligible time.Time `json:"eligible"`
	// From says where Since comes from: "signature" or "created".
	From string `json:"since_from"`
}

// TrustError is a lock that cannot be written because images a
// [[trust]] rule covers are unsigned, signed by someone the rule does not
// trust, or, on update, signed by someone other than the locked signer.
type TrustError struct {
	Lockfile string
	Refused  []error
}

// Unwrap returns each refusal: *trust.RefusedError or *SignerChangedError.
func (e *TrustError) Unwrap() []error { return e.Refused }

func (e *TrustError) Error() string {
	var b strings.Builder
	if len(e.Refused) == 1 {
		fmt.Fprintf(&b, "1 image fails the signature policy of %s, so %s was not written:\n", ConfigFile, e.Lockfile)
	} else {
		fmt.Fprintf(&b, "%d images fail the signature policy of %s, so %s was not written:\n", len(e.Refused), ConfigFile, e.Lockfile)
	}
	for _, err := range e.Refused {
		b.WriteString("  " + strings.ReplaceAll(err.Error(), "\n", "\n  ") + "\n")
	}
	b.WriteString("check who publishes these images; change the [[trust]] rule only if the new signer is one you trust")
	return b.String()
}

// SignerChangedError is a tag that moved to a digest signed by someone
// other than the signer the lock records: update takes it only with
// --accept-signer.
type SignerChangedError struct {
	Image          string
	Digest         string
	Locked, Signer string
}

func (e *SignerChangedError) Error() string {
	return fmt.Sprintf("%s: the new digest %s has another signer\n    locked: %s\n    new:    %s\nrun 'imagelock update --accept-signer --image %s' to accept it",
		e.Image, e.Digest, e.Locked, e.Signer, e.Image)
}

// trustJob is one entry of a new lock whose signature or age must be
// looked up.
type trustJob struct {
	im    *lock.Image
	was   *lock.Image
	rule  *trust.Rule
	age   time.Duration // the min-age of a moved tag; 0 for none
	sigs  bool          // verify its signature
	found *trust.Accepted
	deny  error // the rule refused it
	since time.Time
	from  string
}

// checkTrust verifies the signatures of next's entries that a [[trust]]
// rule covers and whose digest is new to the lock, or whose recorded
// signer the rule does not accept, or that update --image names; others
// keep what old recorded, with no request. A refreshed tag that moved to a digest younger than its
// min-age is held back: its old entry stays. A tag update --bump moved to
// (bumped maps it to the tag it moved from) must keep that tag's signer,
// as a moved digest must; min-age does not hold it back, for its sources
// are rewritten already. It returns what was held; the error is a
// *TrustError when a rule refuses an entry.
func (e *env) checkTrust(ctx context.Context, old, next *lock.File, refreshed func(resolve.Key) bool, bumped map[string]string) ([]Held, error) {
	oldIndex := old.Index()
	var jobs []*trustJob
	for i := range next.Images {
		im := &next.Images[i]
		was := oldIndex[im.Key()]
		from, isBump := bumped[im.Key()]
		if was == nil && isBump {
			was = oldIndex[from]
		}
		j := &trustJob{im: im, was: was, rule: e.cfg.ruleFor(im.Name)}
		fresh := im.Tag != "" && refreshed(resolve.Key{Name: im.Name, Tag: im.Tag})
		if fresh && was != nil && was.Digest != im.Digest && !isBump {
			j.age = e.cfg.minAge
			if j.rule != nil {
				j.age = j.rule.MinAge
			}
		}
		if j.rule != nil {
			if !(fresh && e.reverify) && was != nil && was.Digest == im.Digest && j.rule.Accepts(was.Signer) {
				im.Signer, im.Signature, im.SignedAt = was.Signer, was.Signature, was.SignedAt
			} else {
				j.sigs = true
			}
		}
		if j.sigs || j.age > 0 {
			jobs = append(jobs, j)
		}
	}
	if len(jobs) == 0 {
		return nil, nil
	}
	if e.Signatures == nil {
		var names []string
		for _, j := range jobs {
			names = append(names, j.im.Key())
		}
		return nil, fmt.Errorf("checking signatures and release ages needs the registry: %s\nrun the command online", strings.Join(names, ", "))
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.Jobs)
	for _, j := range jobs {
		g.Go(func() error { return e.lookUpTrust(gctx, j) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var held []Held
	refused := &TrustError{Lockfile: e.lockName}
	now := time.Now()
	for _, j := range jobs {
		if j.age > 0 && now.Sub(j.since) < j.age {
			held = append(held, Held{Image: j.im.Key(), Locked: j.was.Digest.String(), New: j.im.Digest.String(),
				Since: j.since.UTC(), Eligible: j.since.Add(j.age).UTC(), From: j.from})
			sources := j.im.Sources
			*j.im = *j.was
			j.im.Sources, j.im.Line = sources, 0
			continue
		}
		if !j.sigs {
			continue
		}
		if j.deny != nil {
			refused.Refused = append(refused.Refused, j.deny)
			continue
		}
		if j.was != nil && j.was.Digest != j.im.Digest && j.was.Signer != "" && j.was.Signer != j.found.Signer && !e.acceptSigner {
			refused.Refused = append(refused.Refused, &SignerChangedError{Image: j.im.Key(), Digest: j.im.Digest.String(), Locked: j.was.Signer, Signer: j.found.Signer})
			continue
		}
		j.im.Signer, j.im.Signature, j.im.SignedAt = j.found.Signer, j.found.Signature, j.found.SignedAt
	}
	if len(refused.Refused) > 0 {
		return nil, refused
	}
	return held, nil
}

// lookUpTrust fetches what a job needs: the signatures, verified against
// the rule, and for a moved tag with a min-age, the time it was signed,
// else built.
func (e *env) lookUpTrust(ctx context.Context, j *trustJob) error {
	if j.sigs {
		sigs, err := e.Signatures.Signatures(ctx, j.im.Name, j.im.Digest)
		if err != nil {
			return err
		}
		j.found, j.deny = j.rule.Verify(j.im.Name, j.im.Digest, sigs)
		if j.deny == nil && !j.found.SignedAt.IsZero() {
			j.since, j.from = j.found.SignedAt, "signature"
		}
	}
	if j.age == 0 || !j.since.IsZero() {
		return nil
	}
	created, err := e.Signatures.Created(ctx, j.im.Name, j.im.Digest)
	if err != nil {
		return err
	}
	j.since, j.from = created, "created"
	return nil
}

// CodeSignatureGone is a lock entry whose recorded signature the registry
// no longer has, or that no longer verifies (verify --signatures).
const CodeSignatureGone = "signature-gone"

// recheckSignatures checks, online, that the signature each entry in use
// records is still in the registry and still verifies against the rule
// that covers it. Entries whose signer the rule does not accept are
// trustFindings' to report.
func (e *env) recheckSignatures(ctx context.Context, entries map[string]*lock.Image) ([]Finding, error) {
	type check struct {
		im   *lock.Image
		rule *trust.Rule
		ok   bool
	}
	var checks []*check
	for _, k := range slices.Sorted(maps.Keys(entries)) {
		im := entries[k]
		if r := e.cfg.ruleFor(im.Name); r != nil && r.Accepts(im.Signer) {
			checks = append(checks, &check{im: im, rule: r})
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.Jobs)
	for _, c := range checks {
		g.Go(func() error {
			sigs, err := e.Signatures.Signatures(gctx, c.im.Name, c.im.Digest)
			if err != nil {
				return err
			}
			for _, s := range sigs {
				if a, err := c.rule.Verify(c.im.Name, c.im.Digest, []resolve.Signature{s}); err == nil && a.Signature == c.im.Signature && a.Signer == c.im.Signer {
					c.ok = true
					return nil
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []Finding
	for _, c := range checks {
		if c.ok {
			continue
		}
		out = append(out, Finding{Severity: Failure, Code: CodeSignatureGone, File: e.lockName, Line: c.im.Line, Image: c.im.Key(),
			Msg:    fmt.Sprintf("the signature %s records (%s, by %s) is no longer in the registry, or no longer verifies", e.lockName, c.im.Signature, c.im.Signer),
			Locked: c.im.Digest.String(),
			Fix:    fmt.Sprintf("ask the publisher why; once the image is signed again, run 'imagelock update --image %s' to record the new signature", c.im.Key())})
	}
	return out, nil
}

// writeSigners adds to an update summary who signed each changed image a
// [[trust]] rule covers, and who signed before where that changed.
func writeSigners(b *strings.Builder, changes []ImageChange) {
	first := true
	for _, c := range changes {
		if c.Signer == "" {
			continue
		}
		if first {
			b.WriteString("\nSigners, as the [[trust]] rules of `" + ConfigFile + "` require:\n\n")
			first = false
		}
		fmt.Fprintf(b, "- `%s`: signed by `%s`", c.Image, c.Signer)
		if c.OldSigner != "" && c.OldSigner != c.Signer {
			fmt.Fprintf(b, " (**signer changed**, was `%s`)", c.OldSigner)
		}
		b.WriteString("\n")
	}
}

// writeHeld adds to an update summary the updates min-age held back.
func writeHeld(b *strings.Builder, held []Held) {
	if len(held) == 0 {
		return
	}
	b.WriteString("\nHeld back by min-age (too recent to take yet):\n\n")
	for _, h := range held {
		fmt.Fprintf(b, "- `%s`: `%s`, eligible from %s\n", h.Image, shortDigest(h.New), h.Eligible.Format("2006-01-02 15:04 UTC"))
	}
}
