package rewrite

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// benchDockerfile is a multi-stage Dockerfile of the kind the scan meets:
// global ARGs, continuations, COPY --from, RUN --mount and a heredoc.
const benchDockerfile = `# syntax=docker/dockerfile:1.7
ARG GO_VERSION=1.26
ARG REGISTRY=ghcr.io
ARG BASE=${REGISTRY}/acme/base:2024.06

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=bind,from=tonistiigi/xx:1.6,source=/usr/bin,target=/xx \
    CGO_ENABLED=0 go build \
      -trimpath \
      -ldflags="-s -w" \
      -o /out/app ./cmd/app

FROM build AS test
RUN go test ./... \
    && go vet ./...

FROM $BASE AS runtime
RUN <<EOF
apt-get update
apt-get install -y --no-install-recommends ca-certificates tzdata
rm -rf /var/lib/apt/lists/*
EOF
COPY --from=build /out/app /usr/local/bin/app
COPY --from=docker.io/library/alpine:3.20 /etc/ssl/certs /etc/ssl/certs
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/app"]
`

// longDockerfile returns a Dockerfile of about 200 lines: a few stages,
// each with long continued RUN lines, comments and COPY --from.
func longDockerfile() string {
	var b strings.Builder
	b.WriteString("ARG DEBIAN=debian:12-slim\nARG NODE=node:22\n")
	for s := range 8 {
		if s%2 == 0 {
			fmt.Fprintf(&b, "FROM ${DEBIAN} AS stage%d\n", s)
		} else {
			fmt.Fprintf(&b, "FROM registry.example.com/team/image%d:1.%d AS stage%d\n", s, s, s)
		}
		b.WriteString("# install the build tools\n")
		b.WriteString("RUN apt-get update \\\n")
		for p := range 12 {
			fmt.Fprintf(&b, "    && apt-get install -y package%d-%d \\\n", s, p)
		}
		b.WriteString("    && rm -rf /var/lib/apt/lists/*\n")
		b.WriteString("COPY --from=node:22 /usr/local/bin/node /usr/local/bin/node\n")
		b.WriteString("ENV PATH=/usr/local/bin:$PATH\t\n")
		fmt.Fprintf(&b, "RUN --mount=type=cache,target=/root/.npm \\\n    --mount=type=bind,from=stage%d,target=/prev \\\n    npm ci\n", max(s-1, 0))
		b.WriteString("WORKDIR /app\nCOPY . .\n\n")
	}
	return b.String()
}

func BenchmarkFindDockerfile(b *testing.B) {
	args, err := os.ReadFile("../testdata/dockerfile/args/Dockerfile")
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		src  string
	}{
		{"args", string(args)},
		{"multistage", benchDockerfile},
		{"200lines", longDockerfile()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			in := Input{Path: "Dockerfile", Src: []byte(bc.src)}
			refs, _, err := FindDockerfile(in)
			if err != nil || len(refs) == 0 {
				b.Fatalf("FindDockerfile: %d refs, %v", len(refs), err)
			}
			b.SetBytes(int64(len(in.Src)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := FindDockerfile(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
