#!/usr/bin/env bash
# deps.sh [demo|all]: installs the Debian packages that make demo needs (demo:
# the build and the demo workload), or that make test and make bench need too
# (all, the default). deps.sh --list demo|all prints the list instead.
# Idempotent: installs nothing, and skips apt-get update, when all are present.
set -euo pipefail

# What `make all` and the demo need, and nothing more: a first command stays light.
DEMO_PACKAGES=(
	make gcc clang
	libbpf-dev bpftool libelf-dev zlib1g-dev
)

# What only the tests, the fuzzers and the benchmark need.
TEST_PACKAGES=(
	llvm pkg-config libclang-rt-14-dev # the fuzzers (libFuzzer, sanitizers)
	libcmocka-dev
	python3 python3-pytest python3-jsonschema # the e2e tests, every record against the schema
	chromium-headless-shell python3-pil # the report's screenshots
	util-linux time # setpriv, and GNU time for the budget tests' maxrss
	jq man-db groff-base # scripts tests (jq), man page lint and install test
	tmux                 # the live view's tests
	golang-go libjemalloc2 libjemalloc-dev libgoogle-perftools-dev # the workloads
	g++ binutils # the C++ workload, and c++filt for the demangler's tests
	strace linux-perf bpftrace # the peers make bench measures side by side
	prometheus # a real Go service for the go_heap and --metrics tests (bound to 127.0.0.1)
	libc6-dbg  # glibc's separate debug files: its internals named (issue 12)
)

usage() {
	echo "usage: $0 [--list] [demo|all]" >&2
	exit 2
}

list=false
if [[ ${1:-} == --list ]]; then
	list=true
	shift
fi
case ${1:-all} in
demo) PACKAGES=("${DEMO_PACKAGES[@]}") ;;
all) PACKAGES=("${DEMO_PACKAGES[@]}" "${TEST_PACKAGES[@]}") ;;
*) usage ;;
esac
if $list; then
	printf '%s\n' "${PACKAGES[@]}"
	exit 0
fi

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
