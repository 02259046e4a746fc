package rewrite

import (
	"errors"
	"testing"
)

func TestFinalBase(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src, image string
		line             int
		err              bool
	}{
		{name: "one stage", src: "FROM node:16.13\nRUN npm ci\n", image: "node:16.13", line: 1},
		{name: "the last stage, not the first", src: "FROM golang:1.26 AS build\nRUN go build\nFROM gcr.io/distroless/static:nonroot\nCOPY --from=build /app /app\n",
			image: "gcr.io/distroless/static:nonroot", line: 3},
		{name: "through stages, with an ARG default", src: "ARG BASE=node:16.13\nFROM golang:1.26 AS build\nFROM ${BASE} AS runtime\nRUN true\nfrom RunTime\nCOPY --from=build /a /a\n",
			image: "node:16.13", line: 3},
		{name: "scratch has no base", src: "FROM golang:1.26 AS build\nFROM scratch\nCOPY --from=build /a /a\n", line: 2},
		{name: "a variable with no default", src: "ARG BASE\nFROM $BASE\n", line: 2, err: true},
		{name: "a tag from a variable with no default", src: "ARG V\nFROM node:${V}\n", line: 2, err: true},
		{name: "no FROM", src: "RUN true\n", err: true},
		{name: "not UTF-8", src: "FROM node\xff:16\n", line: 1, err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			image, line, err := FinalBase("Dockerfile", []byte(tc.src))
			var re *Error
			if tc.err != (err != nil) || err != nil && !errors.As(err, &re) {
				t.Fatalf("FinalBase error = %v, want an *Error: %v", err, tc.err)
			}
			if image != tc.image || line != tc.line {
				t.Errorf("FinalBase = %q at line %d, want %q at line %d", image, line, tc.image, tc.line)
			}
		})
	}
}
