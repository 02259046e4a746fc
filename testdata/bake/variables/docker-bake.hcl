variable "GO" {
  default = "1.26"
}
variable "ALPINE" { default = "3.21" }
variable "REGISTRY" {
  default = "ghcr.io/acme"
}
variable "BASE_IMAGE" {
  default = "debian:bookworm-slim"
}

target "default" {
  args = {
    GO_IMAGE = "golang:${GO}"
    BASE     = BASE_IMAGE
    TOOLS    = "${REGISTRY}/tools:v2"
  }
  contexts = {
    alpine = "docker-image://alpine:${ALPINE}"
  }
}
