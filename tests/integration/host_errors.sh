#!/bin/bash
# SPDX-License-Identifier: MIT
# Host-side failures get one clear line and status 2: no /dev/kvm, no
# permission on it, and huge pages that the host does not have. Huge-page
# backed RAM works when the pages are there.
. "$(dirname "$0")/lib.sh"
HELLO=$1

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (mount namespace, setpriv, nr_hugepages)"; exit 77; }

one_error_line() { # what-to-mention
	expect_status 2 "$1"
	[ "$(grep -c '^sluice: error:' "$ERR")" = 1 ] || fail "expected one error line ($1)"
	grep -qi -- "$1" "$ERR" || fail "error does not mention '$1'"
}

# A kernel every user can read.
PUB=$(mktemp -d /tmp/sluice-pub.XXXXXX)
trap 'rm -rf "$TEST_TMP" "$PUB"; [ -n "${OLD_HP:-}" ] && echo "$OLD_HP" >/proc/sys/vm/nr_hugepages' EXIT
chmod 755 "$PUB"
cp "$HELLO" "$PUB/hello.bin"
chmod 644 "$PUB/hello.bin"

# 1. No /dev/kvm: hide it with an empty /dev in a private mount namespace.
echo "+ sluice without /dev/kvm"
unshare -m bash -c 'mount -t tmpfs none /dev && exec "$0" run --kernel "$1"' \
	"$SLUICE" "$PUB/hello.bin" >"$OUT" 2>"$ERR" </dev/null
STATUS=$?
one_error_line "no /dev/kvm"

# 2. No permission: run as an unprivileged user (/dev/kvm here is root-only,
#    or group kvm; nobody is in neither).
if ! setpriv --reuid=65534 --regid=65534 --clear-groups test -w /dev/kvm; then
	echo "+ sluice as uid 65534"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$SLUICE" run --kernel "$PUB/hello.bin" >"$OUT" 2>"$ERR" </dev/null
	STATUS=$?
	one_error_line "permission"
else
	echo "note: uid 65534 can open /dev/kvm here; permission case not checked"
fi

# 3. Huge pages: none free -> a clean error; reserved -> the guest runs.
OLD_HP=$(cat /proc/sys/vm/nr_hugepages)
echo 0 >/proc/sys/vm/nr_hugepages
if [ "$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)" = 0 ]; then
	run_sluice run --kernel "$HELLO" --memory size=32M,hugepages=on
	one_error_line "huge pages"
fi
echo $((OLD_HP + 16)) >/proc/sys/vm/nr_hugepages
if [ "$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)" -ge 16 ]; then
	run_sluice run --kernel "$HELLO" --memory size=32M,hugepages=on
	expect_status 67 "hello exits through port 0xf4 with 0x21"
	expect_stdout "Hello"
else
	echo "note: the host could not reserve 16 huge pages; positive case not checked"
fi
pass "no /dev/kvm, no permission and missing huge pages are clean errors; huge-page RAM boots"
