variable "GO_VERSION" {
  default = "1.22"
}

target "default" {
  args = {
    GO_VERSION = GO_VERSION
  }
  tags = ["example/app:go${GO_VERSION}"]
}
