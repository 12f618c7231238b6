#!/usr/bin/env bash
# make test: unit tests (cmocka), end-to-end tests (pytest, as root, against
# the real kernel) and a short fuzz pass. Quiet: one line per suite, every
# skip with its reason, and the output of whatever failed; V=1 shows all.
# Ends with one line: "tests: N passed, N failed, N skipped".
# FUZZERS (from the Makefile) names the libFuzzer targets to run.
set -uo pipefail
cd "$(dirname "$0")/.."

UNIT_BINS=(build/tests/test_*)
read -r -a FUZZ_TARGETS <<<"${FUZZERS:-fuzz_procmaps fuzz_elfsym fuzz_gopclntab fuzz_smaps}"
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# The Go pclntab unit test reads Go binaries built here, with the runtime's own answers.
fixtures=$(tests/unit/build-go-fixtures.sh build/go-fixtures) || exit 1
while IFS= read -r assignment; do
	export "${assignment?}"
done <<<"$fixtures"

# "N word" from a runner's summary line, 0 when absent.
count() { grep -oE "[0-9]+ $2" "$1" | tail -1 | grep -oE '^[0-9]+' || echo 0; }

scripts/run-unit.sh "${UNIT_BINS[@]}" >"$logs/unit" 2>&1
unit_rc=$?
grep -v '^unit: [0-9]* passed' "$logs/unit"
echo "unit: $(count "$logs/unit" passed) passed, $(count "$logs/unit" failed) failed," \
	"$(count "$logs/unit" skipped) skipped"

pytest_args=(-q -p no:cacheprovider -rs tests/e2e)
[[ "${V:-0}" == 1 ]] && pytest_args=(-v -p no:cacheprovider -rs tests/e2e)
/usr/bin/python3 -m pytest "${pytest_args[@]}" >"$logs/e2e" 2>&1
e2e_rc=$?
if ((e2e_rc != 0)) || [[ "${V:-0}" == 1 ]]; then
	cat "$logs/e2e"
else
	grep '^SKIPPED' "$logs/e2e" | sed 's/^/e2e: /'
fi
e2e_failed=$(($(count "$logs/e2e" failed) + $(count "$logs/e2e" error)))
echo "e2e: $(count "$logs/e2e" passed) passed, $e2e_failed failed, $(count "$logs/e2e" skipped) skipped"

# A short, bounded fuzz pass over every parser of untrusted bytes (make fuzz runs longer).
scripts/fuzz.sh "${PL_CI_FUZZ_SECONDS:-15}" "${FUZZ_TARGETS[@]}" >"$logs/fuzz" 2>&1
fuzz_rc=$?
if ((fuzz_rc != 0)) || [[ "${V:-0}" == 1 ]]; then
	cat "$logs/fuzz"
fi
fuzz_ok=$(grep -c ': ok,' "$logs/fuzz" || true)
fuzz_failed=$(grep -c ': FAILED' "$logs/fuzz" || true)
echo "fuzz: $fuzz_ok passed, $fuzz_failed failed, 0 skipped"

passed=$(($(count "$logs/unit" passed) + $(count "$logs/e2e" passed) + fuzz_ok))
failed=$(($(count "$logs/unit" failed) + e2e_failed + fuzz_failed))
skipped=$(($(count "$logs/unit" skipped) + $(count "$logs/e2e" skipped)))
if ((unit_rc != 0 || e2e_rc != 0 || fuzz_rc != 0)) && ((failed == 0)); then
	failed=1 # a runner failed without a countable test failure
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
((unit_rc == 0 && e2e_rc == 0 && fuzz_rc == 0))
