package workflow_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imagelock/imagelock/resolve"
	"github.com/imagelock/imagelock/workflow"
)

// anyResolver answers every tag with a digest of its key, a
// single-platform manifest that never moves.
type anyResolver struct{}

func (anyResolver) Head(_ context.Context, k resolve.Key) (resolve.Descriptor, error) {
	return resolve.Descriptor{Digest: v1.Hash{Algorithm: "sha256", Hex: sum(k.String())}}, nil
}

func (anyResolver) Platforms(context.Context, string, v1.Hash) (map[string]v1.Hash, error) {
	return nil, nil
}

func (anyResolver) Exists(context.Context, string, v1.Hash) error { return nil }

func (anyResolver) Tags(context.Context, string) ([]string, error) { return nil, nil }

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// FuzzPinRoundTrip runs the two finders that read one Dockerfile, on its
// own and as a compose service builds it with args, through the whole
// edit path. Whatever the input: pin either writes nothing and says why,
// or leaves files that list reads with the same references, that pin
// leaves as they are, that verify finds in the lock; and unpin gives back
// an input that held no digest byte for byte.
func FuzzPinRoundTrip(f *testing.F) {
	for _, s := range [][2]string{
		{"ARG BASE=golang:1.26\nFROM ${BASE}\n", "        BASE: golang:1.25\n"},
		{"ARG V=1.26\nFROM golang:${V}\n", "        V: \"1.25\"\n"},
		{"ARG V=1.26\nFROM golang:$V AS b\nFROM alpine\nCOPY --from=b / /\n", "        - V=1.25\n"},
		{"ARG REG=docker.io\nFROM ${REG}/library/golang:1.26\n", "        REG: mirror.example\n"},
		{"ARG V=1.26\nFROM golang:${V}\nARG V\nRUN echo $V\n", "        V: '1.25'\n"},
		{"ARG V=1.26\nFROM golang:${V}\nFROM node:${V}\n", "        V: ${GO:-1.25}\n"},
		{"FROM gcr.io/distroless/base-debian12\nCOPY --from=some/image / /\n", "        UNUSED: x\n"},
		{"ARG A B=redis\nFROM ${A:-alpine}\nFROM $B\n", "        A: \"\"\n"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, dockerfile, args string) {
		ctx := context.Background()
		compose := "services:\n  app:\n    build:\n      context: .\n      args:\n" + args
		dir := t.TempDir()
		for name, content := range map[string]string{"Dockerfile": dockerfile, "compose.yaml": compose} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		o := workflow.Options{Dir: dir, Resolver: anyResolver{}}
		listed, err := workflow.List(ctx, o)
		if err != nil {
			return
		}
		if _, err := workflow.Lock(ctx, o, false); err != nil {
			return
		}
		before := snapshot(t, dir)
		if _, err := workflow.Pin(ctx, o, true); err != nil {
			var ce *workflow.ConflictError
			if !errors.As(err, &ce) {
				t.Fatalf("pin: %v", err)
			}
			if diff := cmp.Diff(before, snapshot(t, dir)); diff != "" {
				t.Fatalf("a pin that failed changed files (-before +after):\n%s", diff)
			}
			return
		}
		again, err := workflow.List(ctx, o)
		if err != nil {
			t.Fatalf("list after pin: %v\n%s", err, snapshot(t, dir))
		}
		if len(again.Refs) != len(listed.Refs) {
			t.Fatalf("after pin, %d references; before, %d\n%s", len(again.Refs), len(listed.Refs), snapshot(t, dir))
		}
		if res, err := workflow.Pin(ctx, o, false); err != nil || len(res.Changes) != 0 {
			t.Fatalf("pin of the pinned files: %v, %v", res, err)
		}
		if v, err := workflow.Verify(ctx, o, workflow.VerifyOptions{Offline: true}); err != nil || len(v.Findings) != 0 {
			t.Fatalf("verify after pin: %+v, %v", v, err)
		}
		if _, err := workflow.Unpin(ctx, o, true); err != nil {
			t.Fatalf("unpin: %v", err)
		}
		if strings.Contains(dockerfile+args, "@") {
			return
		}
		after := snapshot(t, dir)
		delete(before, "images.lock")
		delete(after, "images.lock")
		if diff := cmp.Diff(before, after); diff != "" {
			t.Fatalf("unpin did not give the input back (-before +after):\n%s", diff)
		}
	})
}
