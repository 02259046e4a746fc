package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// The demo is documentation that runs: it must keep telling the whole story.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	for _, want := range []string{"lock again changes nothing", "verify fails", "Dockerfile:1: ", "tag moved", "accepts it: imagelock update", "… -> sha256:", "@sha256:", "byte for byte"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}
