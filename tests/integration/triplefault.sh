#!/bin/bash
# SPDX-License-Identifier: MIT
# A triple fault stops the VM with status 4 and a register dump on stderr.
. "$(dirname "$0")/lib.sh"
TRIPLEFAULT=$1
TRIPLEFAULT_DE=$2

# int3: a triple fault on VT-x/AMD-V; on nested PVM hosts KVM's emulator
# reports an internal error instead. Both end the run with status 4.
run_sluice run --kernel "$TRIPLEFAULT" --serial stdio
expect_status 4 "triple fault or KVM internal error"
expect_stdout "triplefault: loading an empty IDT and executing int3"
expect_stderr "RIP"

# Divide error: KVM_EXIT_SHUTDOWN everywhere.
run_sluice run --kernel "$TRIPLEFAULT_DE" --serial stdio
expect_status 4 "triple fault"
expect_stdout "triplefault: loading an empty IDT and dividing by zero"
expect_stderr "RIP"
grep -qi 'triple fault' "$ERR" || fail "stderr does not say 'triple fault'"
pass "triple faults reported with registers"
