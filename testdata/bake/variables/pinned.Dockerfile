ARG GO_IMAGE=golang:1.25
ARG BASE
ARG TOOLS
FROM ${GO_IMAGE} AS build
FROM ${TOOLS} AS tools
FROM ${BASE}
COPY --from=alpine /etc/ssl /etc/ssl
