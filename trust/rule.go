package trust

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/sigstore/sigstore-go/pkg/root"
)

// Rule is one policy: the images it covers and whom it trusts to sign
// them, a public key or a keyless identity.
type Rule struct {
	// Images are globs over normalized names ("ghcr.io/acme/*"; "**"
	// crosses slashes).
	Images []string
	// Key is the public key of a keyed rule.
	Key *Key
	// Issuer and Subject or SubjectRegexp are the identity of a keyless
	// rule: the OIDC issuer and the subject (an email, a workflow URI) its
	// certificate must name.
	Issuer        string
	Subject       string
	SubjectRegexp *regexp.Regexp
	// Root is the trusted root (a Sigstore trusted_root.json): the
	// certificate authorities of keyless signatures, the transparency
	// logs and timestamp authorities. Required for a keyless rule or
	// Tlog.
	Root *root.TrustedRoot
	// Tlog requires a transparency-log entry.
	Tlog bool
	// MinAge holds back a new digest younger than this (0: none).
	MinAge time.Duration
	// Where names the rule in messages, e.g. ".imagelock.toml:12".
	Where string
}

// Covers reports whether the rule applies to the image named name.
func (r *Rule) Covers(name string) bool {
	for _, g := range r.Images {
		if ok, _ := doublestar.Match(g, name); ok {
			return true
		}
	}
	return false
}

// Accepts reports whether a signer a lock records is one the rule trusts.
func (r *Rule) Accepts(signer string) bool {
	if r.Key != nil {
		return signer == r.Key.Signer
	}
	issuer, subject, ok := strings.Cut(strings.TrimPrefix(signer, "keyless:"), " ")
	if !ok || !strings.HasPrefix(signer, "keyless:") || issuer != r.Issuer {
		return false
	}
	if r.SubjectRegexp != nil {
		return r.SubjectRegexp.MatchString(subject)
	}
	return subject == r.Subject
}

// Want describes the signer the rule trusts, for messages.
func (r *Rule) Want() string {
	switch {
	case r.Key != nil:
		return r.Key.Signer
	case r.SubjectRegexp != nil:
		return fmt.Sprintf("keyless:%s subject matching %s", r.Issuer, r.SubjectRegexp)
	default:
		return KeylessSigner(r.Issuer, r.Subject)
	}
}

// KeylessSigner is how a lock names a keyless identity.
func KeylessSigner(issuer, subject string) string {
	return "keyless:" + issuer + " " + subject
}
