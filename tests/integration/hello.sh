#!/bin/bash
# SPDX-License-Identifier: MIT
# Flat real-mode guest: COM1 output and the debug-exit status.
. "$(dirname "$0")/lib.sh"
HELLO=$1

run_sluice run --kernel "$HELLO" --serial stdio
expect_status "$(debug_status 0x21)" "hello exits with 0x21"
expect_stdout "Hello from the sluice flat guest!"
[ "$(grep -c 'Hello from the sluice flat guest!' "$OUT")" = 1 ] || fail "greeting printed more than once"
pass "flat guest printed its greeting and exited with status $STATUS"
