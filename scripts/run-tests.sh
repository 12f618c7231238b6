#!/usr/bin/env bash
# make test: unit tests (cmocka), end-to-end tests (pytest, as root, against
# the real kernel), a short fuzz pass, then the unit and e2e suites again
# against the ASan/UBSan build (make SANITIZE=1, in build/sanitize), where
# any sanitizer report fails the suite. Quiet: one line per suite, every
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

# run_unit LABEL BINARY...: a unit suite; its counts go in $logs/LABEL.
run_unit() {
	local label=$1 log="$logs/$1"
	shift
	scripts/run-unit.sh "$@" >"$log" 2>&1
	local rc=$?
	grep -v '^unit: [0-9]* passed' "$log"
	echo "$label: $(count "$log" passed) passed, $(count "$log" failed) failed," \
		"$(count "$log" skipped) skipped"
	return $rc
}

# run_e2e LABEL TRACER: the e2e suite against TRACER; counts in $logs/LABEL.
run_e2e() {
	local label=$1 log="$logs/$1" args=(-q -p no:cacheprovider -rs tests/e2e)
	[[ "${V:-0}" == 1 ]] && args=(-v -p no:cacheprovider -rs tests/e2e)
	PAGELEDGER=$2 /usr/bin/python3 -m pytest "${args[@]}" >"$log" 2>&1
	local rc=$?
	if ((rc != 0)) || [[ "${V:-0}" == 1 ]]; then
		cat "$log"
	else
		grep '^SKIPPED' "$log" | sed "s/^/$label: /"
	fi
	echo "$label: $(count "$log" passed) passed, $(e2e_failed "$log") failed," \
		"$(count "$log" skipped) skipped"
	return $rc
}
e2e_failed() { echo $(($(count "$1" failed) + $(count "$1" error))); }

run_unit unit "${UNIT_BINS[@]}"
unit_rc=$?
run_e2e e2e "$PWD/build/pageledger"
e2e_rc=$?

# A short, bounded fuzz pass over every parser of untrusted bytes (make fuzz runs longer).
scripts/fuzz.sh "${PL_CI_FUZZ_SECONDS:-15}" "${FUZZ_TARGETS[@]}" >"$logs/fuzz" 2>&1
fuzz_rc=$?
if ((fuzz_rc != 0)) || [[ "${V:-0}" == 1 ]]; then
	cat "$logs/fuzz"
fi
fuzz_ok=$(grep -c ': ok,' "$logs/fuzz" || true)
fuzz_failed=$(grep -c ': FAILED' "$logs/fuzz" || true)
echo "fuzz: $fuzz_ok passed, $fuzz_failed failed, 0 skipped"

# The sanitized build: every ASan, LSan or UBSan report is written under
# $logs/san (the tests need not read the tracer's stderr for one to count).
mkdir -p "$logs/san"
export ASAN_OPTIONS="log_path=$logs/san/asan:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="log_path=$logs/san/ubsan:print_stacktrace=1:halt_on_error=1"
run_unit "unit (ASan)" build/sanitize/tests/test_*
sunit_rc=$?
run_e2e "e2e (ASan)" "$PWD/build/sanitize/pageledger"
se2e_rc=$?
unset ASAN_OPTIONS UBSAN_OPTIONS
reports=$(find "$logs/san" -type f | wc -l)
if ((reports > 0)); then
	echo "sanitizers: $reports report(s):"
	cat "$logs"/san/*
	sunit_rc=1
fi
echo "sanitizers: $reports reports"

passed=$(($(count "$logs/unit" passed) + $(count "$logs/e2e" passed) + fuzz_ok))
passed=$((passed + $(count "$logs/unit (ASan)" passed) + $(count "$logs/e2e (ASan)" passed)))
failed=$(($(count "$logs/unit" failed) + $(e2e_failed "$logs/e2e") + fuzz_failed))
failed=$((failed + $(count "$logs/unit (ASan)" failed) + $(e2e_failed "$logs/e2e (ASan)") + reports))
skipped=$(($(count "$logs/unit" skipped) + $(count "$logs/e2e" skipped)))
skipped=$((skipped + $(count "$logs/unit (ASan)" skipped) + $(count "$logs/e2e (ASan)" skipped)))
all_ok=$((unit_rc == 0 && e2e_rc == 0 && fuzz_rc == 0 && sunit_rc == 0 && se2e_rc == 0))
if ((!all_ok)) && ((failed == 0)); then
	failed=1 # a runner failed without a countable test failure
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
((all_ok))
