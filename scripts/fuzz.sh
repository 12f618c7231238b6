#!/usr/bin/env bash
# fuzz.sh SECONDS TARGET...: runs each libFuzzer target for SECONDS on a
# scratch copy of tests/fuzz/corpus/TARGET (the committed seeds stay small).
# Fails if any target finds a crash, a leak, undefined behaviour or a hang.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=$1
shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for target in "$@"; do
	name=${target#fuzz_}
	mkdir -p "$work/$name" "$work/artifacts-$name"
	cp -r "tests/fuzz/corpus/$name/." "$work/$name/" 2>/dev/null || true
	log="$work/$name.log"
	if build/fuzz/"$target" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
		-artifact_prefix="$work/artifacts-$name/" "$work/$name" >"$log" 2>&1; then
		runs=$(grep -oE 'Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' || echo '?')
		echo "fuzz $name: ok, $runs runs in ${seconds}s, $(grep -oE 'cov: [0-9]+' "$log" | tail -1)"
	else
		echo "fuzz $name: FAILED" >&2
		tail -40 "$log" >&2
		mkdir -p build/fuzz-artifacts && cp -r "$work/artifacts-$name" build/fuzz-artifacts/
		status=1
	fi
done
exit $status
