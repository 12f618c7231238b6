#!/usr/bin/env bash
# make test: unit tests (cmocka), then end-to-end tests (pytest, as root,
# against the real kernel). Ends with one line: "tests: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."

UNIT_BINS=(build/tests/test_*)
unit_log=$(mktemp)
e2e_log=$(mktemp)
fuzz_log=$(mktemp)
trap 'rm -f "$unit_log" "$e2e_log" "$fuzz_log"' EXIT

# The Go pclntab unit test reads Go binaries built here, with the runtime's own answers.
fixtures=$(tests/unit/build-go-fixtures.sh build/go-fixtures) || exit 1
while IFS= read -r assignment; do
	export "${assignment?}"
done <<<"$fixtures"

scripts/run-unit.sh "${UNIT_BINS[@]}" 2>&1 | tee "$unit_log"
unit_rc=${PIPESTATUS[0]}

/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e 2>&1 | tee "$e2e_log"
e2e_rc=${PIPESTATUS[0]}

# A short, bounded fuzz pass over every parser of untrusted bytes (make fuzz runs longer).
scripts/fuzz.sh "${PL_CI_FUZZ_SECONDS:-15}" fuzz_procmaps fuzz_elfsym fuzz_gopclntab \
	fuzz_smaps fuzz_escape fuzz_json 2>&1 | tee "$fuzz_log"
fuzz_rc=${PIPESTATUS[0]}

count() { grep -oE "[0-9]+ $2" "$1" | tail -1 | grep -oE '^[0-9]+' || echo 0; }
fuzz_ok=$(grep -c ': ok,' "$fuzz_log" || true)
fuzz_failed=$(grep -c ': FAILED' "$fuzz_log" || true)
passed=$(($(count "$unit_log" passed) + $(count "$e2e_log" passed) + fuzz_ok))
failed=$(($(count "$unit_log" failed) + $(count "$e2e_log" failed) + $(count "$e2e_log" error) +
	fuzz_failed))

if ((unit_rc != 0 || e2e_rc != 0 || fuzz_rc != 0)) && ((failed == 0)); then
	failed=1 # a runner failed without a countable test failure
fi
echo "tests: $passed passed, $failed failed"
((unit_rc == 0 && e2e_rc == 0 && fuzz_rc == 0))
