#!/bin/bash
# SPDX-License-Identifier: MIT
# A multiboot ELF with segments below 1 MiB (code at 0x8000, more over every
# default boot data address, one on the last page of 64 MiB) boots: the guest
# checks its image arrived intact and that the boot data it got lies outside
# its segments with the right content. With less RAM than its segments need
# it is refused with one line.
. "$(dirname "$0")/lib.sh"
MB=$1

MOD=$TEST_TMP/module
{ printf 'SLUICE-MB-MODULE'; head -c 5000 /dev/zero | tr '\0' 'm'; } >"$MOD"
MOD_SIZE=$(stat -c %s "$MOD")

run_sluice run --kernel "$MB" --memory 64M --initrd "$MOD" --cmdline "mb-low x=1" \
	--serial stdio
expect_status "$(debug_status 0)" "1 magic, 2 flags, 3 modules, 4-13 boot data on the image, 20-25 image damaged, 26 mmap, 27 module, 28 loader name"
expect_stdout "MBLOW OK eax=0x2badb002"
grep -qE '^MBLOW cmdline: (.* )?mb-low x=1' "$OUT" || fail "command line not seen"
expect_stdout "MBLOW loader: sluice"
expect_stdout "MBLOW mem_upper KiB=0x0000fc00"
# The module is reported with its exact size.
line=$(grep -oE 'MBLOW module 0x[0-9a-f]{8}-0x[0-9a-f]{8}' "$OUT") || fail "no module line"
start=$((16#${line:15:8})); end=$((16#${line:26:8}))
[ $((end - start)) -eq "$MOD_SIZE" ] || fail "module is $((end - start)) bytes, file has $MOD_SIZE"
expect_stdout "MBLOW PASS"
echo "  $(grep -m1 'MBLOW OK' "$OUT" | tr -d '\r'); $line"

# 32 MiB: the segment on the last page of 64 MiB is RAM the guest does not have.
run_sluice run --kernel "$MB" --memory 32M --serial stdio
expect_status 2 "a segment beyond RAM must be refused at load"
expect_stderr "does not fit in 32 MiB of RAM"
[ "$(wc -l <"$ERR")" -eq 1 ] || fail "expected one error line"
pass "multiboot guest linked at 0x8000 booted; boot data placed around its segments"
