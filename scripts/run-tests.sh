#!/usr/bin/env bash
# make test: unit tests (cmocka), then end-to-end tests (pytest, as root,
# against the real kernel). Ends with one line: "tests: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."

UNIT_BINS=(build/tests/test_*)
unit_log=$(mktemp)
e2e_log=$(mktemp)
trap 'rm -f "$unit_log" "$e2e_log"' EXIT

scripts/run-unit.sh "${UNIT_BINS[@]}" 2>&1 | tee "$unit_log"
unit_rc=${PIPESTATUS[0]}

/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e 2>&1 | tee "$e2e_log"
e2e_rc=${PIPESTATUS[0]}

count() { grep -oE "[0-9]+ $2" "$1" | tail -1 | grep -oE '^[0-9]+' || echo 0; }
passed=$(($(count "$unit_log" passed) + $(count "$e2e_log" passed)))
failed=$(($(count "$unit_log" failed) + $(count "$e2e_log" failed) + $(count "$e2e_log" error)))

if ((unit_rc != 0 || e2e_rc != 0)) && ((failed == 0)); then
	failed=1 # a runner failed without a countable test failure
fi
echo "tests: $passed passed, $failed failed"
((unit_rc == 0 && e2e_rc == 0))
