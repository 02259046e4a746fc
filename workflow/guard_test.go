package workflow

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imagelock/imagelock/resolve"
)

// headOnly answers Head from a map: a missing key is ErrNotFound, and err,
// when set, is every answer.
type headOnly struct {
	tags map[resolve.Key]v1.Hash
	err  error
}

func (h headOnly) Head(_ context.Context, k resolve.Key) (resolve.Descriptor, error) {
	if h.err != nil {
		return resolve.Descriptor{}, h.err
	}
	d, ok := h.tags[k]
	if !ok {
		return resolve.Descriptor{}, &resolve.Error{Image: k.String(), Status: 404, Code: "MANIFEST_UNKNOWN"}
	}
	return resolve.Descriptor{Digest: d}, nil
}

func (headOnly) Platforms(context.Context, string, v1.Hash) (map[string]v1.Hash, error) {
	return nil, errors.New("guard must not list platforms")
}

func (headOnly) Exists(context.Context, string, v1.Hash) error {
	return errors.New("guard must not check digests")
}

func (headOnly) Tags(context.Context, string) ([]string, error) {
	return nil, errors.New("guard must not list tags")
}

func TestGuard(t *testing.T) {
	t.Parallel()
	d1 := v1.Hash{Algorithm: "sha256", Hex: "1111111111111111111111111111111111111111111111111111111111111111"}
	d2 := v1.Hash{Algorithm: "sha256", Hex: "2222222222222222222222222222222222222222222222222222222222222222"}
	reg := headOnly{tags: map[resolve.Key]v1.Hash{{Name: "ghcr.io/acme/app", Tag: "1.0"}: d1}}
	for _, tc := range []struct {
		name string
		r    resolve.Resolver
		ref  string
		want *v1.Hash
		res  *GuardResult
		err  error
	}{
		{name: "missing tag", r: reg, ref: "ghcr.io/acme/app:2.0", want: &d1,
			res: &GuardResult{Image: "ghcr.io/acme/app:2.0", Want: d1.String(), Safe: true}},
		{name: "missing tag, no digest", r: reg, ref: "ghcr.io/acme/app:2.0",
			res: &GuardResult{Image: "ghcr.io/acme/app:2.0", Safe: true}},
		{name: "same digest", r: reg, ref: "ghcr.io/acme/app:1.0", want: &d1,
			res: &GuardResult{Image: "ghcr.io/acme/app:1.0", Exists: true, Current: d1.String(), Want: d1.String(), Safe: true}},
		{name: "other digest", r: reg, ref: "ghcr.io/acme/app:1.0", want: &d2,
			res: &GuardResult{Image: "ghcr.io/acme/app:1.0", Exists: true, Current: d1.String(), Want: d2.String()}},
		{name: "exists, no digest", r: reg, ref: "ghcr.io/acme/app:1.0",
			res: &GuardResult{Image: "ghcr.io/acme/app:1.0", Exists: true, Current: d1.String()}},
		{name: "unreachable", r: headOnly{err: &resolve.Error{Image: "ghcr.io/acme/app:1.0", Status: 503}}, ref: "ghcr.io/acme/app:1.0",
			err: resolve.ErrUnreachable},
		{name: "auth refused", r: headOnly{err: &resolve.Error{Image: "ghcr.io/acme/app:1.0", Status: 401}}, ref: "ghcr.io/acme/app:1.0",
			err: resolve.ErrUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := Guard(context.Background(), tc.r, tc.ref, tc.want)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Guard error = %v, want %v", err, tc.err)
			}
			if diff := cmp.Diff(tc.res, res); diff != "" {
				t.Errorf("Guard (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGuardRefusesDigests(t *testing.T) {
	t.Parallel()
	for _, ref := range []string{"ghcr.io/acme/app:1.0@sha256:1111111111111111111111111111111111111111111111111111111111111111", "Not A Name"} {
		_, err := Guard(context.Background(), headOnly{}, ref, nil)
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("Guard(%q) error = %v, want a UsageError", ref, err)
		}
	}
}
