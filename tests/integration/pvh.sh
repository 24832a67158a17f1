#!/bin/bash
# SPDX-License-Identifier: MIT
# PVH entry: 32-bit protected mode with EBX = hvm_start_info.
. "$(dirname "$0")/lib.sh"
PVH=$1

run_sluice run --kernel "$PVH" --cmdline "pvh-test console=ttyS0 x=1" --serial stdio
expect_status "$(debug_status 0)" "1 = bad magic, 2 = no cmdline, 3 = empty memory map"
expect_stdout "PVH OK"
expect_stdout "magic=0x336ec578"
expect_stdout "PVH cmdline: pvh-test console=ttyS0 x=1"
pass "PVH guest saw its start info and command line"
