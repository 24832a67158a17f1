# SPDX-License-Identifier: MIT
# Helpers sourced by the integration tests (bash). Each test gets the path
# of the sluice binary first, then the guests it runs.

set -u

SLUICE=${1:?usage: $0 SLUICE GUEST...}
shift

# meson test treats 77 as "skipped".
if [ ! -c /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "SKIP: /dev/kvm is missing or not accessible"
	exit 77
fi

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-it.XXXXXX")
trap 'rm -rf "$TEST_TMP"' EXIT
OUT=$TEST_TMP/stdout
ERR=$TEST_TMP/stderr
STATUS=
RUN_TIMEOUT=${SLUICE_TEST_TIMEOUT:-120}

# run_sluice [sluice arguments...]: stdin from /dev/null unless INPUT is set.
run_sluice() {
	echo "+ sluice $*"
	if [ -n "${INPUT+x}" ]; then
		printf '%s' "$INPUT" | timeout -k 5 "$RUN_TIMEOUT" "$SLUICE" "$@" >"$OUT" 2>"$ERR"
	else
		timeout -k 5 "$RUN_TIMEOUT" "$SLUICE" "$@" >"$OUT" 2>"$ERR" </dev/null
	fi
	STATUS=$?
	echo "  exit status $STATUS"
}

show_output() {
	echo "--- stdout ---"
	head -c 4000 "$OUT"
	echo "--- stderr ---"
	head -c 4000 "$ERR"
	echo "--------------"
}

fail() {
	echo "FAIL: $*"
	show_output
	exit 1
}

# The debug-exit port: a guest write of v exits with (v << 1) | 1.
debug_status() {
	echo $(( ($1 << 1) | 1 ))
}

expect_status() {
	[ "$STATUS" = "$1" ] || fail "exit status $STATUS, expected $1${2:+ ($2)}"
}

expect_stdout() {
	grep -qF -- "$1" "$OUT" || fail "stdout lacks '$1'"
}

expect_stdout_not() {
	! grep -qF -- "$1" "$OUT" || fail "stdout has '$1'"
}

expect_stderr() {
	grep -qF -- "$1" "$ERR" || fail "stderr lacks '$1'"
}

# expect_vdrv_checks NAME...: the vdrv test guest reported each check ok,
# no failure, and got to its end.
expect_vdrv_checks() {
	for c in "$@"; do
		expect_stdout "VDRV $c ok"
	done
	expect_stdout_not "FAIL"
	expect_stdout "VDRV done"
}

pass() {
	echo "--- guest output of the last run ---"
	head -c 4000 "$OUT"
	echo "PASS: $*"
	exit 0
}
