/* SPDX-License-Identifier: MIT */
/*
 * Benchmark guest: SCRATCH_COUNT writes to the COM1 scratch register, a
 * read-back of the last value, then the end: i8042 reset by default, the
 * debug-exit port with -DEXIT_F4 (the ending QEMU can match). A failed
 * read-back exits with 1 (status 3).
 */
#include "rm_lib.inc"
#include "scratch_loop.inc"

	.section .text.start, "ax"
	.globl	_start

#ifndef SCRATCH_COUNT
#define SCRATCH_COUNT 20000
#endif

_start:
	cli
	cld
	scratch_loop SCRATCH_COUNT
#if SCRATCH_COUNT > 0
	/* The last value written is 1 (CX counts down to 1). */
	mov	$COM1_SCR, %dx
	in	%dx, %al
	cmp	$1, %al
	je	1f
	rm_exit	1
1:
#endif
#ifdef EXIT_F4
	rm_exit	EXIT_SCRATCH_DONE
#else
	mov	$I8042_RESET, %al
	out	%al, $I8042_CMD
	rm_exit	EXIT_VMM_DID_NOT_STOP
#endif

