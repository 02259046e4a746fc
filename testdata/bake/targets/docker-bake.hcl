# Release images.
group "default" {
  targets = ["app", "docs"]
}

target "app" {
  context    = "app"
  dockerfile = "build.Dockerfile"
  args = {
    RUNTIME = "gcr.io/distroless/static-debian12:nonroot" // what ships
    VERSION = "dev"
  }
  contexts = {
    builder = "docker-image://golang:1.26-bookworm"
    assets  = "./assets"
  }
  tags      = ["ghcr.io/acme/app:latest"]
  platforms = ["linux/amd64", "linux/arm64"]
}

target "docs" {
  context    = "app"
  dockerfile = "build.Dockerfile"
  args       = { RUNTIME = "gcr.io/distroless/static-debian12:nonroot", VERSION = "docs" }
  contexts   = { builder = "docker-image://golang:1.26-bookworm", assets = "./site" }
  target     = "docs"
}
