#!/usr/bin/env bash
# Runs cmocka unit test binaries and totals their results.
# Usage: scripts/run-unit.sh TEST_BINARY...
# Prints each binary's normal cmocka output, then "unit: N passed, M failed".
# Exits non-zero if any test failed or any binary exited non-zero.
set -u

if [ $# -eq 0 ]; then
	echo "usage: $0 TEST_BINARY..." >&2
	exit 2
fi

# The summary lines parsed below only exist in cmocka's standard format.
export CMOCKA_MESSAGE_OUTPUT=stdout

log=$(mktemp)
trap 'rm -f "$log"' EXIT

passed=0
failed=0
status=0

for bin in "$@"; do
	echo "== $bin"
	"$bin" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}

	# "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s), listed below:"
	# (the per-test "[  FAILED  ] name" lines carry no count and are skipped).
	p=$(sed -n 's/^.*\[  PASSED  \] \([0-9][0-9]*\) test(s)\..*$/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^.*\[  FAILED  \] \([0-9][0-9]*\) test(s).*$/\1/p' "$log" | tail -n 1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))

	if [ "$rc" -ne 0 ]; then
		status=1
		if [ -z "$p" ] && [ -z "$f" ]; then
			echo "run-unit: $bin exited with status $rc without a cmocka summary"
		fi
	elif [ -n "$f" ] && [ "$f" -gt 0 ]; then
		status=1
	elif [ -z "$p" ]; then
		echo "run-unit: $bin printed no cmocka summary"
		status=1
	fi
done

echo "unit: $passed passed, $failed failed"
exit "$status"
