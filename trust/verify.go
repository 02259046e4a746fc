package trust

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/imagelock/imagelock/resolve"
)

// Accepted is the signature a rule accepted for a digest: what a lock
// records of it.
type Accepted struct {
	// Signer is the key ("key:sha256:<hex>") or the keyless identity
	// ("keyless:<issuer> <subject>") that signed.
	Signer string
	// Signature is the sha256 of the signature's bytes.
	Signature v1.Hash
	// SignedAt is when a transparency log or a timestamp authority saw
	// the signature; zero when nothing vouches for a time.
	SignedAt time.Time
	// Where tells where the signature was found.
	Where string
}

// RefusedError is a digest the rule does not accept: unsigned, or signed
// only by others, or with signatures that do not verify.
type RefusedError struct {
	Image string // name@digest
	Rule  string // where the rule is, e.g. ".imagelock.toml:3"
	Want  string // the signer the rule trusts
	// Found describes each signature found and why it was refused; none
	// when the image is unsigned.
	Found []string
}

func (e *RefusedError) Error() string {
	if len(e.Found) == 0 {
		return fmt.Sprintf("%s: unsigned; the [[trust]] rule at %s wants a signature by %s", e.Image, e.Rule, e.Want)
	}
	return fmt.Sprintf("%s: no signature by %s, which the [[trust]] rule at %s wants; found:\n    %s", e.Image, e.Want, e.Rule, strings.Join(e.Found, "\n    "))
}

// Verify returns the first of sigs that the rule accepts for the image
// named name at digest, or a *RefusedError naming what was found.
func (r *Rule) Verify(name string, digest v1.Hash, sigs []resolve.Signature) (*Accepted, error) {
	refused := &RefusedError{Image: name + "@" + digest.String(), Rule: r.Where, Want: r.Want()}
	for _, s := range sigs {
		var a *Accepted
		var err error
		if s.Bundle != nil {
			a, err = r.verifyBundle(digest, s.Bundle)
		} else {
			a, err = r.verifyCosign(digest, s)
		}
		if err != nil {
			refused.Found = append(refused.Found, s.Where+": "+err.Error())
			continue
		}
		a.Where = s.Where
		return a, nil
	}
	return nil, refused
}

// simpleSigning is the part of cosign's payload that names the image.
type simpleSigning struct {
	Critical struct {
		Image struct {
			Digest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
}

// verifyCosign checks a cosign signature: its payload names digest, and
// the signature over the payload is the rule's key's, or a certificate
// of the rule's identity logged in the transparency log.
func (r *Rule) verifyCosign(digest v1.Hash, s resolve.Signature) (*Accepted, error) {
	var p simpleSigning
	if err := json.Unmarshal(s.Payload, &p); err != nil {
		return nil, fmt.Errorf("a payload that is not cosign's simple signing: %v", err)
	}
	if p.Critical.Type != "cosign container image signature" {
		return nil, fmt.Errorf("a payload of type %q, not a cosign container image signature", p.Critical.Type)
	}
	if p.Critical.Image.Digest != digest.String() {
		return nil, fmt.Errorf("a signature of %s, another digest", p.Critical.Image.Digest)
	}
	sum := sha256.Sum256(s.Sig)
	a := &Accepted{Signature: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}}
	if r.Key != nil && !r.Tlog {
		if len(s.Cert) > 0 {
			return nil, errors.New("signed with a certificate (keyless), not a key")
		}
		v, err := signature.LoadVerifier(r.Key.Public, crypto.SHA256)
		if err != nil {
			return nil, err
		}
		if err := v.VerifySignature(bytes.NewReader(s.Sig), bytes.NewReader(s.Payload)); err != nil {
			return nil, errors.New("signed by another key, or the signature does not verify")
		}
		a.Signer = r.Key.Signer
		return a, nil
	}
	b, err := cosignBundle(s)
	if err != nil {
		return nil, err
	}
	res, err := r.verifyEntity(b, verify.WithArtifact(bytes.NewReader(s.Payload)))
	if err != nil {
		return nil, err
	}
	if a.Signer, err = r.signer(res); err != nil {
		return nil, err
	}
	a.SignedAt = signedAt(res)
	return a, nil
}

// rekorBundle is the transparency-log entry cosign attaches to a
// signature: the signed entry timestamp and what it signs.
type rekorBundle struct {
	SignedEntryTimestamp []byte `json:"SignedEntryTimestamp"`
	Payload              struct {
		Body           string `json:"body"`
		IntegratedTime int64  `json:"integratedTime"`
		LogIndex       int64  `json:"logIndex"`
		LogID          string `json:"logID"`
	} `json:"Payload"`
}

// cosignBundle puts a cosign signature in the shape of a Sigstore bundle
// (v0.1: a message signature, its certificate or key, its log entry with
// an inclusion promise) for sigstore-go to verify.
func cosignBundle(s resolve.Signature) (*bundle.Bundle, error) {
	if len(s.Rekor) == 0 {
		return nil, errors.New("no transparency-log entry (signed with --tlog-upload=false?): a rule with tlog = true needs one, and so does a keyless signature, to prove when its certificate was valid")
	}
	var rb rekorBundle
	if err := json.Unmarshal(s.Rekor, &rb); err != nil {
		return nil, fmt.Errorf("a malformed transparency-log entry: %v", err)
	}
	body, err := base64.StdEncoding.DecodeString(rb.Payload.Body)
	if err != nil {
		return nil, fmt.Errorf("a malformed transparency-log entry: %v", err)
	}
	var kind struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal(body, &kind); err != nil {
		return nil, fmt.Errorf("a malformed transparency-log entry: %v", err)
	}
	logID, err := hex.DecodeString(rb.Payload.LogID)
	if err != nil {
		return nil, fmt.Errorf("a malformed transparency-log entry: %v", err)
	}
	vm := &protobundle.VerificationMaterial{TlogEntries: []*protorekor.TransparencyLogEntry{{
		LogIndex:          rb.Payload.LogIndex,
		LogId:             &protocommon.LogId{KeyId: logID},
		KindVersion:       &protorekor.KindVersion{Kind: kind.Kind, Version: kind.APIVersion},
		IntegratedTime:    rb.Payload.IntegratedTime,
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: rb.SignedEntryTimestamp},
		CanonicalizedBody: body,
	}}}
	if len(s.Cert) > 0 {
		block, _ := pem.Decode(s.Cert)
		if block == nil {
			return nil, errors.New("a certificate annotation that is not PEM")
		}
		vm.Content = &protobundle.VerificationMaterial_X509CertificateChain{X509CertificateChain: &protocommon.X509CertificateChain{
			Certificates: []*protocommon.X509Certificate{{RawBytes: block.Bytes}}}}
	} else {
		vm.Content = &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{}}
	}
	sum := sha256.Sum256(s.Payload)
	pb := &protobundle.Bundle{
		MediaType:            "application/vnd.dev.sigstore.bundle+json;version=0.1",
		VerificationMaterial: vm,
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: sum[:]},
			Signature:     s.Sig,
		}},
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, fmt.Errorf("a transparency-log entry sigstore-go cannot read: %v", err)
	}
	return b, nil
}

// verifyBundle checks a Sigstore bundle found as a referrer: it signs
// digest (a message signature over it, or an in-toto statement with it
// as subject), by the rule's key or identity.
func (r *Rule) verifyBundle(digest v1.Hash, data []byte) (*Accepted, error) {
	var b bundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("a Sigstore bundle that does not parse: %v", err)
	}
	raw, err := hex.DecodeString(digest.Hex)
	if err != nil {
		return nil, err
	}
	res, err := r.verifyEntity(&b, verify.WithArtifactDigest(digest.Algorithm, raw))
	if err != nil {
		return nil, err
	}
	sc, err := b.SignatureContent()
	if err != nil {
		return nil, err
	}
	sig := sc.Signature()
	if env := sc.EnvelopeContent(); env != nil && len(env.RawEnvelope().Signatures) > 0 {
		if sig, err = base64.StdEncoding.DecodeString(env.RawEnvelope().Signatures[0].Sig); err != nil {
			return nil, err
		}
	}
	signer, err := r.signer(res)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(sig)
	return &Accepted{Signer: signer, Signature: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}, SignedAt: signedAt(res)}, nil
}

// verifyEntity verifies a signed entity against the rule with sigstore-go:
// a key rule with its key (and the log of the trusted root, with tlog);
// a keyless rule with the trusted root's CAs, logs and timestamp
// authorities, and the rule's identity.
func (r *Rule) verifyEntity(e verify.SignedEntity, artifact verify.ArtifactPolicyOption) (*verify.VerificationResult, error) {
	var material root.TrustedMaterial
	var opts []verify.VerifierOption
	var policy []verify.PolicyOption
	if r.Key != nil {
		v, err := signature.LoadVerifier(r.Key.Public, crypto.SHA256)
		if err != nil {
			return nil, err
		}
		key := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
			return root.NewExpiringKey(v, time.Time{}, time.Time{}), nil
		})
		material = key
		if r.Root != nil {
			material = root.TrustedMaterialCollection{key, r.Root}
		}
		policy = append(policy, verify.WithKey())
		if r.Tlog {
			opts = append(opts, verify.WithObserverTimestamps(1))
		} else {
			opts = append(opts, verify.WithNoObserverTimestamps())
		}
	} else {
		material = r.Root
		id, err := verify.NewShortCertificateIdentity(r.Issuer, "", r.Subject, regexpString(r))
		if err != nil {
			return nil, err
		}
		policy = append(policy, verify.WithCertificateIdentity(id))
		opts = append(opts, verify.WithObserverTimestamps(1))
		if len(r.Root.CTLogs()) > 0 {
			opts = append(opts, verify.WithSignedCertificateTimestamps(1))
		}
	}
	if r.Tlog {
		opts = append(opts, verify.WithTransparencyLog(1))
	}
	v, err := verify.NewVerifier(material, opts...)
	if err != nil {
		return nil, err
	}
	res, err := v.Verify(e, verify.NewPolicy(artifact, policy...))
	if err != nil {
		return nil, describe(r, e, err)
	}
	return res, nil
}

// describe says why an entity was refused: the identity it names when
// that is not the rule's, else sigstore-go's reason.
func describe(r *Rule, e verify.SignedEntity, err error) error {
	var idErr *verify.ErrNoMatchingCertificateIdentity
	if errors.As(err, &idErr) {
		if vc, verr := e.VerificationContent(); verr == nil && vc.Certificate() != nil {
			if s, serr := summarize(vc); serr == nil {
				return fmt.Errorf("signed by %s", s)
			}
		}
	}
	if r.Key != nil && strings.Contains(err.Error(), "failed to verify signature") {
		return fmt.Errorf("signed by another key, or the signature does not verify (%v)", err)
	}
	return fmt.Errorf("does not verify: %v", err)
}

func regexpString(r *Rule) string {
	if r.SubjectRegexp == nil {
		return ""
	}
	return r.SubjectRegexp.String()
}

// signer names who signed a verified entity: a keyless identity the
// lock can record, printable ASCII with no spaces, as its signer field
// takes it.
func (r *Rule) signer(res *verify.VerificationResult) (string, error) {
	if r.Key != nil {
		return r.Key.Signer, nil
	}
	c := res.Signature.Certificate
	for _, part := range []string{c.Extensions.Issuer, c.SubjectAlternativeName} {
		if part == "" || len(part) > 1000 || strings.ContainsFunc(part, func(c rune) bool { return c <= ' ' || c > '~' }) {
			return "", fmt.Errorf("a certificate for %q from %q: an identity with spaces, control or non-ASCII characters, which a lock cannot record", c.SubjectAlternativeName, c.Extensions.Issuer)
		}
	}
	return KeylessSigner(c.Extensions.Issuer, c.SubjectAlternativeName), nil
}

// summarize names the identity of an entity's certificate.
func summarize(vc verify.VerificationContent) (string, error) {
	s, err := certificate.SummarizeCertificate(vc.Certificate())
	return KeylessSigner(s.Extensions.Issuer, s.SubjectAlternativeName), err
}

// signedAt is the earliest time a log or an authority vouched for.
func signedAt(res *verify.VerificationResult) time.Time {
	var at time.Time
	for _, ts := range res.VerifiedTimestamps {
		if at.IsZero() || ts.Timestamp.Before(at) {
			at = ts.Timestamp
		}
	}
	return at.UTC()
}
