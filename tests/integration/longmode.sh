#!/bin/bash
# SPDX-License-Identifier: MIT
# Long-mode bzImage guest: CPUID/MSR checks, and AP bring-up with INIT/SIPI
# when CPUS > 1. The guest's exit value names the first failed check
# (see the enum in tests/guests/lm_main.c).
. "$(dirname "$0")/lib.sh"
LM=$1
CPUS=${2:-1}

run_sluice run --kernel "$LM" --cpus "$CPUS" --cmdline "cpus=$CPUS" --serial stdio
expect_stdout "lm: long-mode guest up"
expect_stdout "SMP: $CPUS cpus up"
expect_stdout_not "FAIL"
expect_status "$(debug_status 0)" "all guest checks passed"
pass "long-mode guest checks passed with $CPUS vCPU(s)"
