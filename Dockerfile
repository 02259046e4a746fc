# imagelock in a small static image, for CI steps that run containers:
#   docker build -t imagelock . && docker run --rm -v "$PWD:/src" -w /src imagelock verify
# Both base images are pinned; images.lock records them, and CI runs
# 'imagelock verify --offline' on this repository.
FROM golang:1.26-alpine@sha256:7a3e50096189ad57c9f9f865e7e4aa8585ed1585248513dc5cda498e2f41812c AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /imagelock ./cmd/imagelock

FROM gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab
COPY --from=build /imagelock /usr/local/bin/imagelock
ENTRYPOINT ["/usr/local/bin/imagelock"]
