#!/usr/bin/env bash
# Builds the Go test program tests/workloads/go/pclnprobe in the variants
# tests/unit/test_gopclntab.c reads, runs them, and records what the Go
# runtime itself reports about their program counters.
#
# Usage: tests/unit/build-go-fixtures.sh [OUTDIR]   (default: build/go-fixtures)
#
# Writes to OUTDIR:
#   pclnprobe                plain `go build`
#   pclnprobe-stripped       -ldflags='-s -w'
#   pclnprobe-pie            -buildmode=pie
#   pclnprobe-pie-stripped   -buildmode=pie -ldflags='-s -w'
#   pclnprobe-pie-external   -buildmode=pie, linked by the C toolchain (only
#                            when one is installed): the table then has no
#                            section of its own and runtime.text is not the
#                            start of .text
#   expect.jsonl             the plain build's output (the stripped build has
#                            the same layout), plus {"linkmain":ADDR}
#   expect-pie.jsonl         the same for the PIE builds
#   expect-pie-external.jsonl
# and prints the environment variables the unit test takes.
#
# No network: GOPROXY=off, and the module has no dependencies.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/build/go-fixtures}
src=$root/tests/workloads/go/pclnprobe
GO=${GO:-go}

if ! command -v "$GO" >/dev/null 2>&1; then
	echo "build-go-fixtures: no Go toolchain ('$GO') on PATH" >&2
	exit 1
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
export GOCACHE="$root/build/go-cache"
export GOPROXY=off GOFLAGS=-buildvcs=false GO111MODULE=on GOTOOLCHAIN=local GOWORK=off

build() { # OUTPUT [go build flags...]
	local dst=$1
	shift
	(cd "$src" && "$GO" build "$@" -o "$dst.tmp" .)
	mv -f "$dst.tmp" "$dst"
}

# main.main's link-time address, from the symbol table of an unstripped build.
linkmain() {
	local a
	a=$("$GO" tool nm "$1" | awk '$3 == "main.main" && $2 ~ /^[Tt]$/ && !a { a = $1 } END { print a }')
	if [ -z "$a" ]; then
		echo "build-go-fixtures: no main.main symbol in $1" >&2
		exit 1
	fi
	printf '{"linkmain":%d}\n' "$((16#$a))"
}

expect() { # BINARY OUTPUT
	"$1" >"$2.tmp"
	linkmain "$1" >>"$2.tmp"
	mv -f "$2.tmp" "$2"
}

CGO_ENABLED=0 build "$out/pclnprobe"
CGO_ENABLED=0 build "$out/pclnprobe-stripped" -ldflags='-s -w'
CGO_ENABLED=0 build "$out/pclnprobe-pie" -buildmode=pie
CGO_ENABLED=0 build "$out/pclnprobe-pie-stripped" -buildmode=pie -ldflags='-s -w'
expect "$out/pclnprobe" "$out/expect.jsonl"
expect "$out/pclnprobe-pie" "$out/expect-pie.jsonl"

rm -f "$out/pclnprobe-pie-external" "$out/expect-pie-external.jsonl"
# External linking needs cgo enabled (the program itself uses none) and gcc,
# which make deps installs: a failure here is a failure, not a skipped case.
if ! CGO_ENABLED=1 build "$out/pclnprobe-pie-external" -buildmode=pie -ldflags=-linkmode=external \
	2> >(grep -v 'loadinternal: cannot find runtime/cgo' | grep -v '^# pclnprobe$' >&2); then
	echo "build-go-fixtures: the externally linked PIE variant did not build" >&2
	exit 1
fi
expect "$out/pclnprobe-pie-external" "$out/expect-pie-external.jsonl"

cat <<EOF
PL_GO_BIN_PLAIN=$out/pclnprobe
PL_GO_BIN_STRIPPED=$out/pclnprobe-stripped
PL_GO_BIN_PIE=$out/pclnprobe-pie
PL_GO_BIN_PIE_STRIPPED=$out/pclnprobe-pie-stripped
PL_GO_EXPECT=$out/expect.jsonl
EOF
