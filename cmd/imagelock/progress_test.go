package main

import (
	"bytes"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	clock := time.Unix(0, 0)
	p := progressLine(&out, 30, func() time.Time { return clock })
	p(1, 3, "docker.io/library/alpine:3.20")
	p(2, 3, "skipped: within 100 ms of the last redraw")
	clock = clock.Add(time.Second)
	p(2, 3, "b")
	p(3, 3, "c")
	want := "\r\033[Kresolving 1/3 docker.io/libra" + "\r\033[Kresolving 2/3 b" + "\r\033[K"
	if got := out.String(); got != want {
		t.Errorf("progress output = %q, want %q", got, want)
	}
}
