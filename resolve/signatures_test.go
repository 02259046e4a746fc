package resolve

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imagelock/imagelock/internal/testsign"
)

// Signatures finds cosign's tag scheme and the referrers that are
// Sigstore bundles, and nothing for an unsigned image.
func TestSignaturesFound(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry(t, nil)
	d := reg.pushImage(t, "team/app", "1")
	ref, err := name.NewDigest(reg.raw + "/team/app@" + d.String())
	if err != nil {
		t.Fatal(err)
	}
	r := New(Options{})
	nm := reg.host + "/team/app"
	if sigs, err := r.Signatures(context.Background(), nm, d); err != nil || len(sigs) != 0 {
		t.Fatalf("unsigned: %d signatures, %v; want none, no error", len(sigs), err)
	}
	k, err := testsign.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := testsign.Sign(ref, k); err != nil {
			t.Fatal(err)
		}
	}
	if err := testsign.PushBundle(ref, []byte(`{"mediaType":"x"}`)); err != nil {
		t.Fatal(err)
	}
	before := reg.count.total()
	sigs, err := r.Signatures(context.Background(), nm, d)
	if err != nil {
		t.Fatal(err)
	}
	// The referrers (the registry has no API: then its fallback tag), the
	// bundle's manifest and blob, the .sig manifest and the one payload
	// its two signatures share: one request each.
	if n := reg.count.total() - before; n != 6 {
		t.Errorf("%d requests, want 6", n)
	}
	if len(sigs) != 3 {
		t.Fatalf("%d signatures, want 2 by tag and 1 bundle", len(sigs))
	}
	if !strings.HasPrefix(sigs[0].Where, "referrer sha256:") || string(sigs[0].Bundle) != `{"mediaType":"x"}` {
		t.Errorf("first %+v, want the bundle referrer", sigs[0])
	}
	for _, s := range sigs[1:] {
		if s.Where != "tag sha256-"+d.Hex+".sig" || !strings.Contains(string(s.Payload), d.String()) || len(s.Sig) == 0 {
			t.Errorf("%+v, want a cosign signature of %s by tag", s, d)
		}
	}
}

// A signature manifest with endless layers, a giant payload, endless
// referrers: each refused with an error that says so.
func TestSignaturesBounded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		push func(t *testing.T, ref name.Digest)
		want string
	}{
		{"layers", func(t *testing.T, ref name.Digest) {
			for range maxSignatureLayers + 1 {
				if err := testsign.PushSignature(ref, testsign.Payload(ref), []byte("s"), nil); err != nil {
					t.Fatal(err)
				}
			}
		}, "17 layers; imagelock reads at most 16 signatures per manifest"},
		{"blob", func(t *testing.T, ref name.Digest) {
			if err := testsign.PushSignature(ref, make([]byte, maxSignatureBlob+1), []byte("s"), nil); err != nil {
				t.Fatal(err)
			}
		}, "signature blob; imagelock reads at most 262144"},
		{"referrers", func(t *testing.T, ref name.Digest) {
			for i := range maxSignatureManifests + 1 {
				if err := testsign.PushBundle(ref, []byte(strings.Repeat(" ", i)+"{}")); err != nil {
					t.Fatal(err)
				}
			}
		}, "33 signature referrers; imagelock reads at most 32"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := newTestRegistry(t, nil)
			d := reg.pushImage(t, "team/app", "1")
			ref, err := name.NewDigest(reg.raw + "/team/app@" + d.String())
			if err != nil {
				t.Fatal(err)
			}
			tc.push(t, ref)
			_, err = New(Options{}).Signatures(context.Background(), reg.host+"/team/app", d)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// Created reads the config's created time: of the image, or of an
// index's first platform.
func TestCreated(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry(t, nil)
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	if img, err = mutate.CreatedAt(img, v1.Time{Time: at}); err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewTag(reg.raw + "/team/app:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	got, err := New(Options{}).Created(context.Background(), reg.host+"/team/app", d)
	if err != nil || !got.Equal(at) {
		t.Errorf("Created = %v, %v; want %v", got, err, at)
	}
	later, err := mutate.CreatedAt(img, v1.Time{Time: at.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: later, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}})
	multi, err := name.NewTag(reg.raw + "/team/multi:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(multi, idx); err != nil {
		t.Fatal(err)
	}
	id, _ := idx.Digest()
	got, err = New(Options{}).Created(context.Background(), reg.host+"/team/multi", id)
	if err != nil || !got.Equal(at) {
		t.Errorf("Created of an index = %v, %v; want linux/amd64's %v", got, err, at)
	}
}

// total is the count of every request so far.
func (c *counter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.n {
		n += v
	}
	return n
}
