// Package testsign signs images in tests the way cosign and Sigstore do,
// with nothing from the internet: keyed cosign signatures made with a
// generated key, keyless ones from sigstore-go's in-process Sigstore (a
// fake certificate authority, transparency log and timestamp authority),
// pushed to a test registry by cosign's tag scheme (sha256-<hex>.sig) or
// as a Sigstore bundle among the image's OCI referrers.
package testsign

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/rekor/pkg/pki"
	rekor "github.com/sigstore/rekor/pkg/types"
	"github.com/sigstore/rekor/pkg/types/hashedrekord"
	hashedrekord_v001 "github.com/sigstore/rekor/pkg/types/hashedrekord/v0.0.1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"google.golang.org/protobuf/encoding/protojson"
)

// Key is an ECDSA P-256 key pair, as `cosign generate-key-pair` makes.
type Key struct {
	Private *ecdsa.PrivateKey
	// PEM is the public key as cosign writes cosign.pub.
	PEM []byte
}

// NewKey generates a key.
func NewKey() (*Key, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return nil, err
	}
	return &Key{Private: k, PEM: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})}, nil
}

// Payload is cosign's simple-signing payload for the image at ref.
func Payload(ref name.Digest) []byte {
	return fmt.Appendf(nil, `{"critical":{"identity":{"docker-reference":%q},"image":{"docker-manifest-digest":%q},"type":"cosign container image signature"},"optional":null}`,
		ref.Context().Name(), ref.DigestStr())
}

// Sign signs the image at ref with k and pushes the signature as `cosign
// sign --key --tlog-upload=false` does: a layer of the tag
// sha256-<hex>.sig, added to the signatures already there.
func Sign(ref name.Digest, k *Key, opts ...remote.Option) error {
	payload := Payload(ref)
	sum := sha256.Sum256(payload)
	sig, err := ecdsa.SignASN1(rand.Reader, k.Private, sum[:])
	if err != nil {
		return err
	}
	return PushSignature(ref, payload, sig, nil, opts...)
}

// SignReferrer signs the image at ref with k and pushes the signature as
// `cosign sign --key --registry-referrers-mode=oci-1-1` does: a referrer
// of artifact type application/vnd.dev.cosign.artifact.sig.v1+json
// holding the simple-signing layer.
func SignReferrer(ref name.Digest, k *Key, opts ...remote.Option) error {
	payload := Payload(ref)
	sum := sha256.Sum256(payload)
	sig, err := ecdsa.SignASN1(rand.Reader, k.Private, sum[:])
	if err != nil {
		return err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, "application/vnd.dev.cosign.artifact.sig.v1+json")
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:       static.NewLayer(payload, "application/vnd.dev.cosign.simplesigning.v1+json"),
		Annotations: map[string]string{"dev.cosignproject.cosign/signature": base64.StdEncoding.EncodeToString(sig)},
	})
	if err != nil {
		return err
	}
	return pushReferrer(ref, img, opts...)
}

// KeyBundle signs the image at ref (its manifest, of ref's digest) with
// k and returns a Sigstore bundle (v0.3) with no log entry and no
// timestamp: a message signature over the digest, naming the key by a
// hint.
func KeyBundle(ref name.Digest, manifest []byte, k *Key) ([]byte, error) {
	sum := sha256.Sum256(manifest)
	if "sha256:"+hex.EncodeToString(sum[:]) != ref.DigestStr() {
		return nil, fmt.Errorf("the manifest given is not %s", ref.DigestStr())
	}
	sig, err := ecdsa.SignASN1(rand.Reader, k.Private, sum[:])
	if err != nil {
		return nil, err
	}
	return protojson.Marshal(&protobundle.Bundle{
		MediaType: BundleMediaType,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: "cosign.pub"}},
		},
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: sum[:]},
			Signature:     sig,
		}},
	})
}

// PushSignature adds a cosign signature layer (payload, signature, and
// annotations such as a certificate) to the tag sha256-<hex>.sig of ref.
func PushSignature(ref name.Digest, payload, sig []byte, annotations map[string]string, opts ...remote.Option) error {
	tag := ref.Context().Tag(strings.Replace(ref.DigestStr(), ":", "-", 1) + ".sig")
	base, err := remote.Image(tag, opts...)
	var te *transport.Error
	if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
		base = mutate.MediaType(empty.Image, types.OCIManifestSchema1)
		base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	} else if err != nil {
		return err
	}
	anns := map[string]string{"dev.cosignproject.cosign/signature": base64.StdEncoding.EncodeToString(sig)}
	for k, v := range annotations {
		anns[k] = v
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:       static.NewLayer(payload, "application/vnd.dev.cosign.simplesigning.v1+json"),
		Annotations: anns,
	})
	if err != nil {
		return err
	}
	return remote.Write(tag, img, opts...)
}

// Sigstore is sigstore-go's in-process Sigstore: it issues certificates
// for any identity, logs and timestamps what they sign.
type Sigstore struct {
	*ca.VirtualSigstore
}

// NewSigstore starts one.
func NewSigstore() (*Sigstore, error) {
	vs, err := ca.NewVirtualSigstore()
	return &Sigstore{vs}, err
}

// TrustedRoot is the Sigstore's trusted_root.json: its certificate
// authority, transparency log and timestamp authority. It has no
// certificate-transparency log, as a private Sigstore may not: the
// fake's certificates carry no SCTs.
func (s *Sigstore) TrustedRoot() ([]byte, error) {
	// The fake names its log by the bytes of its ID's hex, which a
	// trusted_root.json cannot carry: give it the ID itself.
	logs := map[string]*root.TransparencyLog{}
	for id, l := range s.RekorLogs() {
		raw, err := hex.DecodeString(id)
		if err != nil {
			return nil, err
		}
		c := *l
		c.ID = raw
		logs[id] = &c
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, s.FulcioCertificateAuthorities(), nil, s.TimestampingAuthorities(), logs)
	if err != nil {
		return nil, err
	}
	return tr.MarshalJSON()
}

// SignKeyless signs the image at ref as identity (a subject from issuer)
// the way `cosign sign` does keyless: a layer of the tag
// sha256-<hex>.sig with the certificate and the transparency-log entry.
func (s *Sigstore) SignKeyless(ref name.Digest, identity, issuer string, opts ...remote.Option) error {
	payload := Payload(ref)
	e, err := s.SignAtTime(identity, issuer, payload, time.Now())
	if err != nil {
		return err
	}
	vc, err := e.VerificationContent()
	if err != nil {
		return err
	}
	sc, err := e.SignatureContent()
	if err != nil {
		return err
	}
	entries, err := e.TlogEntries()
	if err != nil {
		return err
	}
	tle := entries[0].TransparencyLogEntry()
	logged, err := s.logged(tle.CanonicalizedBody, time.Unix(tle.IntegratedTime, 0))
	if err != nil {
		return err
	}
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: vc.Certificate().Raw})
	return PushSignature(ref, payload, sc.Signature(), map[string]string{
		"dev.sigstore.cosign/certificate": string(cert),
		"dev.sigstore.cosign/bundle":      string(logged),
	}, opts...)
}

// SignKeyLogged signs the image at ref with k, logs the signature in the
// Sigstore's transparency log, and pushes it as `cosign sign --key` does
// by default: a layer of the tag sha256-<hex>.sig with the log entry.
func (s *Sigstore) SignKeyLogged(ref name.Digest, k *Key, opts ...remote.Option) error {
	payload := Payload(ref)
	sum := sha256.Sum256(payload)
	sig, err := ecdsa.SignASN1(rand.Reader, k.Private, sum[:])
	if err != nil {
		return err
	}
	ctx := context.Background()
	pe, err := rekor.NewProposedEntry(ctx, hashedrekord.KIND, hashedrekord_v001.APIVERSION, rekor.ArtifactProperties{
		ArtifactHash:   hex.EncodeToString(sum[:]),
		SignatureBytes: sig,
		PublicKeyBytes: [][]byte{k.PEM},
		PKIFormat:      string(pki.X509),
	})
	if err != nil {
		return err
	}
	entry, err := rekor.CreateVersionedEntry(pe)
	if err != nil {
		return err
	}
	body, err := rekor.CanonicalizeEntry(ctx, entry)
	if err != nil {
		return err
	}
	logged, err := s.logged(body, time.Now())
	if err != nil {
		return err
	}
	return PushSignature(ref, payload, sig, map[string]string{"dev.sigstore.cosign/bundle": string(logged)}, opts...)
}

// logged is the transparency-log entry cosign attaches for a logged body:
// the body, its time and index, and the log's signature over them.
func (s *Sigstore) logged(body []byte, at time.Time) ([]byte, error) {
	logID, err := s.RekorLogID()
	if err != nil {
		return nil, err
	}
	p := tlog.RekorPayload{Body: base64.StdEncoding.EncodeToString(body), IntegratedTime: at.Unix(), LogIndex: 1000, LogID: logID}
	set, err := s.RekorSignPayload(p)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"SignedEntryTimestamp": set, "Payload": p})
}

// BundleMediaType is the media type of a Sigstore bundle, as a layer and
// as the artifact type of the referrer that holds it.
const BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// Bundle signs the image at ref (its manifest, of the given digest) as
// identity and returns a Sigstore bundle (v0.3): a message signature
// over the digest, the certificate, and a timestamp of the signature.
func (s *Sigstore) Bundle(ref name.Digest, manifest []byte, identity, issuer string) ([]byte, error) {
	e, err := s.Sign(identity, issuer, manifest)
	if err != nil {
		return nil, err
	}
	vc, err := e.VerificationContent()
	if err != nil {
		return nil, err
	}
	sc, err := e.SignatureContent()
	if err != nil {
		return nil, err
	}
	tss, err := e.Timestamps()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(manifest)
	if "sha256:"+hex.EncodeToString(sum[:]) != ref.DigestStr() {
		return nil, fmt.Errorf("the manifest given is not %s", ref.DigestStr())
	}
	var ts []*protocommon.RFC3161SignedTimestamp
	for _, t := range tss {
		ts = append(ts, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: t})
	}
	pb := &protobundle.Bundle{
		MediaType: BundleMediaType,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content:                   &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: vc.Certificate().Raw}},
			TimestampVerificationData: &protobundle.TimestampVerificationData{Rfc3161Timestamps: ts},
		},
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: sum[:]},
			Signature:     sc.Signature(),
		}},
	}
	return protojson.Marshal(pb)
}

// PushBundle pushes a Sigstore bundle as a referrer of the image at ref,
// as `cosign sign --new-bundle-format` does.
func PushBundle(ref name.Digest, bundle []byte, opts ...remote.Option) error {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, BundleMediaType)
	img, err := mutate.Append(img, mutate.Addendum{Layer: static.NewLayer(bundle, BundleMediaType)})
	if err != nil {
		return err
	}
	return pushReferrer(ref, img, opts...)
}

// pushReferrer pushes img as a referrer of the image at ref, its artifact
// type the media type of its config.
func pushReferrer(ref name.Digest, img v1.Image, opts ...remote.Option) error {
	desc, err := remote.Head(ref, opts...)
	if err != nil {
		return err
	}
	img = mutate.Subject(img, v1.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}).(v1.Image)
	d, err := img.Digest()
	if err != nil {
		return err
	}
	return remote.Write(ref.Context().Digest(d.String()), img, opts...)
}
