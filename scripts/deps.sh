#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the benchmark need.
# Idempotent: installs nothing, and skips apt-get update, when all are present.
set -euo pipefail

PACKAGES=(
	make gcc g++ binutils clang llvm pkg-config libclang-rt-14-dev
	libbpf-dev bpftool libelf-dev zlib1g-dev
	libcmocka-dev
	python3 python3-pytest
	chromium-headless-shell python3-pil
	util-linux time # setpriv, and GNU time for the budget tests' maxrss
	jq man-db groff-base # scripts tests (jq), man page lint and install test
	tmux
	golang-go libjemalloc2 libjemalloc-dev libgoogle-perftools-dev
	strace linux-perf bpftrace # the peers make bench measures side by side
	prometheus # a real Go service for the go_heap test (bound to 127.0.0.1)
)

missing=()
for pkg in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	[[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
	exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
	echo "deps: missing packages: ${missing[*]}; run 'make deps' as root" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
