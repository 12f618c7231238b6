#!/usr/bin/env bash
# Runs cmocka unit test binaries and totals their results.
# Usage: scripts/run-unit.sh TEST_BINARY...
# Quiet by default: a line per binary that failed or skipped, then
# "unit: N passed, N failed, N skipped". V=1 prints every binary's output.
# Each skip names its reason (the message the test printed before skip()).
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
skipped=0
status=0

# The reason a skipped test gave: the lines it printed between RUN and SKIPPED.
skip_reasons() {
	awk '/^\[ RUN      \] /{name=$4; why=""; next}
	     /^\[  SKIPPED \] [^0-9]/{if (name != "") print "  skipped " name ": " (why == "" ? "(no reason given)" : why); name=""; next}
	     /^\[/{next}
	     {why = why (why == "" ? "" : " ") $0}' "$1"
}

count() {
	sed -n "s/^.*\[  $1  *\] \([0-9][0-9]*\) test(s).*$/\1/p" "$2" | tail -n 1
}

for bin in "$@"; do
	"$bin" >"$log" 2>&1
	rc=$?
	[ "${V:-0}" = 1 ] && { echo "== $bin"; cat "$log"; }

	p=$(count PASSED "$log")
	f=$(count FAILED "$log")
	s=$(count SKIPPED "$log")
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	skipped=$((skipped + ${s:-0}))

	if [ -n "$s" ] && [ "$s" -gt 0 ]; then
		echo "unit: $(basename "$bin"): $s skipped"
		skip_reasons "$log"
	fi
	if [ "$rc" -ne 0 ] || { [ -n "$f" ] && [ "$f" -gt 0 ]; } || [ -z "$p$f" ]; then
		status=1
		[ "${V:-0}" = 1 ] || { echo "== $bin"; cat "$log"; }
		if [ -z "$p$f" ]; then
			echo "run-unit: $bin exited with status $rc without a cmocka summary"
			failed=$((failed + 1))
		fi
	fi
done

echo "unit: $passed passed, $failed failed, $skipped skipped"
exit "$status"
