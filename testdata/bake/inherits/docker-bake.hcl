target "_common" {
  context = "svc"
  args = {
    BASE = "python:3.13-slim"
    UV   = "ghcr.io/astral-sh/uv:0.9"
  }
}

target "api" {
  inherits = ["_common"]
  args = {
    BASE = "python:3.13-alpine"
  }
}

target "worker" {
  inherits = ["_common"]
}
