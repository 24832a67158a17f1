#!/bin/bash
# SPDX-License-Identifier: MIT
# Bad input must end with status 2 and ONE stderr line "sluice: error: ..."
# naming the problem; never a crash (a signal shows as status >= 128).
. "$(dirname "$0")/lib.sh"
LM=$1

FAILED=0

# check_bad DESCRIPTION PATTERN [sluice arguments...]: PATTERN is an
# extended regex (case-insensitive) the error line must match.
check_bad() {
	local what=$1 pattern=$2
	shift 2
	run_sluice "$@"
	local lines
	lines=$(grep -c . "$ERR")
	if [ "$STATUS" -ge 128 ]; then
		echo "FAIL: $what: crashed (status $STATUS)"
	elif [ "$STATUS" != 2 ]; then
		echo "FAIL: $what: exit status $STATUS, expected 2"
	elif [ "$lines" != 1 ]; then
		echo "FAIL: $what: $lines lines on stderr, expected one"
	elif ! grep -q '^sluice: error: ' "$ERR"; then
		echo "FAIL: $what: stderr line does not start with 'sluice: error: '"
	elif ! grep -qiE -- "$pattern" "$ERR"; then
		echo "FAIL: $what: error does not match /$pattern/"
	else
		echo "ok: $what: $(cat "$ERR")"
		return
	fi
	show_output
	FAILED=$((FAILED + 1))
}

EMPTY=$TEST_TMP/empty.bin
TEXT=$TEST_TMP/readme.txt
GZ=$TEST_TMP/kernel.gz
BIG=$TEST_TMP/big.bzImage
SHORT=$TEST_TMP/short.bzImage
: >"$EMPTY"
printf 'This is a text file, not a kernel.\nSecond line.\n' >"$TEXT"
gzip -c "$LM" >"$GZ"
head -c 768 "$LM" >"$SHORT"

# A bzImage whose protected-mode part is 80 MiB: more than the 64 MiB of
# guest RAM it is given.
cp "$LM" "$BIG"
truncate -s $((1024 + 80 * 1024 * 1024)) "$BIG"

check_bad "no --kernel" 'kernel' run
check_bad "missing kernel file" 'no-such-kernel.*(no such file|not found)|(no such file|not found).*no-such-kernel' \
	run --kernel "$TEST_TMP/no-such-kernel"
# Root reads any file, so a directory stands in for an unreadable kernel.
check_bad "unreadable kernel (a directory)" 'directory|cannot read|not a regular' run --kernel "$TEST_TMP"
if [ "$(id -u)" != 0 ]; then
	NOREAD=$TEST_TMP/noread.bin
	cp "$LM" "$NOREAD"
	chmod 000 "$NOREAD"
	check_bad "unreadable kernel (mode 000)" 'permission' run --kernel "$NOREAD"
fi
check_bad "empty kernel file" 'empty' run --kernel "$EMPTY"
check_bad "text file as kernel" 'text' run --kernel "$TEXT"
check_bad "gzip file as kernel" 'compress|gzip' run --kernel "$GZ"
check_bad "truncated bzImage" 'truncat|short|too small|beyond|past the end' run --kernel "$SHORT"
check_bad "kernel larger than --memory" 'fit|too (big|large)|memory' run --kernel "$BIG" --memory 64M
check_bad "image above --memory 1M" 'fit' run --kernel "$LM" --memory 1M
check_bad "--memory 12Q" '12Q' run --kernel "$LM" --memory 12Q
check_bad "--memory size=abc" 'memory' run --kernel "$LM" --memory size=abc,hugepages=on
check_bad "--cpus 0" 'cpus' run --kernel "$LM" --cpus 0
check_bad "--cpus 100000" 'cpus' run --kernel "$LM" --cpus 100000
check_bad "--cpus x" 'cpus' run --kernel "$LM" --cpus x
check_bad "--serial bogus" 'serial' run --kernel "$LM" --serial bogus
check_bad "--cpu-policy missing file" 'no-such-policy' run --kernel "$LM" --cpu-policy "$TEST_TMP/no-such-policy"
printf '# bad index\nmsr zzz value 1\n' >"$TEST_TMP/bad-policy.txt"
check_bad "--cpu-policy bad line" 'bad-policy.txt:2' run --kernel "$LM" --cpu-policy "$TEST_TMP/bad-policy.txt"
check_bad "--net without tap=" 'tap' run --kernel "$LM" --net mac=52:54:00:12:34:56
check_bad "--net bad mac" 'mac' run --kernel "$LM" --net tap=sl0,mac=01:02:03:04:05:06
check_bad "--net num_queues=99" 'num_queues' run --kernel "$LM" --net tap=sl0,num_queues=99
check_bad "--console bogus" 'console' run --kernel "$LM" --console bogus
check_bad "--console stdio with --serial stdio" 'stdio' run --kernel "$LM" --console stdio
check_bad "--disk missing image" 'no-such-disk' run --kernel "$LM" --disk path="$TEST_TMP/no-such-disk.img"
# An image another process holds (as a second VM would) is refused.
LOCKED=$TEST_TMP/locked.img
truncate -s 1M "$LOCKED"
# The sleep itself holds the lock (exec), so killing it releases the lock.
(exec 9<>"$LOCKED" && flock -x 9 && exec sleep 60) >/dev/null 2>&1 &
LOCKER=$!
for _ in $(seq 100); do flock -n "$LOCKED" true || break; sleep 0.05; done
check_bad "--disk image in use" 'in use' run --kernel "$LM" --disk path="$LOCKED"
check_bad "--disk readonly image in use by a writer" 'in use' run --kernel "$LM" --disk path="$LOCKED",readonly=on
kill $LOCKER 2>/dev/null
wait $LOCKER 2>/dev/null
check_bad "unknown option" 'frobnicate' run --kernel "$LM" --frobnicate
check_bad "unknown command" 'fly' fly

[ "$FAILED" = 0 ] || { echo "FAIL: $FAILED bad-input case(s) misbehaved"; exit 1; }
pass "every bad input exits 2 with one error line"
