variable "BASE_REGISTRY" {
  default = "registry.example.com/base"
}

variable "FLAVOR" {
  default = "bookworm"
}

target "common" {
  context    = "img"
  dockerfile = "Dockerfile"
}

# One image per distribution: the matrix value is known only to bake.
target "dist" {
  inherits = ["common"]
  name     = "dist-${d}"
  matrix = {
    d = ["alpine", "debian"]
  }
  args = {
    BASE  = "${BASE_REGISTRY}/app:${d}"
    LABEL = "for-${d}"
  }
}

target "local" {
  inherits = ["common"]
  args = {
    BASE = "${BASE_REGISTRY}/app:${FLAVOR}"
  }
}
