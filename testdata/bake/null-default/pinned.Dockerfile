ARG GO_VERSION=1.26
ARG DEBIAN=trixie
FROM golang:${GO_VERSION}-${DEBIAN}@sha256:636fabee42dea730184f91e2f051e9cb3b1ed49e431d99549706a131b0b0daf3 AS build
FROM debian:${DEBIAN}-slim@sha256:12f2bc40491f9f7b029e375c38f2ecef73006e86ca71ea9321b3cf777df92ba8
COPY --from=build /go/bin/app /app
