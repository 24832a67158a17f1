#!/bin/bash
# SPDX-License-Identifier: MIT
# The benchmark guests: 20,000 writes to the COM1 scratch register and a
# read-back, ending by i8042 reset (status 0) or debug exit 0x31 (status 99).
. "$(dirname "$0")/lib.sh"
SCRATCH=$1
SCRATCH_F4=$2

run_sluice run --kernel "$SCRATCH" --serial none
expect_status 0 "scratch guest resets; status 3 = scratch register read-back failed"
run_sluice run --kernel "$SCRATCH_F4" --serial none
expect_status "$(debug_status 0x31)" "scratch_f4 exits through port 0xf4"
pass "scratch guests ran 20,000 PIO exits each"
