package resolve_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/imagelock/imagelock/resolve"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// A Fake answers what the test told it, and fails on anything else.
func ExampleFake() {
	golang := resolve.Key{Name: "docker.io/library/golang", Tag: "1.26"}
	index := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("a", 64)}
	amd64 := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("b", 64)}

	var f resolve.Fake
	f.SetIndex(golang, index, map[string]v1.Hash{"linux/amd64": amd64})

	ctx := context.Background()
	d, _ := f.Head(ctx, golang)
	fmt.Println(d.Index, d.Digest.Hex[:8])
	_, err := f.Head(ctx, resolve.Key{Name: "docker.io/library/redis", Tag: "7"})
	fmt.Println(err)
	fmt.Println(f.HeadCalls(golang))
	// Output:
	// true aaaaaaaa
	// fake resolver: Head of docker.io/library/redis:7, which the test did not set
	// 1
}
