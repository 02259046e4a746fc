package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/imagelock/imagelock/resolve"
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

func TestRateLimits(t *testing.T) {
	t.Parallel()
	hub := func(left int) resolve.RateLimit {
		return resolve.RateLimit{Host: "docker.io", Limit: 100, Remaining: left, Window: 6 * time.Hour}
	}
	ghcr := resolve.RateLimit{Host: "ghcr.io", Limit: 1000, Remaining: 5}
	for _, tc := range []struct {
		name    string
		verbose bool
		want    string
	}{
		{"quiet: only the first warning of each registry", false,
			"warning: docker.io: 9 of 100 requests left per 6h; run 'docker login docker.io' for a higher limit\n" +
				"warning: ghcr.io: 5 of 1000 requests left; run 'docker login ghcr.io' for a higher limit\n"},
		{"verbose: every change too", true,
			"docker.io: rate limit: 76 of 100 requests left per 6h\n" +
				"docker.io: rate limit: 9 of 100 requests left per 6h\n" +
				"warning: docker.io: 9 of 100 requests left per 6h; run 'docker login docker.io' for a higher limit\n" +
				"docker.io: rate limit: 8 of 100 requests left per 6h\n" +
				"ghcr.io: rate limit: 5 of 1000 requests left\n" +
				"warning: ghcr.io: 5 of 1000 requests left; run 'docker login ghcr.io' for a higher limit\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			report := rateLimits(&out, tc.verbose)
			for _, l := range []resolve.RateLimit{hub(76), hub(9), hub(8), ghcr} {
				report(l)
			}
			if got := out.String(); got != tc.want {
				t.Errorf("output:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}
