#!/bin/bash
# SPDX-License-Identifier: MIT
# Serial both ways: the guest polls LSR.DR, echoes input uppercased. The
# line is longer than the 16550's 16-byte FIFO, so dropped input shows.
. "$(dirname "$0")/lib.sh"
ECHO=$1

LINE='the quick brown fox jumps over the lazy dog 0123456789, pack my box with five dozen liquor jugs!'
WANT='THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG 0123456789, PACK MY BOX WITH FIVE DOZEN LIQUOR JUGS!'

INPUT="$LINE"$'\n' run_sluice run --kernel "$ECHO" --serial stdio
expect_status "$(debug_status 0)" "echo guest saw the newline"
expect_stdout "echo: ready"
expect_stdout "$WANT"
expect_stdout "echo: done"
pass "serial input echoed uppercased"
