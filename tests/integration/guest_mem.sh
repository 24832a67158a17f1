#!/bin/bash
# SPDX-License-Identifier: MIT
# What backs guest RAM, seen from outside a running sluice (/proc/PID/smaps,
# /proc/PID/fd) while the echo guest waits for a line:
#   default          private anonymous memory, no memfd; one 2 MiB-aligned
#                    VMA advised MADV_HUGEPAGE (hg) and MADV_DONTFORK (dc);
#                    on a host whose THP mode is madvise or always (Debian:
#                    always) THP-eligible and, once touched, backed by 2 MiB
#                    pages (AnonHugePages), whatever shmem_enabled says
#   shared=on        a memfd (/memfd:sluice-ram), mapped shared
#   hugepages=on     a hugetlbfs memfd (/memfd:sluice-ram-huge); as root only,
#                    with 36 huge pages reserved for the run
# The vhost-user case (a memfd chosen without shared=on) is checked in
# vdrv_vhost_user.sh, against a backend that maps it.
. "$(dirname "$0")/lib.sh"
ECHO=$1
MIB=72 # no other mapping of sluice has this size
PID=
OLD_HP=
cleanup() {
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
	[ -n "$OLD_HP" ] && echo "$OLD_HP" >/proc/sys/vm/nr_hugepages
	rm -rf "$TEST_TMP"
}
trap cleanup EXIT

# start_echo ARGS...: sluice runs the echo guest, which then polls COM1 for a line.
start_echo() {
	rm -f "$TEST_TMP/in"
	mkfifo "$TEST_TMP/in"
	echo "+ sluice run --kernel echo.bin --serial stdio $* (in the background)"
	"$SLUICE" run --kernel "$ECHO" --serial stdio "$@" <"$TEST_TMP/in" >"$OUT" 2>"$ERR" &
	PID=$!
	exec 3>"$TEST_TMP/in"
	for _ in $(seq 200); do
		grep -q "echo: ready" "$OUT" && return 0
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	fail "the echo guest did not start"
}

# finish_echo: the guest gets its line and exits through the debug port.
finish_echo() {
	echo "ok" >&3
	exec 3>&-
	wait "$PID"
	STATUS=$?
	PID=
	echo "  exit status $STATUS"
	expect_status "$(debug_status 0)" "echo guest saw the newline"
}

# ram_smaps: the smaps entries of sluice's mappings of exactly $MIB MiB.
ram_smaps() {
	awk -v kb=$((MIB * 1024)) '
		function flush() { if (size == kb) printf "%s", buf }
		/^[0-9a-f]+-[0-9a-f]+ / { flush(); buf = ""; size = -1 }
		/^Size:/ { size = $2 }
		{ buf = buf $0 "\n" }
		END { flush() }' "/proc/$PID/smaps"
}

# check_ram: one mapping of guest RAM, 2 MiB aligned; sets VMA, HDR, FLAGS.
check_ram() {
	VMA=$(ram_smaps)
	[ "$(grep -c '^[0-9a-f]*-[0-9a-f]* ' <<<"$VMA")" = 1 ] ||
		fail "expected one $MIB MiB mapping of guest RAM, got: $VMA"
	HDR=$(head -n 1 <<<"$VMA")
	FLAGS=" $(sed -n 's/^VmFlags: *//p' <<<"$VMA") "
	echo "  guest RAM: $HDR"
	echo "  $(grep -E '^(Rss|AnonHugePages|ShmemPmdMapped|THPeligible):' <<<"$VMA" | tr -s ' ' | paste -sd' ')"
	echo "  VmFlags:$FLAGS"
	(($((16#${HDR%%-*})) % (2 << 20) == 0)) || fail "guest RAM is not 2 MiB aligned: $HDR"
}

field() { sed -n "s/^$1: *\([0-9]*\).*/\1/p" <<<"$VMA"; }
memfds() { ls -l "/proc/$PID/fd" 2>/dev/null | grep -c "memfd:$1 "; }

THP=$(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)
SHMEM=$(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/shmem_enabled 2>/dev/null)
echo "host THP: enabled=${THP:-none} shmem_enabled=${SHMEM:-none}"

# 1. Default: private anonymous.
start_echo --memory ${MIB}M
check_ram
awk '{ exit !($2 ~ /^rw.p$/ && ($6 == "" || $6 == "[anon:sluice-ram]")) }' <<<"$HDR" ||
	fail "guest RAM is not a private anonymous mapping: $HDR"
[[ $FLAGS == *" sh "* ]] && fail "guest RAM is mapped shared"
[[ $FLAGS == *" hg "* ]] || fail "guest RAM is not MADV_HUGEPAGE (no hg in VmFlags)"
[[ $FLAGS == *" dc "* ]] || fail "guest RAM is not MADV_DONTFORK (no dc in VmFlags)"
[ "$(memfds sluice-ram)" = 0 ] || fail "sluice holds a guest RAM memfd without needing one"
case $THP in
always | madvise)
	[ "$(field THPeligible)" = 1 ] || fail "guest RAM is not THP-eligible with THP '$THP'"
	[ "$(field AnonHugePages)" -gt 0 ] ||
		fail "touched guest RAM has no transparent huge pages with THP '$THP'"
	;;
*) echo "note: THP is '${THP:-absent}' here: huge page backing not checked" ;;
esac
finish_echo
expect_stdout "OK"

# 2. shared=on: a memfd.
start_echo --memory size=${MIB}M,shared=on
check_ram
[[ $HDR == *"/memfd:sluice-ram (deleted)" ]] || fail "guest RAM is not the memfd: $HDR"
[[ $FLAGS == *" sh "* ]] || fail "the memfd is not mapped shared"
[ "$(memfds sluice-ram)" = 1 ] || fail "sluice holds no guest RAM memfd"
finish_echo

# 3. hugepages=on: a hugetlbfs memfd.
if [ "$(id -u)" = 0 ] && [ -w /proc/sys/vm/nr_hugepages ]; then
	OLD_HP=$(cat /proc/sys/vm/nr_hugepages)
	echo $((OLD_HP + MIB / 2)) >/proc/sys/vm/nr_hugepages
	if [ "$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)" -ge $((MIB / 2)) ]; then
		start_echo --memory size=${MIB}M,hugepages=on
		check_ram
		[[ $HDR == *"/memfd:sluice-ram-huge (deleted)" ]] ||
			fail "guest RAM is not the hugetlbfs memfd: $HDR"
		[[ $FLAGS == *" ht "* ]] || fail "guest RAM is not a hugetlb mapping (no ht)"
		finish_echo
	else
		echo "note: could not reserve $((MIB / 2)) huge pages: hugetlbfs not checked"
	fi
	echo "$OLD_HP" >/proc/sys/vm/nr_hugepages
	OLD_HP=
fi
pass "guest RAM: private anonymous with THP by default, a memfd with shared=on, hugetlbfs with hugepages=on"
