# A variable whose default is null passes no arg: the Dockerfile's own
# ARG defaults apply, as buildx builds it.
variable "GO_VERSION" {
  default = null
}

target "_common" {
  args = {
    GO_VERSION = GO_VERSION
    KEEP_GIT   = 1
  }
}

target "binaries" {
  inherits   = ["_common"]
  dockerfile = "build.Dockerfile"
}
