# A null default passes no arg: the Dockerfile's own default applies.
variable "GO_VERSION" {
  default = null
}

target "_common" {
  args = {
    GO_VERSION = GO_VERSION
  }
}

target "binaries" {
  inherits = ["_common"]
  args = {
    DEBIAN = "bookworm"
  }
}
