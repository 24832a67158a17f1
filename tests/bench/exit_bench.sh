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
# Runs alternate sluice/QEMU so drift in the machine hits both alike.
#
# Measures:
#   wall      whole run, process start to exit (median of RUNS)
#   peak RSS  /usr/bin/time -f %M (median of RUNS)
#   Ir/exit   sluice userspace instructions per exit, from callgrind:
#             (Ir(20,000 writes) - Ir(0 writes)) / 20,000, and the whole
#             run's Ir / 20,002 exits
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
ROM=$BUILD/tests/guests/qemu_rom.bin

die() {
	echo "exit_bench: $*" >&2
	exit 1
}

for f in "$SLUICE" "$GUEST" "$GUEST0" "$ROM"; do
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

SLUICE_CMD=("$SLUICE" run --kernel "$GUEST" --memory "${MEMORY_MIB}M" --serial none)
QEMU_CMD=("$QEMU" -machine pc -accel kvm -m "$MEMORY_MIB" -smp 1
	-nodefaults -no-user-config -display none -serial null
	-device isa-debug-exit,iobase=0xf4,iosize=1 -bios "$ROM")

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
	if [ "$status" != 99 ]; then
		cat "$TMP/err" >&2
		die "$name exited with status $status, expected 99 (guest debug-exit 0x31)"
	fi
	echo "$(calc "$end - $start") $(tail -n 1 "$TMP/rss")" >>"$TMP/$name"
}

median() { # FILE COLUMN
	sort -g -k "$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END {
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# One warm-up run each (page cache, KVM module state), not counted.
measure warmup "${SLUICE_CMD[@]}"
measure warmup "${QEMU_CMD[@]}"
for ((i = 0; i < RUNS; i++)); do
	measure sluice "${SLUICE_CMD[@]}"
	measure qemu "${QEMU_CMD[@]}"
done

s_wall=$(median "$TMP/sluice" 1)
q_wall=$(median "$TMP/qemu" 1)
s_rss=$(median "$TMP/sluice" 2)
q_rss=$(median "$TMP/qemu" 2)

ir_total() { # CALLGRIND_OUT
	awk '/^(summary|totals):/ { print $2; exit }' "$1"
}

s_ir_exit="n/a"
s_ir_run="n/a"
if [ "$CALLGRIND" = 1 ]; then
	for g in "$GUEST" "$GUEST0"; do
		set +e
		valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.$(basename "$g")" \
			--smc-check=none --collect-systime=no \
			"$SLUICE" run --kernel "$g" --memory "${MEMORY_MIB}M" --serial none \
			>/dev/null 2>"$TMP/cg.err" </dev/null
		status=$?
		set -e
		[ "$status" = 99 ] || { cat "$TMP/cg.err" >&2; die "sluice under callgrind exited $status"; }
	done
	ir=$(ir_total "$TMP/cg.scratch_f4.bin")
	ir0=$(ir_total "$TMP/cg.scratch0_f4.bin")
	s_ir_exit=$(((ir - ir0) / EXITS))
	# 20,000 writes + the read-back + the debug exit.
	s_ir_run=$((ir / (EXITS + 2)))
fi

fmt_ms() { calc "$1 * 1000" %.1f; }
fmt_mib() { calc "$1 / 1024" %.1f; }
ratio() { calc "$1 / $2" %.2f; }
us_per_exit() { calc "$1 * 1000000 / $EXITS" %.1f; }

cat <<EOF
## Exit cost: $EXITS PIO exits (COM1 scratch register), median of $RUNS interleaved runs

| | sluice | QEMU | sluice/QEMU |
| --- | ---: | ---: | ---: |
| wall time, whole run (ms) | $(fmt_ms "$s_wall") | $(fmt_ms "$q_wall") | $(ratio "$s_wall" "$q_wall") |
| wall time per exit, upper bound (us) | $(us_per_exit "$s_wall") | $(us_per_exit "$q_wall") | |
| peak RSS (MiB) | $(fmt_mib "$s_rss") | $(fmt_mib "$q_rss") | $(ratio "$s_rss" "$q_rss") |
| VMM userspace Ir per exit (callgrind, marginal) | $s_ir_exit | | |
| VMM userspace Ir per exit (callgrind, whole run / $((EXITS + 2))) | $s_ir_run | | |

sluice: \`${SLUICE_CMD[*]}\`

QEMU ($("$QEMU" --version | head -n 1)): \`${QEMU_CMD[*]}\`

Reproduce: \`tests/bench/exit_bench.sh $BUILD\` (RUNS=$RUNS MEMORY_MIB=$MEMORY_MIB)
EOF
