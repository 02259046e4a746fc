#!/usr/bin/env bash
# Installs what the integration tests need and Go does not fetch: the CNCF
# distribution registry, Debian package docker-registry, at
# /usr/bin/docker-registry. Idempotent: does nothing when it is there.
#
# The tests run their own registries on free loopback ports; the package's
# system service is not needed, so it is kept from starting during the
# install (policy-rc.d), and if it runs anyway it is harmless.
set -euo pipefail

readonly binary=/usr/bin/docker-registry

if [[ -x $binary ]]; then
	exit 0
fi

if ! command -v apt-get >/dev/null; then
	echo "install-test-deps: $binary is missing and apt-get is not available; install the CNCF distribution registry (Debian package docker-registry) by hand" >&2
	exit 1
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
	if ! command -v sudo >/dev/null; then
		echo "install-test-deps: installing docker-registry needs root; run this script as root" >&2
		exit 1
	fi
	sudo=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive

# invoke-rc.d and deb-systemd-invoke consult policy-rc.d: exit status 101
# forbids starting services. Leave an existing policy alone.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
	"${sudo[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
	trap '"${sudo[@]}" rm -f "$policy"' EXIT
fi

"${sudo[@]}" apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker-registry

"$binary" --version
