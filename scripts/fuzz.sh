#!/usr/bin/env bash
# Runs every fuzz target of the module for a while each (default 10m), one
# after the other: the nightly-style run that the quick `go test ./...`
# (which replays only the seeds and testdata/fuzz) does not do. A failing
# input is kept by go test under <package>/testdata/fuzz/<Target>/: commit
# it with the fix, so that every later `go test` replays it.
#
#   scripts/fuzz.sh            # 10 minutes per target
#   FUZZTIME=2m scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-10m}
status=0
while IFS= read -r line; do
	file=${line%%:*}
	target=$(sed -E 's/.*func (Fuzz[A-Za-z0-9_]+).*/\1/' <<<"$line")
	pkg=$(dirname "$file")
	echo "== $pkg $target ($fuzztime)"
	if ! go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime"; then
		echo "!! $pkg $target failed: the input is under $pkg/testdata/fuzz/$target/" >&2
		status=1
	fi
done < <(grep -rn --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(' . | sort)
exit $status
