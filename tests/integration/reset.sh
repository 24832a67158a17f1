#!/bin/bash
# SPDX-License-Identifier: MIT
# i8042 reset (0xFE to port 0x64) ends the VM with status 0.
. "$(dirname "$0")/lib.sh"
RESET=$1

run_sluice run --kernel "$RESET" --serial stdio
expect_status 0 "i8042 reset"
expect_stdout "reset guest: resetting through the i8042"
pass "i8042 reset exits 0"
