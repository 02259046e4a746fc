// Command tagmove is the story of a moved tag, told offline in a few
// seconds: an in-process registry, a repository with one Dockerfile, then
// lock; upstream re-pushes the tag; lock again changes nothing (a lock
// never moves by itself); verify fails and names it; update takes the new
// digest; pin writes it into the Dockerfile; unpin takes it out.
//
//	go run ./examples/tagmove
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imagelock/imagelock/resolve"
	"github.com/imagelock/imagelock/workflow"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tagmove:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer) error {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	tag := host + "/library/python:2.7"

	dir, err := os.MkdirTemp("", "tagmove")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dockerfile := filepath.Join(dir, "Dockerfile")
	original := "FROM " + tag + "\nRUN pip install -r requirements.txt\n"
	if err := os.WriteFile(dockerfile, []byte(original), 0o644); err != nil {
		return err
	}
	opts := workflow.Options{Dir: dir, Resolver: resolve.New(resolve.Options{})}

	first, err := push(tag)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "1. The registry serves %s at %s.\n", tag, short(first))
	if _, err := workflow.Lock(ctx, opts, false); err != nil {
		return err
	}
	fmt.Fprintf(w, "   imagelock lock records it in images.lock.\n\n")

	second, err := push(tag)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "2. Upstream re-pushes %s after a patch release: it now names %s.\n", tag, short(second))
	fmt.Fprintf(w, "   The Dockerfile did not change, yet the next build gets other bits.\n\n")

	again, err := workflow.Lock(ctx, opts, false)
	if err != nil {
		return err
	}
	if again.Wrote {
		return errors.New("lock moved the tag by itself")
	}
	fmt.Fprintf(w, "3. imagelock lock again changes nothing: images.lock still says %s.\n", short(first))
	fmt.Fprintf(w, "   Like go.sum, the lock moves only when someone asks.\n\n")

	res, err := workflow.Verify(ctx, opts, workflow.VerifyOptions{})
	if err != nil {
		return err
	}
	if !res.Failed(false) {
		return errors.New("verify did not notice the moved tag")
	}
	fmt.Fprintf(w, "4. imagelock verify fails, as CI would:\n")
	for _, f := range res.Findings {
		fmt.Fprintf(w, "   %s:%d: %s: %s\n       images.lock: %s\n       registry:    %s\n", f.File, f.Line, f.Image, f.Msg, short(f.Locked), short(f.Current))
	}
	fmt.Fprintln(w)

	up, err := workflow.Update(ctx, opts, workflow.UpdateOptions{})
	if err != nil {
		return err
	}
	if len(up.Changes) != 1 || up.Changes[0].New != second.String() {
		return errors.New("update did not take the new digest")
	}
	fmt.Fprintf(w, "5. A person reviews the move and accepts it: imagelock update\n")
	for _, c := range up.Changes {
		fmt.Fprintf(w, "   %s: %s -> %s\n", c.Image, short(c.Old), short(c.New))
	}
	fmt.Fprintln(w)

	if _, err := workflow.Pin(ctx, opts, true); err != nil {
		return err
	}
	pinned, err := os.ReadFile(dockerfile)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "6. imagelock pin writes the digest into the Dockerfile:\n   %s\n", firstLine(pinned))
	if !strings.Contains(string(pinned), second.String()) {
		return errors.New("pin did not write the new digest")
	}

	if _, err := workflow.Unpin(ctx, opts, true); err != nil {
		return err
	}
	back, err := os.ReadFile(dockerfile)
	if err != nil {
		return err
	}
	if string(back) != original {
		return errors.New("unpin did not restore the Dockerfile")
	}
	fmt.Fprintf(w, "7. imagelock unpin takes it out again, byte for byte:\n   %s\n", firstLine(back))
	return nil
}

// push writes a new random image to tag, as a CI job re-pushing it would.
func push(tag string) (v1.Hash, error) {
	ref, err := name.NewTag(tag)
	if err != nil {
		return v1.Hash{}, err
	}
	img, err := random.Image(512, 1)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := remote.Write(ref, img); err != nil {
		return v1.Hash{}, err
	}
	return img.Digest()
}

func short(d any) string {
	s := fmt.Sprint(d)
	if len(s) > 19 {
		return s[:19] + "…"
	}
	return s
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	return s
}
