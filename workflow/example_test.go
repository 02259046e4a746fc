package workflow_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imagelock/imagelock/resolve"
	"github.com/imagelock/imagelock/workflow"
)

// A bot written in Go locks a repository, then checks it after upstream
// re-pushed a tag; locking again changes nothing, and update accepts the
// move. The Fake stands in for the registry; resolve.New asks
// real ones.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM golang:1.26-alpine AS build\nFROM gcr.io/distroless/static-debian12:nonroot\n"), 0o644)

	golang, _ := resolve.Parse("golang:1.26-alpine")
	distroless, _ := resolve.Parse("gcr.io/distroless/static-debian12:nonroot")
	was, _ := v1.NewHash("sha256:7a3e50096189ad57c9f9f865e7e4aa8585ed1585248513dc5cda498e2f41812c")
	now, _ := v1.NewHash("sha256:70b46548e42db77e0966aaf3619fd068734dc6c77584d526b91126504fd95816")
	static, _ := v1.NewHash("sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab")
	reg := &resolve.Fake{}
	reg.SetImage(golang.Key, was)
	reg.SetImage(distroless.Key, static)

	opts := workflow.Options{Dir: dir, Resolver: reg}
	res, _ := workflow.Lock(ctx, opts, false)
	fmt.Println("locked", res.Added)

	reg.SetImage(golang.Key, now)
	check, _ := workflow.Verify(ctx, opts, workflow.VerifyOptions{})
	for _, f := range check.Findings {
		fmt.Printf("%s:%d: %s: %s\n", f.File, f.Line, f.Image, f.Msg)
	}
	fmt.Println("failed:", check.Failed(false))

	again, _ := workflow.Lock(ctx, opts, false)
	fmt.Println("lock again wrote:", again.Wrote)
	up, _ := workflow.Update(ctx, opts, workflow.UpdateOptions{})
	for _, c := range up.Changes {
		fmt.Println("update:", c.Image, c.Old[:19], "->", c.New[:19])
	}
	// Output:
	// locked [docker.io/library/golang:1.26-alpine gcr.io/distroless/static-debian12:nonroot]
	// Dockerfile:1: docker.io/library/golang:1.26-alpine: tag moved
	// failed: true
	// lock again wrote: false
	// update: docker.io/library/golang:1.26-alpine sha256:7a3e50096189 -> sha256:70b46548e42d
}
