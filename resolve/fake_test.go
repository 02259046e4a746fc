package resolve

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func hash(c string) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: strings.Repeat(c, 64)}
}

func TestFake(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	img := Key{Name: "docker.io/library/alpine", Tag: "3.20"}
	idx := Key{Name: "docker.io/library/golang", Tag: "1.26"}
	gone := Key{Name: "ghcr.io/o/gone", Tag: "1"}
	unknown := Key{Name: "docker.io/library/redis", Tag: "7"}
	plats := map[string]v1.Hash{"linux/amd64": hash("b"), "linux/arm64/v8": hash("c")}

	var f Fake
	f.SetImage(img, hash("a"))
	f.SetIndex(idx, hash("d"), plats)
	f.SetError(gone, &Error{Image: gone.String(), Status: 404, Code: "MANIFEST_UNKNOWN"})

	t.Run("Head", func(t *testing.T) {
		for k, want := range map[Key]Descriptor{img: {Digest: hash("a")}, idx: {Digest: hash("d"), Index: true}} {
			got, err := f.Head(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Head(%s) (-want +got):\n%s", k, diff)
			}
		}
		if _, err := f.Head(ctx, gone); !errors.Is(err, ErrNotFound) {
			t.Errorf("Head(%s) = %v, want ErrNotFound", gone, err)
		}
		_, err := f.Head(ctx, unknown)
		if err == nil || !strings.Contains(err.Error(), unknown.String()) || errors.Is(err, ErrNotFound) {
			t.Errorf("Head of a key never set = %v, want a failure naming it, not ErrNotFound", err)
		}
		if n := f.HeadCalls(img); n != 1 {
			t.Errorf("HeadCalls(%s) = %d, want 1", img, n)
		}
		if n := f.HeadCalls(unknown); n != 1 {
			t.Errorf("HeadCalls(%s) = %d, want 1", unknown, n)
		}
	})

	t.Run("Platforms", func(t *testing.T) {
		got, err := f.Platforms(ctx, idx.Name, hash("d"))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(plats, got); diff != "" {
			t.Errorf("Platforms (-want +got):\n%s", diff)
		}
		got["linux/amd64"] = hash("f")
		again, _ := f.Platforms(ctx, idx.Name, hash("d"))
		if again["linux/amd64"] != hash("b") {
			t.Error("changing the map Platforms returned changed the fake")
		}
		if p, err := f.Platforms(ctx, img.Name, hash("a")); p != nil || err != nil {
			t.Errorf("Platforms of a single-platform image = %v, %v; want nil, nil", p, err)
		}
		if _, err := f.Platforms(ctx, idx.Name, hash("e")); err == nil {
			t.Error("Platforms of an index never set succeeded")
		}
		if n := f.PlatformsCalls(idx.Name, hash("d")); n != 2 {
			t.Errorf("PlatformsCalls = %d, want 2", n)
		}
	})

	t.Run("Exists", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			repo   string
			digest v1.Hash
			is     error
		}{
			{"tag digest", img.Name, hash("a"), nil},
			{"index digest", idx.Name, hash("d"), nil},
			{"platform manifest", idx.Name, hash("c"), nil},
			{"other digest", img.Name, hash("0"), ErrNotFound},
			{"another repository's digest", idx.Name, hash("a"), ErrNotFound},
		} {
			err := f.Exists(ctx, tc.repo, tc.digest)
			if tc.is == nil && err != nil || !errors.Is(err, tc.is) {
				t.Errorf("%s: Exists = %v, want %v", tc.name, err, tc.is)
			}
		}
		if n := f.ExistsCalls("docker.io/library/alpine", hash("a")); n != 1 {
			t.Errorf("ExistsCalls = %d, want 1", n)
		}
	})

	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := f.Head(ctx, img); !errors.Is(err, context.Canceled) {
			t.Errorf("Head with a canceled context = %v, want context.Canceled", err)
		}
	})
}
