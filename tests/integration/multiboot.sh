#!/bin/bash
# SPDX-License-Identifier: MIT
# Multiboot v1 entry: EAX = 0x2BADB002, EBX = multiboot_info.
. "$(dirname "$0")/lib.sh"
MB=$1

run_sluice run --kernel "$MB" --cmdline "mb-test root=none y=2" --serial stdio
expect_status "$(debug_status 0)" "1 = bad magic, 2 = no cmdline, 3 = no memory info"
expect_stdout "MULTIBOOT OK eax=0x2badb002"
# A loader may prefix the kernel name (GRUB and QEMU do): only the end is fixed.
grep -qE '^MULTIBOOT cmdline: (.* )?mb-test root=none y=2' "$OUT" || fail "command line not seen"
pass "multiboot guest saw its magic and command line"
