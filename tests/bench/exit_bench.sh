#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Exit-cost benchmark: sluice against QEMU on the same guest code.
#
# Both VMMs run 20,000 byte writes to the COM1 scratch register (one PIO
# exit to userspace each), read the register back, and end through the
# isa-debug-exit port 0xf4 with 0x31 (status 99; QEMU's own errors are 1):
#   sluice: tests/guests/scratch_f4.bin (flat binary at 0x1000:0000)
#   QEMU:   tests/guests/qemu_rom.bin   (64 KiB -bios ROM, same loop)
# Baselines with 0 writes (scratch0_f4.bin, qemu_rom0.bin) separate the
# per-exit cost from start-up and teardown. Runs rotate through the four
# commands so drift in the machine hits all of them alike.
#
# Measures (medians of RUNS runs):
#   wall      whole run, process start to exit; and per exit:
#             (wall(20,000 writes) - wall(0 writes)) / 20,000
#   peak RSS  /usr/bin/time -f %M of the 20,000-write run
#   Ir/exit   VMM userspace instructions per exit, from callgrind:
#             (Ir(20,000 writes) - Ir(0 writes)) / 20,000
#
# Usage: tests/bench/exit_bench.sh [BUILD_DIR]   (default: build)
# Env:   RUNS=5  QEMU=qemu-system-x86_64  MEMORY_MIB=256  CALLGRIND=1
# Needs: qemu-system-x86 time valgrind (Debian packages).

set -euo pipefail

BUILD=${1:-build}
RUNS=${RUNS:-5}
QEMU=${QEMU:-qemu-system-x86_64}
MEMORY_MIB=${MEMORY_MIB:-256}
CALLGRIND=${CALLGRIND:-1}
EXITS=20000

SLUICE=$BUILD/sluice
GUEST=$BUILD/tests/guests/scratch_f4.bin
GUEST0=$BUILD/tests/guests/scratch0_f4.bin
GUEST_RESET=$BUILD/tests/guests/scratch.bin # the same loop ending in an i8042 reset
ROM=$BUILD/tests/guests/qemu_rom.bin
ROM0=$BUILD/tests/guests/qemu_rom0.bin

die() {
	echo "exit_bench: $*" >&2
	exit 1
}

for f in "$SLUICE" "$GUEST" "$GUEST0" "$ROM" "$ROM0"; do
	[ -e "$f" ] || die "missing $f (build first: ninja -C $BUILD)"
done
command -v "$QEMU" >/dev/null || die "$QEMU not found (apt-get install qemu-system-x86)"
[ -x /usr/bin/time ] || die "/usr/bin/time not found (apt-get install time)"
if [ "$CALLGRIND" = 1 ]; then
	command -v valgrind >/dev/null || die "valgrind not found (apt-get install valgrind)"
fi
[ -c /dev/kvm ] || die "/dev/kvm is missing"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/exit-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# sluice_cmd GUEST / qemu_cmd ROM: set CMD to the command line.
sluice_cmd() {
	CMD=("$SLUICE" run --kernel "$1" --memory "${MEMORY_MIB}M" --serial none)
}
# shellcheck disable=SC2054 # the commas are QEMU option syntax
qemu_cmd() {
	CMD=("$QEMU" -machine pc -accel kvm -m "$MEMORY_MIB" -smp 1
		-nodefaults -no-user-config -display none -serial null
		-device isa-debug-exit,iobase=0xf4,iosize=1 -bios "$1")
}

calc() { # EXPR [PRINTF_FORMAT]
	awk "BEGIN { printf \"${2:-%.6f}\", $1 }"
}

# measure NAME CMD...: appends "wall_seconds rss_kib" to $TMP/NAME; the
# guest must end with debug-exit 0x31, i.e. status 99.
measure() {
	local name=$1 start end status
	shift
	start=$EPOCHREALTIME
	set +e
	/usr/bin/time -f '%M' -o "$TMP/rss" "$@" >/dev/null 2>"$TMP/err" </dev/null
	status=$?
	set -e
	end=$EPOCHREALTIME
	if [ "$status" != "${EXPECT:-99}" ]; then
		cat "$TMP/err" >&2
		die "$name exited with status $status, expected ${EXPECT:-99}"
	fi
	echo "$(calc "$end - $start") $(tail -n 1 "$TMP/rss")" >>"$TMP/$name"
}

median() { # FILE COLUMN
	sort -g -k "$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END {
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# One warm-up run each (page cache, KVM module state), not counted.
sluice_cmd "$GUEST"
measure warmup "${CMD[@]}"
qemu_cmd "$ROM"
measure warmup "${CMD[@]}"
for ((i = 0; i < RUNS; i++)); do
	sluice_cmd "$GUEST"
	measure sluice "${CMD[@]}"
	qemu_cmd "$ROM"
	measure qemu "${CMD[@]}"
	sluice_cmd "$GUEST0"
	measure sluice0 "${CMD[@]}"
	sluice_cmd "$GUEST_RESET"
	EXPECT=0 measure sluice_reset "${CMD[@]}"
	qemu_cmd "$ROM0"
	measure qemu0 "${CMD[@]}"
done

s_wall=$(median "$TMP/sluice" 1)
q_wall=$(median "$TMP/qemu" 1)
s_wall0=$(median "$TMP/sluice0" 1)
q_wall0=$(median "$TMP/qemu0" 1)
s_rss=$(median "$TMP/sluice" 2)
r_wall=$(median "$TMP/sluice_reset" 1)
r_rss=$(median "$TMP/sluice_reset" 2)
q_rss=$(median "$TMP/qemu" 2)

# callgrind_ir OUT CMD...: runs CMD under callgrind, prints its total Ir.
callgrind_ir() {
	local out=$1 status
	shift
	set +e
	valgrind --tool=callgrind --callgrind-out-file="$out" --smc-check=none \
		--collect-systime=no "$@" >/dev/null 2>"$TMP/cg.err" </dev/null
	status=$?
	set -e
	[ "$status" = 99 ] || { cat "$TMP/cg.err" >&2; die "$* under callgrind exited $status"; }
	awk '/^(summary|totals):/ { print $2; exit }' "$out"
}

s_ir_exit=n/a
q_ir_exit=n/a
ir_ratio=n/a
if [ "$CALLGRIND" = 1 ]; then
	sluice_cmd "$GUEST"
	s_ir=$(callgrind_ir "$TMP/cg.sluice" "${CMD[@]}")
	sluice_cmd "$GUEST0"
	s_ir0=$(callgrind_ir "$TMP/cg.sluice0" "${CMD[@]}")
	qemu_cmd "$ROM"
	q_ir=$(callgrind_ir "$TMP/cg.qemu" "${CMD[@]}")
	qemu_cmd "$ROM0"
	q_ir0=$(callgrind_ir "$TMP/cg.qemu0" "${CMD[@]}")
	s_ir_exit=$(((s_ir - s_ir0) / EXITS))
	q_ir_exit=$(((q_ir - q_ir0) / EXITS))
	ir_ratio=$(calc "$s_ir_exit / $q_ir_exit" %.2f)
fi

fmt_ms() { calc "$1 * 1000" %.1f; }
fmt_mib() { calc "$1 / 1024" %.1f; }
ratio() { calc "$1 / $2" %.2f; }
per_exit_us() { calc "($1 - $2) * 1000000 / $EXITS" %.2f; }

sluice_cmd "$GUEST"
s_cmd="${CMD[*]}"
qemu_cmd "$ROM"
q_cmd="${CMD[*]}"

cat <<END
## Exit cost: $EXITS PIO exits (COM1 scratch register), median of $RUNS interleaved runs

| | sluice | QEMU | sluice/QEMU |
| --- | ---: | ---: | ---: |
| wall time, whole run (ms) | $(fmt_ms "$s_wall") | $(fmt_ms "$q_wall") | $(ratio "$s_wall" "$q_wall") |
| wall time, 0-write baseline run (ms) | $(fmt_ms "$s_wall0") | $(fmt_ms "$q_wall0") | $(ratio "$s_wall0" "$q_wall0") |
| wall time per exit (us) | $(per_exit_us "$s_wall" "$s_wall0") | $(per_exit_us "$q_wall" "$q_wall0") | $(ratio "($s_wall - $s_wall0)" "($q_wall - $q_wall0)") |
| peak RSS (MiB) | $(fmt_mib "$s_rss") | $(fmt_mib "$q_rss") | $(ratio "$s_rss" "$q_rss") |
| VMM userspace instructions per exit (callgrind Ir) | $s_ir_exit | $q_ir_exit | $ir_ratio |

The same 20,000 writes ending in an i8042 reset (\`scratch.bin\`, status 0), sluice alone
(QEMU reboots on reset instead of exiting): whole run $(fmt_ms "$r_wall") ms, peak RSS $(fmt_mib "$r_rss") MiB.

sluice: \`$s_cmd\`

QEMU ($("$QEMU" --version | head -n 1)): \`$q_cmd\`

Reproduce: \`RUNS=$RUNS MEMORY_MIB=$MEMORY_MIB tests/bench/exit_bench.sh $BUILD\`
END
