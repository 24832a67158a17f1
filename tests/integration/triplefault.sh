#!/bin/bash
# SPDX-License-Identifier: MIT
# A triple fault stops the VM with status 4 and a register dump on stderr.
. "$(dirname "$0")/lib.sh"
TRIPLEFAULT=$1

run_sluice run --kernel "$TRIPLEFAULT" --serial stdio
expect_status 4 "triple fault"
expect_stdout "triplefault: loading an empty IDT"
expect_stderr "RIP"
pass "triple fault reported with registers"
