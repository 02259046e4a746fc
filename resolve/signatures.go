package resolve

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// SignatureSource finds what a registry holds about who signed an image,
// and when the image says it was built.
type SignatureSource interface {
	// Signatures returns every signature of the manifest or index at
	// digest in the repository name: Sigstore bundles and cosign
	// signatures among its OCI referrers, and cosign's tag scheme
	// (sha256-<hex>.sig). None is no error.
	Signatures(ctx context.Context, name string, digest v1.Hash) ([]Signature, error)
	// Created returns the created time of the image at digest, from its
	// config (of the first platform, for an index).
	Created(ctx context.Context, name string, digest v1.Hash) (time.Time, error)
}

// Signature is one signature found for a digest. A cosign signature has
// Payload and Sig (and Cert, Chain and Rekor when keyless); a referrer
// that is a Sigstore bundle has Bundle.
type Signature struct {
	// Where tells where it was found: "tag sha256-<hex>.sig" or
	// "referrer sha256:<hex>".
	Where string
	// Payload is cosign's simple-signing JSON, naming the signed digest;
	// Sig the signature over it.
	Payload, Sig []byte
	// Cert and Chain are the PEM signing certificate and its chain.
	Cert, Chain []byte
	// Rekor is the transparency-log entry cosign attached (JSON).
	Rekor []byte
	// Bundle is a Sigstore bundle (JSON).
	Bundle []byte
}

// The types and annotations of cosign's and Sigstore's signatures.
const (
	cosignPayloadType  = "application/vnd.dev.cosign.simplesigning.v1+json"
	cosignArtifactType = "application/vnd.dev.cosign.artifact.sig.v1+json"
	bundleTypePrefix   = "application/vnd.dev.sigstore.bundle"
	sigAnnotation      = "dev.cosignproject.cosign/signature"
	certAnnotation     = "dev.sigstore.cosign/certificate"
	chainAnnotation    = "dev.sigstore.cosign/chain"
	rekorAnnotation    = "dev.sigstore.cosign/bundle"
)

// What one digest's signatures may cost: a registry that lists endless
// referrers, or sends a giant payload, is refused with a clear error.
const (
	maxSignatureManifests = 32        // signature manifests read per digest
	maxSignatureLayers    = 16        // signatures per manifest
	maxSignatureBlob      = 256 << 10 // one payload or bundle
)

var _ SignatureSource = (*Registry)(nil)

// Signatures finds the signatures of nm@digest: the referrers whose
// artifact type is a Sigstore bundle or a cosign signature (where the
// registry has no referrers API, the referrers tag sha256-<hex>), then
// the tag sha256-<hex>.sig.
func (r *Registry) Signatures(ctx context.Context, nm string, digest v1.Hash) ([]Signature, error) {
	const op = "finding signatures of"
	image := nm + "@" + digest.String()
	ref, host, err := r.digestTarget(nm, digest)
	if err != nil {
		return nil, &Error{Image: image, Op: op, Err: err}
	}
	d := ref.(name.Digest)
	var out []Signature
	err = r.pull(ctx, d, host, func(ctx context.Context, p *remote.Puller) error {
		out = nil
		// cosign's payload names only the image: every signature of a
		// digest by the tag scheme has the same one, read once.
		blobs := map[v1.Hash][]byte{}
		idx, err := remote.Referrers(d, remote.WithContext(ctx), remote.Reuse(p))
		if err != nil {
			return err
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return err
		}
		var descs []v1.Descriptor
		for _, m := range im.Manifests {
			if m.ArtifactType == cosignArtifactType || strings.HasPrefix(m.ArtifactType, bundleTypePrefix) {
				descs = append(descs, m)
			}
		}
		if len(descs) > maxSignatureManifests {
			return fmt.Errorf("%d signature referrers; imagelock reads at most %d", len(descs), maxSignatureManifests)
		}
		for _, m := range descs {
			sigs, err := signatureManifest(ctx, p, d.Context().Digest(m.Digest.String()), "referrer "+m.Digest.String(), blobs)
			if err != nil {
				return err
			}
			out = append(out, sigs...)
		}
		tag := d.Context().Tag(strings.Replace(digest.String(), ":", "-", 1) + ".sig")
		sigs, err := signatureManifest(ctx, p, tag, "tag "+tag.TagStr(), blobs)
		var te *transport.Error
		if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
			return nil
		}
		out = append(out, sigs...)
		return err
	})
	if err != nil {
		return nil, newError(ctx, image, host, op, r.o.Timeout, err)
	}
	return out, nil
}

// signatureManifest reads the signatures one manifest holds: a Sigstore
// bundle layer, or cosign simple-signing layers with their annotations;
// blobs keeps the blobs read, by digest.
func signatureManifest(ctx context.Context, p *remote.Puller, ref name.Reference, where string, blobs map[v1.Hash][]byte) ([]Signature, error) {
	rd, err := p.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(rd.Manifest))
	if err != nil {
		return nil, fmt.Errorf("%s: parsing manifest: %w", where, err)
	}
	if len(m.Layers) > maxSignatureLayers {
		return nil, fmt.Errorf("%s: %d layers; imagelock reads at most %d signatures per manifest", where, len(m.Layers), maxSignatureLayers)
	}
	var out []Signature
	for _, l := range m.Layers {
		s := Signature{Where: where}
		switch {
		case strings.HasPrefix(string(l.MediaType), bundleTypePrefix):
			if s.Bundle, err = blob(ctx, p, ref.Context(), l, where, blobs); err != nil {
				return nil, err
			}
		case l.MediaType == cosignPayloadType:
			if s.Sig, err = base64.StdEncoding.DecodeString(l.Annotations[sigAnnotation]); err != nil {
				return nil, fmt.Errorf("%s: the %s annotation is not base64: %w", where, sigAnnotation, err)
			}
			s.Cert, s.Chain = []byte(l.Annotations[certAnnotation]), []byte(l.Annotations[chainAnnotation])
			s.Rekor = []byte(l.Annotations[rekorAnnotation])
			if s.Payload, err = blob(ctx, p, ref.Context(), l, where, blobs); err != nil {
				return nil, err
			}
		default:
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

// blob reads a signature's blob, unless blobs has it, refusing one
// larger than maxSignatureBlob; go-containerregistry checks its digest.
func blob(ctx context.Context, p *remote.Puller, repo name.Repository, l v1.Descriptor, where string, blobs map[v1.Hash][]byte) ([]byte, error) {
	if b, ok := blobs[l.Digest]; ok {
		return b, nil
	}
	if l.Size > maxSignatureBlob {
		return nil, fmt.Errorf("%s: a %d-byte signature blob; imagelock reads at most %d", where, l.Size, maxSignatureBlob)
	}
	layer, err := p.Layer(ctx, repo.Digest(l.Digest.String()))
	if err != nil {
		return nil, err
	}
	rc, err := layer.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxSignatureBlob+1))
	if err != nil {
		return nil, fmt.Errorf("%s: reading %s: %w", where, l.Digest, err)
	}
	if len(b) > maxSignatureBlob {
		return nil, fmt.Errorf("%s: signature blob %s is larger than %d bytes", where, l.Digest, maxSignatureBlob)
	}
	blobs[l.Digest] = b
	return b, nil
}

// Created returns the created time in the config of the image at
// nm@digest; for an index, of its first platform's image.
func (r *Registry) Created(ctx context.Context, nm string, digest v1.Hash) (time.Time, error) {
	const op = "reading the build time of"
	image := nm + "@" + digest.String()
	ref, host, err := r.digestTarget(nm, digest)
	if err != nil {
		return time.Time{}, &Error{Image: image, Op: op, Err: err}
	}
	var created time.Time
	err = r.pull(ctx, ref, host, func(ctx context.Context, p *remote.Puller) error {
		rd, err := p.Get(ctx, ref)
		if err != nil {
			return err
		}
		var img v1.Image
		if mediaType(rd).IsIndex() {
			idx, err := rd.ImageIndex()
			if err != nil {
				return err
			}
			img, err = firstImage(idx)
			if err != nil {
				return err
			}
		} else if img, err = rd.Image(); err != nil {
			return err
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return err
		}
		created = cf.Created.Time
		return nil
	})
	if err != nil {
		return time.Time{}, newError(ctx, image, host, op, r.o.Timeout, err)
	}
	if created.IsZero() {
		return time.Time{}, &Error{Image: image, Op: op, Err: errors.New("the image config has no created time")}
	}
	return created, nil
}

// firstImage is the image of an index's first platform, in the order
// platforms sorts them.
func firstImage(idx v1.ImageIndex) (v1.Image, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	first := ""
	var d v1.Hash
	for p, h := range platforms(im) {
		if first == "" || p < first {
			first, d = p, h
		}
	}
	if first == "" {
		return nil, errors.New("the index lists no platform image")
	}
	return idx.Image(d)
}
