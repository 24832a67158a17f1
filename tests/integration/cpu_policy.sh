#!/bin/bash
# SPDX-License-Identifier: MIT
# An MSR given a value by a --cpu-policy file reads back that value in the
# guest (docs/cpu-policy.md), while other unknown MSRs still raise #GP.
. "$(dirname "$0")/lib.sh"
LM=$1

MSR=0x12345679
VAL=0x1122334455667788
POLICY=$TEST_TMP/policy.txt
cat >"$POLICY" <<POL
# integration test policy
msr $MSR value $VAL
POL

run_sluice run --kernel "$LM" --cpu-policy "$POLICY" --cmdline "cpus=1 msr=$MSR:$VAL" --serial stdio
expect_stdout "PASS: policy MSR reads back its configured value"
expect_stdout "PASS: rdmsr of an unknown MSR raises #GP"
expect_stdout_not "FAIL"
expect_status "$(debug_status 0)" "all guest checks passed"
pass "policy MSR $MSR reads $VAL in the guest"
